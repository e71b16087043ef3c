//! E-mail 2FA over real SMTP (spec §10.3, §10.5, §10.6): codes reach a loopback SMTP sink,
//! the tests read them out of the message, and use them to log in.

use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokend::config::SmtpSettings;

pub const LOGIN: &str = "/api/v1/login";
pub const ENABLE: &str = "/api/v1/users.2fa.enableEmail";
const DISABLE: &str = "/api/v1/users.2fa.disableEmail";
pub const SEND: &str = "/api/v1/users.2fa.sendEmailCode";
pub const FROM: &str = "tokend <noreply@example.com>";

pub fn password(name: &str) -> String {
    format!("{name}-password")
}

/// A server sending mail through `smtp_url`.
pub async fn app_mailing_to(smtp_url: &str) -> TestApp {
    let smtp = SmtpSettings::parse(smtp_url, FROM).unwrap();
    spawn_app_with(move |c| c.smtp = Some(smtp)).await
}

/// A user with a verified address `<name>@example.com`, logged in.
pub async fn verified_user(app: &TestApp, name: &str) -> Session {
    let body = json!({
        "username": name, "password": password(name), "name": name,
        "email": format!("{name}@example.com"), "verified": true, "roles": ["user"],
    });
    let (status, body) = app.post("/api/v1/users.create", body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "users.create {name}: {body}");
    app.login(name, &password(name)).await
}

/// `verified_user` with e-mail 2FA switched on.
pub async fn email_user(app: &TestApp, name: &str) -> Session {
    let session = verified_user(app, name).await;
    let (status, body) = app.post(ENABLE, json!({}), Some(&session)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    session
}

pub async fn login(app: &TestApp, name: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"user": name, "password": password(name)});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.post(LOGIN, body, None).await
}

fn login_challenge(error: &str, message: &str, details: Value) -> (StatusCode, Value) {
    let body = json!({"success": false, "error": error, "status": "error", "details": details, "message": message});
    (StatusCode::UNAUTHORIZED, body)
}

fn sent(name: &str) -> Value {
    json!({"method": "email", "codeGenerated": true, "emailOrUsername": name, "availableMethods": ["email"]})
}

#[tokio::test]
async fn enabling_needs_a_verified_address_and_ends_the_other_sessions_only() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    let unverified = app.user_session("carol").await;
    let (status, body) = app.post(ENABLE, json!({}), Some(&unverified)).await;
    let refusal = meteor_error("error-invalid-user", "You need to verify your emails before setting up 2FA");
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, refusal));

    let alice = verified_user(&app, "alice").await;
    let other = app.login("alice", &password("alice")).await;
    let pat = app.generate_pat(&alice, &password("alice"), "ci", false).await;
    let (status, body) = app.post(ENABLE, json!({}), Some(&alice)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    assert!(app.authenticates(&alice).await, "the caller's own token survives");
    assert!(!app.authenticates(&other).await, "other login tokens end");
    assert!(app.authenticates(&pat).await, "PATs survive");
    let events = app.audit("event=token.revoked").await;
    assert!(events.iter().any(|e| e["detail"].as_str().is_some_and(|d| d.starts_with("e-mail 2FA enabled"))));
    assert_eq!(sink.count(), 0, "enabling sends nothing");
}

