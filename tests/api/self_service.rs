//! Self-service: `users.register`, `users.deleteOwnAccount`, `users.forgotPassword` and the
//! `resetPassword` method, `settings.public` — with the bodies Rocket.Chat's clients send.

use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
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
    assert_eq!((&body["user"]["username"], &body["user"]["roles"]), (&json!("carol"), &json!(["user"])));
    assert_eq!(body["user"]["emails"], json!([{"address": "carol@example.com", "verified": false}]));
    let carol_session = app.login("carol", "carol-password").await;
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
    assert_eq!(app.post(REGISTER, short, None).await.1["errorType"], "error-password-policy-not-met");
    let mut admin = carol();
    admin["roles"] = json!(["admin"]);
    assert_eq!(app.post(REGISTER, admin, None).await.1["errorType"], "invalid-params");
}

#[tokio::test]
async fn the_secret_url_form_needs_the_secret() {
    let app = spawn_app_with(|c| {
        c.registration = true;
        c.registration_secret = Some(Secret::new("s3cret-url"));
    })
    .await;
    assert_eq!(setting(&app, "Accounts_RegistrationForm").await, "Secret URL");
    let (status, refused) = app.post(REGISTER, carol(), None).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("error-user-registration-secret")), "{refused}");
    let mut with_secret = carol();
    with_secret["secret"] = json!("s3cret-url");
    assert_eq!(app.post(REGISTER, with_secret, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn deleting_ones_own_account_needs_the_setting_the_password_and_a_login_token() {
    let app = spawn_app_with(|c| c.delete_own_account = true).await;
    let bob = app.user_session("bob").await;
    let body = |pw: &str| json!({"password": two_factor_code(pw)});
    let (status, refused) = app.post(DELETE_OWN, body("wrong-password"), Some(&bob)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("error-invalid-password")), "{refused}");
    let pat = app.generate_pat(&bob, "bob-password", "ci", true).await;
    let (status, refused) = app.post(DELETE_OWN, body("bob-password"), Some(&pat)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("error-login-token-required")), "{refused}");
    let required = json!({"success": false, "error": "Body parameter \"password\" is required."});
    assert_eq!(app.post(DELETE_OWN, json!({}), Some(&bob)).await, (BAD, required));
    assert_eq!(
        app.post(DELETE_OWN, body("bob-password"), Some(&bob)).await,
        (StatusCode::OK, json!({"success": true}))
    );
    assert!(!app.authenticates(&bob).await && !app.authenticates(&pat).await);
    assert_eq!(app.user_rows(), 1);
    // The last admin cannot delete themself.
    let (status, refused) = app.post(DELETE_OWN, body(ADMIN_PASSWORD), Some(&app.admin)).await;
    assert_eq!((status, &refused["details"]["action"]), (BAD, &json!("Remove_last_admin")), "{refused}");
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn deleting_ones_own_account_is_off_by_default() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, refused) =
        app.post(DELETE_OWN, json!({"password": two_factor_code("bob-password")}), Some(&bob)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("error-not-allowed")), "{refused}");
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
    assert_eq!((&again["error"]["error"], &again["error"]["reason"]), (&json!(403), &json!("Token expired")));
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
