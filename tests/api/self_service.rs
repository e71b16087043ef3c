//! Self-service: `users.register`, `users.deleteOwnAccount`, `users.forgotPassword` and the
//! `resetPassword` method, `settings.public` — with the bodies Rocket.Chat's clients send.

use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
use crate::rate_limit::{assert_too_many, limited_app, rate_headers};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokend::config::{Secret, SmtpSettings};

const REGISTER: &str = "/api/v1/users.register";
const DELETE_OWN: &str = "/api/v1/users.deleteOwnAccount";
const FORGOT: &str = "/api/v1/users.forgotPassword";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

fn carol() -> Value {
    json!({"username": "carol", "email": "carol@example.com", "pass": "carol-password", "name": "Carol"})
}

async fn setting(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.get("/api/v1/settings.public", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = body["settings"].as_array().unwrap().iter().find(|s| s["_id"] == id).cloned();
    found.unwrap_or_else(|| panic!("no {id} in {body}"))["value"].clone()
}

#[tokio::test]
async fn registration_is_off_by_default_and_says_so() {
    let app = spawn_app().await;
    let mut refused = meteor_error("error-user-registration-disabled", "User registration is disabled");
    refused["details"] = json!({"method": "registerUser"});
    assert_eq!(app.post(REGISTER, carol(), None).await, (BAD, refused));
    assert_eq!(app.user_rows(), 1);
    assert_eq!(setting(&app, "Accounts_RegistrationForm").await, "Disabled");
}

#[tokio::test]
async fn with_registration_on_anyone_registers_a_plain_user_who_then_logs_in() {
    let app = spawn_app_with(|c| c.registration = true).await;
    assert_eq!(setting(&app, "Accounts_RegistrationForm").await, "Public");
    let (status, body) = app.post(REGISTER, carol(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The fields `parseJsonQuery` leaves an anonymous caller: no address, roles or dates.
    let id = body["user"]["_id"].as_str().expect("an id").to_string();
    let expected = json!({"_id": id, "username": "carol", "type": "user", "status": "offline", "active": true,
        "name": "Carol"});
    assert_eq!(body, json!({"user": expected, "success": true}));
    let carol_session = app.login("carol", "carol-password").await;
    let (_, me) = app.get("/api/v1/me", Some(&carol_session)).await;
    assert_eq!(
        (&me["roles"], &me["emails"]),
        (&json!(["user"]), &json!([{"address": "carol@example.com", "verified": false}]))
    );
    let again = app.post(REGISTER, carol(), Some(&carol_session)).await;
    assert_eq!(again, (BAD, json!({"success": false, "error": "Logged in users can not register again."})));
    let taken = app.post(REGISTER, carol(), None).await;
    assert_eq!(taken, (BAD, json!({"success": false, "error": "Username is already in use"})));
    let mut same_address = carol();
    same_address["username"] = json!("carol2");
    let taken = app.post(REGISTER, same_address, None).await;
    assert_eq!(taken, (BAD, json!({"success": false, "error": "Email already exists"})));
    let mut short = carol();
    short["username"] = json!("dave");
    short["email"] = json!("dave@example.com");
    short["pass"] = json!("short");
    let mut policy = meteor_error(
        "error-password-policy-not-met",
        "The password provided does not meet the server's password policy.",
    );
    policy["details"] = json!([{"error": "error-password-policy-not-met-minLength",
        "message": "The password does not meet the minimum length password policy."}]);
    assert_eq!(app.post(REGISTER, short, None).await, (BAD, policy));
    // `isUserRegisterParamsPOST` allows no other fields: no roles from an anonymous caller.
    let mut admin = carol();
    admin["username"] = json!("mallory");
    admin["email"] = json!("mallory@example.com");
    admin["roles"] = json!(["admin"]);
    let extra = meteor_error("invalid-params", "must NOT have additional properties");
    assert_eq!(app.post(REGISTER, admin, None).await, (BAD, extra));
    let missing = meteor_error("invalid-params", "must have required property 'email'");
    let no_email = json!({"username": "mallory", "pass": "mallory-password"});
    assert_eq!(app.post(REGISTER, no_email, None).await, (BAD, missing));
    assert_eq!(app.user_rows(), 2, "only carol was registered");
}

#[tokio::test]
async fn the_secret_url_form_needs_the_secret() {
    let app = spawn_app_with(|c| {
        c.registration = true;
        c.registration_secret = Some(Secret::new("s3cret-url"));
    })
    .await;
    assert_eq!(setting(&app, "Accounts_RegistrationForm").await, "Secret URL");
    let mut refused =
        meteor_error("error-user-registration-secret", "User registration is only allowed via Secret URL");
    refused["details"] = json!({"method": "registerUser"});
    assert_eq!(app.post(REGISTER, carol(), None).await, (BAD, refused.clone()));
    let mut wrong_secret = carol();
    wrong_secret["secret"] = json!("not-the-secret");
    assert_eq!(app.post(REGISTER, wrong_secret, None).await, (BAD, refused));
    assert_eq!(app.user_rows(), 1);
    let mut with_secret = carol();
    with_secret["secret"] = json!("s3cret-url");
    assert_eq!(app.post(REGISTER, with_secret, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn deleting_ones_own_account_needs_the_setting_the_password_and_a_login_token() {
    let app = spawn_app_with(|c| c.delete_own_account = true).await;
    let bob = app.user_session("bob").await;
    let body = |pw: &str| json!({"password": two_factor_code(pw)});
    let mut wrong = meteor_error("error-invalid-password", "Invalid password");
    wrong["details"] = json!({"method": "deleteUserOwnAccount"});
    assert_eq!(app.post(DELETE_OWN, body("wrong-password"), Some(&bob)).await, (BAD, wrong));
    let pat = app.generate_pat(&bob, "bob-password", "ci", true).await;
    let reason = "Personal access tokens cannot manage tokens or credentials; log in";
    let pat_refused = (BAD, meteor_error("error-login-token-required", reason));
    assert_eq!(app.post(DELETE_OWN, body("bob-password"), Some(&pat)).await, pat_refused);
    let required = json!({"success": false, "error": "Body parameter \"password\" is required."});
    assert_eq!(app.post(DELETE_OWN, json!({}), Some(&bob)).await, (BAD, required));
    assert_eq!(
        app.post(DELETE_OWN, body("bob-password"), Some(&bob)).await,
        (StatusCode::OK, json!({"success": true}))
    );
    assert!(!app.authenticates(&bob).await && !app.authenticates(&pat).await);
    assert_eq!(app.user_rows(), 1);
    // The last admin cannot delete themself.
    let mut last_admin = meteor_error("error-action-not-allowed", "Leaving the app without admins is not allowed.");
    last_admin["details"] = json!({"method": "deleteUser", "action": "Remove_last_admin"});
    assert_eq!(app.post(DELETE_OWN, body(ADMIN_PASSWORD), Some(&app.admin)).await, (BAD, last_admin));
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn deleting_ones_own_account_is_off_by_default() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let refused = app.post(DELETE_OWN, json!({"password": two_factor_code("bob-password")}), Some(&bob)).await;
    assert_eq!(refused, (BAD, meteor_error("error-not-allowed", "Not allowed")));
    // Rocket.Chat asks for the password before it looks at the setting.
    let required = json!({"success": false, "error": "Body parameter \"password\" is required."});
    assert_eq!(app.post(DELETE_OWN, json!({}), Some(&bob)).await, (BAD, required));
    assert!(app.authenticates(&bob).await);
}

/// The link's token, read out of the e-mail.
fn reset_token(mail: &Received) -> String {
    let data = mail.data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let at = data.find("#reset-password/").expect("a reset link") + "#reset-password/".len();
    data[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Value {
    let message = json!({"msg": "method", "id": "9", "method": "resetPassword", "params": [token, password]});
    let body = json!({"message": message.to_string()});
    let (status, body) = app.post("/api/v1/method.callAnon/resetPassword", body, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(body["message"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_through_the_emailed_link() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpSettings::parse(&sink.url(), "tokend <noreply@example.com>").unwrap();
    let app = spawn_app_with(move |c| c.smtp = Some(smtp)).await;
    let bob = app.user_session("bob").await;
    let answer = app.post(FORGOT, json!({"email": "nobody@example.com"}), None).await;
    assert_eq!(answer, (StatusCode::OK, json!({"success": true})), "an unknown address looks the same");
    assert_eq!(app.post(FORGOT, json!({"email": "Bob@Example.com"}), None).await, answer);
    sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.count(), 1, "only the known address gets mail");
    let mail = sink.last();
    assert_eq!(mail.rcpt_to, ["<bob@example.com>"]);
    let token = reset_token(&mail);
    assert_eq!(token.len(), 43, "{}", mail.data);
    let stored: i64 = app.store().query_row("SELECT count(*) FROM password_resets", params![], |r| r.get(0)).unwrap();
    assert_eq!(stored, 1);
    let hashes: Vec<Vec<u8>> =
        app.store().query("SELECT token_hash FROM password_resets", params![], |r| r.get(0)).unwrap();
    let plain = hashes.iter().filter(|h| h.windows(token.len()).any(|w| w == token.as_bytes())).count();
    assert_eq!(plain, 0, "only a hash of the token is stored");
    let short = reset(&app, &token, "short").await;
    assert_eq!(short["error"]["error"], "error-password-policy-not-met", "{short}");
    let done = reset(&app, &token, "bobs new password").await;
    assert!(done["result"]["token"].is_string(), "the user is logged in: {done}");
    assert!(!app.authenticates(&bob).await, "the reset ends every login token");
    app.login("bob", "bobs new password").await;
    let again = reset(&app, &token, "yet another password").await;
    // Meteor's `resetPassword` refusal, as DDP sends it.
    let expired = json!({"isClientSafe": true, "error": 403, "reason": "Token expired", "message": "Token expired [403]",
        "errorType": "Meteor.Error"});
    assert_eq!(again, json!({"msg": "result", "id": "9", "error": expired}));
    // Parameters Meteor's `check` refuses, and the digest tokend cannot check its policy on.
    let message = |params: Value| {
        json!({"message": json!({"msg": "method", "id": "9", "method": "resetPassword",
        "params": params}).to_string()})
    };
    let call = |params: Value| app.post("/api/v1/method.callAnon/resetPassword", message(params), None);
    let (_, answer) = call(json!([7, "a password"])).await;
    let match_failed = json!({"isClientSafe": true, "error": 400, "reason": "Match failed",
        "message": "Match failed [400]", "errorType": "Meteor.Error"});
    let inner: Value = serde_json::from_str(answer["message"].as_str().unwrap()).unwrap();
    assert_eq!(inner, json!({"msg": "result", "id": "9", "error": match_failed}));
    let (_, answer) = call(json!([token, {"digest": "0".repeat(64), "algorithm": "sha-256"}])).await;
    let inner: Value = serde_json::from_str(answer["message"].as_str().unwrap()).unwrap();
    assert_eq!(inner["error"]["error"], "invalid-params", "{inner}");
    let missing = app.post(FORGOT, json!({}), None).await;
    assert_eq!(missing, (BAD, json!({"success": false, "error": "The 'email' param is required"})));
}

#[tokio::test]
async fn an_expired_link_does_not_work() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpSettings::parse(&sink.url(), "tokend <noreply@example.com>").unwrap();
    let app = spawn_app_with(move |c| c.smtp = Some(smtp)).await;
    app.user_session("bob").await;
    app.post(FORGOT, json!({"email": "bob@example.com"}), None).await;
    sink.wait_for(1).await;
    let token = reset_token(&sink.last());
    app.store().execute("UPDATE password_resets SET expires_at = expires_at - 7200000", params![]).unwrap();
    let late = reset(&app, &token, "bobs new password").await;
    assert_eq!(late["error"]["reason"], "Token expired", "{late}");
    app.login("bob", "bob-password").await;
}

/// Issue 16's anonymous routes are counted like login, each on its own window: a visitor
/// cannot register accounts, request reset mails or try passwords over the DDP bridge
/// without limit.
#[tokio::test]
async fn registration_password_resets_and_the_ddp_login_are_limited_like_login() {
    let app = limited_app(2, |c| c.registration = true).await;
    let register = |n: u32| {
        json!({"username": format!("visitor{n}"), "email": format!("v{n}@example.com"),
        "pass": "visitor-password"})
    };
    let ddp = json!({"message": json!({"msg": "method", "id": "1", "method": "login",
        "params": [{"user": {"username": "admin"}, "password": "wrong-password"}]}).to_string()});
    let cases = [
        ("/api/v1/users.register", vec![register(1), register(2), register(3)]),
        ("/api/v1/users.forgotPassword", vec![json!({"email": "v1@example.com"}); 3]),
        ("/api/v1/method.callAnon/login", vec![ddp.clone(), ddp.clone(), ddp]),
    ];
    for (path, bodies) in cases {
        let mut statuses = Vec::new();
        for body in bodies {
            let response = app.client.post(app.url(path)).json(&body).send().await.unwrap();
            statuses.push(response.status());
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                let (_, left, reset) = rate_headers(&response).expect("headers on the refusal");
                assert_eq!(left, 0);
                assert_too_many(&response.json().await.unwrap(), reset);
            }
        }
        assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS], "{path}");
    }
    assert_eq!(app.user_rows(), 3, "the refused registration created nobody");
}

/// The answer never waits for the mail: with an SMTP server that accepts the connection and
/// then says nothing, a known address is answered as fast as an unknown one.
#[tokio::test]
async fn a_forgotten_password_is_answered_at_once_even_when_smtp_hangs() {
    let sink = SmtpSink::silent().await;
    let smtp = SmtpSettings::parse(&sink.url(), "tokend <noreply@example.com>").unwrap();
    let app = spawn_app_with(move |c| c.smtp = Some(smtp)).await;
    app.user_session("bob").await;
    for email in ["bob@example.com", "nobody@example.com"] {
        let started = std::time::Instant::now();
        let answer = app.post(FORGOT, json!({"email": email}), None).await;
        assert_eq!(answer, (StatusCode::OK, json!({"success": true})), "{email}");
        assert!(started.elapsed() < Duration::from_secs(2), "{email} waited {:?}", started.elapsed());
    }
}