#[tokio::test]
async fn a_password_login_is_answered_with_a_mailed_code_that_then_logs_in_once() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    email_user(&app, "alice").await;
    assert_eq!(login(&app, "alice", None).await, login_challenge("totp-required", "TOTP Required", sent("alice")));
    let mail = sink.last();
    assert_eq!(mail.rcpt_to, vec!["<alice@example.com>"]);
    assert!(mail.data.contains("Subject: Authentication code"), "{}", mail.data);
    assert!(mail.data.contains("From: tokend <noreply@example.com>"), "{}", mail.data);
    let code = sink.last_code();

    // Asked again while the code is live: no new mail, and its deadline is given.
    let (status, body) = login(&app, "alice", None).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("totp-required")));
    assert_eq!(body["details"]["codeGenerated"], json!(false));
    assert_eq!(body["details"]["emailOrUsername"], json!("alice"));
    let expires = body["details"]["codeExpires"].as_str().expect("codeExpires");
    assert!(expires.ends_with('Z') && expires.len() == 24, "{expires}");
    assert_eq!(sink.count(), 1);

    // Non-digits are ignored: the code as the mail shows it works.
    let shown = format!("{}-{}", &code[..3], &code[3..]);
    let (status, body) = login(&app, "alice", Some(&shown)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Used up: the same code fails, and a fresh one is mailed.
    let (status, body) = login(&app, "alice", Some(&code)).await;
    assert_eq!((status, body), login_challenge("totp-invalid", "TOTP Invalid", sent("alice")));
    assert_eq!(sink.count(), 2);

    // The code may also come in x-2fa-code, or in Meteor's {totp: {login, code}}.
    let req = app.client.post(app.url(LOGIN)).header("x-2fa-code", sink.last_code());
    let (status, body) = app.send(req.json(&json!({"user": "alice", "password": password("alice")}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    login(&app, "alice", None).await;
    let wrapped = json!({"totp": {"login": {"user": {"email": "alice@example.com"}, "password": password("alice")},
        "code": sink.last_code()}});
    let (status, body) = app.post(LOGIN, wrapped, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_fifth_wrong_code_ends_the_code_and_the_next_challenge_mails_a_new_one() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    email_user(&app, "alice").await;
    login(&app, "alice", None).await;
    let code = sink.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let still_live = |body: &Value| body["details"]["codeGenerated"] == json!(false);
    for attempt in 1..=4 {
        let (status, body) = login(&app, "alice", Some(wrong)).await;
        assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("totp-invalid")), "{attempt}");
        assert!(still_live(&body), "attempt {attempt}: {body}");
    }
    let stored: i64 = app.store().query_row("SELECT attempts FROM email_2fa", params![], |r| r.get(0)).unwrap();
    assert_eq!(stored, 4);
    let max = |body: Value| {
        let mut details = json!({"method": "email", "codeGenerated": false, "emailOrUsername": "alice"});
        details["availableMethods"] = json!(["email"]);
        assert_eq!(body, login_challenge("totp-max-attempts", "TOTP Maximun Failed Attempts Reached", details).1);
    };
    let (status, body) = login(&app, "alice", Some(wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    max(body);
    // The code is dead: even the right one is refused now.
    let (status, body) = login(&app, "alice", Some(&code)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    max(body);
    assert_eq!(sink.count(), 1);
    // A new challenge mails a new code, which works.
    assert_eq!(login(&app, "alice", None).await, login_challenge("totp-required", "TOTP Required", sent("alice")));
    assert_eq!(sink.count(), 2);
    let (status, body) = login(&app, "alice", Some(&sink.last_code())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_expired_code_is_refused_and_replaced() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    email_user(&app, "alice").await;
    login(&app, "alice", None).await;
    let old = sink.last_code();
    let hash: Vec<u8> = app.store().query_row("SELECT code_hash FROM email_2fa", params![], |r| r.get(0)).unwrap();
    assert!(hash.len() == 32 && !hash.windows(6).any(|w| w == old.as_bytes()), "stored hashed");
    app.store().execute("UPDATE email_2fa SET code_expires_at = code_expires_at - 3600001", params![]).unwrap();
    let (status, body) = login(&app, "alice", Some(&old)).await;
    assert_eq!((status, body), login_challenge("totp-invalid", "TOTP Invalid", sent("alice")));
    assert_eq!(sink.count(), 2, "a new code was mailed");
    let (status, body) = login(&app, "alice", Some(&sink.last_code())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn send_email_code_mails_known_users_and_answers_the_same_for_strangers() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    let alice = email_user(&app, "alice").await;
    verified_user(&app, "bob").await;
    let missing = meteor_error("error-parameter-required", "emailOrUsername is required");
    assert_eq!(app.post(SEND, json!({}), None).await, (StatusCode::BAD_REQUEST, missing.clone()));
    assert_eq!(app.post(SEND, json!({"emailOrUsername": ""}), None).await, (StatusCode::BAD_REQUEST, missing));
    let success = (StatusCode::OK, json!({"success": true}));
    assert_eq!(app.post(SEND, json!({"emailOrUsername": "nobody"}), None).await, success);
    assert_eq!(app.post(SEND, json!({"emailOrUsername": "nobody@example.com"}), None).await, success);
    assert_eq!(sink.count(), 0);
    assert_eq!(app.post(SEND, json!({"emailOrUsername": "alice"}), None).await, success);
    // The code is mailed after the answer (the answer must not depend on who exists).
    sink.wait_for(1).await;
    assert_eq!(sink.last().rcpt_to, vec!["<alice@example.com>"]);
    let first = sink.last_code();
    assert_eq!(app.post(SEND, json!({"emailOrUsername": "ALICE@example.com"}), None).await, success);
    sink.wait_for(2).await;
    assert_eq!(sink.count(), 2);
    let (status, body) = login(&app, "alice", Some(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a newer code replaced it: {body}");
    // A logged-in caller's own account wins over the body.
    assert_eq!(app.post(SEND, json!({"emailOrUsername": "bob"}), Some(&alice)).await, success);
    sink.wait_for(3).await;
    assert_eq!(sink.last().rcpt_to, vec!["<alice@example.com>"]);
    let (status, body) = login(&app, "alice", Some(&sink.last_code())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn disabling_is_gated_by_a_mailed_code_and_ends_the_login_challenge() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    let alice = email_user(&app, "alice").await;
    let (status, body) = app.post(DISABLE, json!({}), Some(&alice)).await;
    let mut required = meteor_error("totp-required", "TOTP Required");
    required["details"] = sent("alice");
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, required));
    let code = sink.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = app.post_with(DISABLE, json!({}), &alice, &[("x-2fa-code", wrong)]).await;
    assert_eq!((status, &body["errorType"]), (StatusCode::BAD_REQUEST, &json!("totp-invalid")), "{body}");
    let (status, body) = app.post_with(DISABLE, json!({}), &alice, &[("x-2fa-code", &code)]).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (status, body) = login(&app, "alice", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn totp_comes_first_and_x_2fa_method_email_picks_the_mail() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    let alice = verified_user(&app, "alice").await;
    crate::totp::enrol(&app, &alice).await;
    let (status, body) = app.post(ENABLE, json!({}), Some(&alice)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (status, body) = login(&app, "alice", None).await;
    let details = json!({"method": "totp", "codeGenerated": false, "availableMethods": ["totp", "email"]});
    assert_eq!((status, body), login_challenge("totp-required", "TOTP Required", details));
    assert_eq!(sink.count(), 0);
    // On a gated route the client may ask for the e-mail method by name.
    let path = "/api/v1/users.generatePersonalAccessToken";
    let pick = [("x-2fa-method", "email")];
    let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &alice, &pick).await;
    assert_eq!((status, &body["details"]["method"]), (StatusCode::BAD_REQUEST, &json!("email")), "{body}");
    assert_eq!(body["details"]["availableMethods"], json!(["totp", "email"]));
    let code = sink.last_code();
    let headers = [("x-2fa-method", "email"), ("x-2fa-code", code.as_str())];
    let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &alice, &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn saymon_password_logins_of_email_2fa_users_are_refused() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    email_user(&app, "alice").await;
    let req = app.basic(reqwest::Method::GET, "/node/api/users/current", "alice", &password("alice"));
    let (status, body) = app.send_text(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("InvalidCredentials"), "{body}");
}

#[tokio::test]
async fn without_smtp_the_email_method_is_never_offered() {
    let app = spawn_app().await;
    let alice = verified_user(&app, "alice").await;
    // A deliberate difference (README): Rocket.Chat turns it on and then cannot mail codes.
    let reason = "E-mail two-factor authentication is not available: this server has no SMTP configured";
    let refused = (StatusCode::BAD_REQUEST, meteor_error("error-email-2fa-unavailable", reason));
    assert_eq!(app.post(ENABLE, json!({}), Some(&alice)).await, refused);
    // Even switched on in the store (e.g. SMTP was configured once), it does not apply.
    let now = 1_700_000_000_000i64;
    app.store()
        .execute("INSERT INTO email_2fa (user_id, enabled, changed_at) VALUES (?1, 1, ?2)", params![alice.user_id, now])
        .unwrap();
    let (status, body) = login(&app, "alice", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.age_account(&alice.user_id, Duration::from_secs(3600)).await;
    let pick = [("x-2fa-method", "email")];
    let path = "/api/v1/users.generatePersonalAccessToken";
    let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &alice, &pick).await;
    let details = json!({"method": "password", "codeGenerated": false, "availableMethods": []});
    assert_eq!((status, &body["details"]), (StatusCode::BAD_REQUEST, &details), "{body}");
    // As in Rocket.Chat, asking for a code answers success even when none can be sent.
    let answer = app.post(SEND, json!({"emailOrUsername": "alice"}), None).await;
    assert_eq!(answer, (StatusCode::OK, json!({"success": true})));
}
