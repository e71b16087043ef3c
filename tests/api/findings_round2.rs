//! Regression tests for the second security review (issues 15b–18): each test failed on the
//! code as it landed and names the attack it stands for.

use crate::helpers::*;
use crate::helpers_smtp::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokend::config::{RateLimitScope, SmtpSettings};

const FORGOT: &str = "/api/v1/users.forgotPassword";

async fn app_with_mail(sink: &SmtpSink) -> TestApp {
    let smtp = SmtpSettings::parse(&sink.url(), "tokend <noreply@example.com>").unwrap();
    spawn_app_with(move |c| c.smtp = Some(smtp)).await
}

/// Asks for a reset link for `email` and reads its token out of the `n`th e-mail.
async fn reset_link(app: &TestApp, sink: &SmtpSink, email: &str, n: usize) -> String {
    let (status, body) = app.post(FORGOT, json!({"email": email}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sink.wait_for(n).await;
    let data = sink.last().data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = data.find("#reset-password/").expect("a reset link") + "#reset-password/".len();
    data[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// The Meteor `resetPassword` method over `method.callAnon`: the decoded DDP answer.
async fn reset(app: &TestApp, token: &str, password: &str) -> Value {
    let message = json!({"msg": "method", "id": "1", "method": "resetPassword", "params": [token, password]});
    let (status, body) =
        app.post("/api/v1/method.callAnon/resetPassword", json!({"message": message.to_string()}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(body["message"].as_str().unwrap()).unwrap()
}

fn assert_link_dead(answer: &Value) {
    assert_eq!(
        (&answer["error"]["error"], &answer["error"]["reason"]),
        (&json!(403), &json!("Token expired")),
        "{answer}"
    );
}

async fn admin_update(app: &TestApp, user_id: &str, data: Value) {
    let (status, body) =
        app.post("/api/v1/users.update", json!({"userId": user_id, "data": data}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Attack: a reset link mailed to an address the account no longer has. Bob's old mailbox
/// (lost, shared, or the reason his address was changed) received a link; after the address
/// changed, whoever reads the old mailbox still takes the account over. Meteor refuses a
/// reset token whose address is no longer the user's.
#[tokio::test]
async fn a_reset_link_dies_when_the_address_it_went_to_changes() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let old_link = reset_link(&app, &sink, "bob@example.com", 1).await;
    admin_update(&app, &bob, json!({"email": "bob.new@example.com"})).await;
    assert_link_dead(&reset(&app, &old_link, "attacker-chosen-pw").await);
    app.login("bob", "bob-password").await;
    // A link to the new address still works.
    let new_link = reset_link(&app, &sink, "bob.new@example.com", 2).await;
    let done = reset(&app, &new_link, "bobs own new password").await;
    assert!(done["result"]["token"].is_string(), "{done}");
}

/// Attack: a reset link outliving the owner's response to a compromise. Bob (or an admin)
/// changes his password, or an admin deactivates him; a link requested before still sets a
/// password of the requester's choosing.
#[tokio::test]
async fn a_password_change_or_a_deactivation_ends_outstanding_reset_links() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(&sink).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let link = reset_link(&app, &sink, "bob@example.com", 1).await;
    admin_update(&app, &bob, json!({"password": "bob-second-password"})).await;
    assert_link_dead(&reset(&app, &link, "attacker-chosen-pw").await);
    app.login("bob", "bob-second-password").await;

    let link = reset_link(&app, &sink, "bob@example.com", 2).await;
    let deactivate = json!({"userId": bob, "activeStatus": false});
    let (status, body) = app.post("/api/v1/users.setActiveStatus", deactivate, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_link_dead(&reset(&app, &link, "attacker-chosen-pw").await);
    let reactivate = json!({"userId": bob, "activeStatus": true});
    let (status, body) = app.post("/api/v1/users.setActiveStatus", reactivate, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.login("bob", "bob-second-password").await;
}

/// Attack: password spraying past the per-address limit. `method.callAnon/login` is counted
/// by `TOKEND_RATE_LIMIT=on`, but the same `login` method over `method.call` (any valid
/// token of any account opens it) was not, and a wrong password there answers 200, so the
/// failed-authentication counter never saw it either.
#[tokio::test]
async fn passwords_guessed_over_method_call_are_rate_limited_like_any_login() {
    let app = spawn_app_with(|c| {
        c.limits.rate_limit.scope = RateLimitScope::Sensitive;
        c.limits.rate_limit.calls = 3;
        c.login_guard.enabled = false;
    })
    .await;
    app.create_user("mallory", "mallory-password", &["user"]).await;
    let mallory = app.login("mallory", "mallory-password").await;
    let guess = |n: usize| {
        let login = json!({"user": {"username": "admin"}, "password": format!("guess-number-{n}")});
        let message = json!({"msg": "method", "id": "1", "method": "login", "params": [login]});
        json!({"message": message.to_string()})
    };
    let mut statuses = Vec::new();
    for n in 0..5 {
        let (status, _) = app.post("/api/v1/method.call/login", guess(n), Some(&mallory)).await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], [StatusCode::OK; 3], "{statuses:?}");
    assert_eq!(&statuses[3..], [StatusCode::TOO_MANY_REQUESTS; 2], "{statuses:?}");
}

/// Attack: outliving an expiring SAYMON API token. A token made to expire (issue 17) opened
/// `POST /node/api/users/session {"auth-token"}`, and the session it got lived the full
/// login-token lifetime (90 days): the expiry bought nothing. The read-only scope was
/// already held to the same rule ("a session would outgrow its scope").
#[tokio::test]
async fn a_session_opened_with_an_expiring_api_token_ends_when_the_token_does() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // Whole seconds, two to three from now.
    let expires_at = (now / 1000 + 3) * 1000;
    let body = json!({"expiresAt": tokend::clock::iso(expires_at)});
    let path = format!("/node/api/users/{bob}/auth-token");
    let (status, token) = app.send(app.as_admin(reqwest::Method::POST, &path).json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token.as_str().unwrap().to_string();
    let (sid, _) = app.saymon_login(json!({"auth-token": token})).await;
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK);
    let wait = expires_at - now + 300;
    tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    assert_eq!(app.current_by_token(&token).await.0, StatusCode::UNAUTHORIZED, "the token has expired");
    let (status, body) = app.current_by_sid(&sid).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session outlived its token: {body}");
    // A session opened with a password still gets the full lifetime.
    let (sid, _) = app.saymon_login(json!({"login": "bob", "password": "bob-password"})).await;
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK);
}
