//! TOTP end to end (spec §10.3, §10.5, §10.6): enrolment over REST, logins with codes and
//! backup codes, replay, disabling. Codes are computed from the returned secret as an
//! authenticator app would. Enrolment over `method.call` is in `totp_methods.rs`.

use crate::helpers::*;
use crate::params;
use data_encoding::BASE32_NOPAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use totp_lite::{Sha1, totp_custom};

const LOGIN: &str = "/api/v1/login";

pub fn password(name: &str) -> String {
    format!("{name}-password")
}

/// The code an authenticator app shows now for the base32 `secret`.
pub fn current_code(secret: &str) -> String {
    let seed = BASE32_NOPAD.decode(secret.as_bytes()).expect("a base32 secret");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    totp_custom::<Sha1>(30, 6, &seed, now)
}

/// Lets codes be used again, as if the user had waited for the next 30-second step.
pub fn forget_used_steps(app: &TestApp, user_id: &str) {
    app.store().execute("UPDATE totp SET last_step = NULL WHERE user_id = ?1", params![user_id]).unwrap();
}

/// Enrols `who` over REST; returns the secret and the backup codes.
pub async fn enrol(app: &TestApp, who: &Session) -> (String, Vec<String>) {
    let (status, body) = app.post("/api/v1/users.enableTotp", json!({}), Some(who)).await;
    assert_eq!(status, StatusCode::OK, "enableTotp: {body}");
    let secret = body["secret"].as_str().unwrap().to_string();
    let code = current_code(&secret);
    let (status, body) = app.post("/api/v1/users.validateTotp", json!({"code": code}), Some(who)).await;
    assert_eq!(status, StatusCode::OK, "validateTotp: {body}");
    let codes = body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (secret, codes)
}

pub async fn login(app: &TestApp, name: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"user": name, "password": password(name)});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.post(LOGIN, body, None).await
}

pub fn totp_login_error(error: &str, message: &str) -> (StatusCode, Value) {
    let details = json!({"method": "totp", "codeGenerated": false, "availableMethods": ["totp"]});
    let body = json!({"success": false, "error": error, "status": "error", "details": details, "message": message});
    (StatusCode::UNAUTHORIZED, body)
}

fn ok_status((status, body): (StatusCode, Value)) -> Value {
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_complete_enrolment_over_rest_then_logins_with_codes_and_backup_codes() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let other = app.login("alice", &password("alice")).await;
    let pat = app.generate_pat(&alice, &password("alice"), "ci", false).await;

    let enrol_body = ok_status(app.post("/api/v1/users.enableTotp", json!({}), Some(&alice)).await);
    let secret = enrol_body["secret"].as_str().unwrap();
    assert_eq!(enrol_body["url"], json!(format!("otpauth://totp/Rocket.Chat%3Aalice?secret={secret}")));
    assert_eq!(BASE32_NOPAD.decode(secret.as_bytes()).unwrap().len(), 20, "a 160-bit seed");
    let body = json!({"code": current_code(secret)});
    let codes = ok_status(app.post("/api/v1/users.validateTotp", body, Some(&alice)).await)["codes"].clone();
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 12);
    assert!(codes.iter().all(|c| c.len() == 8));
    assert!(app.authenticates(&alice).await, "the enrolling token survives");
    assert!(!app.authenticates(&other).await, "other login tokens end");
    assert!(app.authenticates(&pat).await, "PATs survive");

    assert_eq!(login(&app, "alice", None).await, totp_login_error("totp-required", "TOTP Required"));
    assert_eq!(login(&app, "alice", Some("000000x")).await, totp_login_error("totp-invalid", "TOTP Invalid"));
    forget_used_steps(&app, &alice.user_id);
    let code = current_code(secret);
    ok_status(login(&app, "alice", Some(&code)).await);
    assert_eq!(login(&app, "alice", Some(&code)).await, totp_login_error("totp-invalid", "TOTP Invalid"), "replay");

    forget_used_steps(&app, &alice.user_id);
    let req = app.client.post(app.url(LOGIN)).header("x-2fa-code", current_code(secret));
    ok_status(app.send(req.json(&json!({"username": "alice", "password": password("alice")}))).await);
    forget_used_steps(&app, &alice.user_id);
    let login_form = json!({"user": {"username": "alice"}, "password": password("alice")});
    let wrapped = json!({"totp": {"login": login_form, "code": current_code(secret)}});
    ok_status(app.post(LOGIN, wrapped, None).await);

    forget_used_steps(&app, &alice.user_id);
    let body = json!({"code": current_code(secret)});
    let fresh = ok_status(app.post("/api/v1/users.regenerateTotpCodes", body, Some(&alice)).await)["codes"].clone();
    let fresh: Vec<String> = serde_json::from_value(fresh).unwrap();
    assert_eq!(fresh.len(), 12);
    assert!(fresh.iter().all(|c| !codes.contains(c)));
    assert_eq!(login(&app, "alice", Some(&codes[0])).await.0, StatusCode::UNAUTHORIZED, "old backup codes die");
    ok_status(login(&app, "alice", Some(&fresh[0])).await);
    assert_eq!(login(&app, "alice", Some(&fresh[0])).await, totp_login_error("totp-invalid", "TOTP Invalid"));
    let remaining = ok_status(app.get("/api/v1/users.totpCodesRemaining", Some(&alice)).await);
    assert_eq!(remaining, json!({"remaining": 11, "success": true}));

    let wrong = ok_status(app.post("/api/v1/users.disableTotp", json!({"code": "12345678"}), Some(&alice)).await);
    assert_eq!(wrong, json!({"disabled": false, "success": true}));
    forget_used_steps(&app, &alice.user_id);
    let body = json!({"code": current_code(secret)});
    let done = ok_status(app.post("/api/v1/users.disableTotp", body, Some(&alice)).await);
    assert_eq!(done, json!({"disabled": true, "success": true}));
    ok_status(login(&app, "alice", None).await);
}

#[tokio::test]
async fn gated_routes_of_a_totp_user_want_a_totp_code_not_the_password() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (secret, _) = enrol(&app, &alice).await;
    let path = "/api/v1/users.generatePersonalAccessToken";
    let mut required = meteor_error("totp-required", "TOTP Required");
    required["details"] = json!({"method": "totp", "codeGenerated": false, "availableMethods": ["totp"]});
    assert_eq!(app.post(path, json!({"tokenName": "ci"}), Some(&alice)).await, (StatusCode::BAD_REQUEST, required));
    let by_password = two_factor_code(&password("alice"));
    let headers = [("x-2fa-code", by_password.as_str()), ("x-2fa-method", "password")];
    let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &alice, &headers).await;
    assert_eq!((status, &body["errorType"]), (StatusCode::BAD_REQUEST, &json!("totp-invalid")), "{body}");
    forget_used_steps(&app, &alice.user_id);
    let code = current_code(&secret);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "totp")];
    ok_status(app.post_with(path, json!({"tokenName": "ci"}), &alice, &headers).await);
}

#[tokio::test]
async fn reset_totp_is_for_admins_or_the_user_themself() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    enrol(&app, &alice).await;
    let bob = app.user_session("bob").await;
    let path = "/api/v1/users.resetTOTP";
    let refused = meteor_error("error-not-allowed", "Not allowed");
    assert_eq!(app.post(path, json!({"username": "alice"}), Some(&bob)).await, (StatusCode::BAD_REQUEST, refused));
    assert_eq!(login(&app, "alice", None).await.0, StatusCode::UNAUTHORIZED, "still enrolled");
    let body = ok_status(app.post(path, json!({"username": "alice"}), Some(&app.admin)).await);
    assert_eq!(body, json!({"success": true}));
    ok_status(login(&app, "alice", None).await);
}

#[tokio::test]
async fn twenty_concurrent_logins_with_one_code_let_exactly_one_in() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (secret, _) = enrol(&app, &alice).await;
    forget_used_steps(&app, &alice.user_id);
    let body = json!({"user": "alice", "password": password("alice"), "code": current_code(&secret)});
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let req = app.client.post(app.url(LOGIN)).json(&body);
            tokio::spawn(async move { req.send().await.unwrap().status() })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() == StatusCode::OK {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 1);
}

#[tokio::test]
async fn saymon_basic_logins_of_totp_users_are_refused() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    enrol(&app, &alice).await;
    let req = app.basic(reqwest::Method::GET, "/node/api/users/current", "alice", &password("alice"));
    let (status, body) = app.send_text(req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("InvalidCredentials"), "{body}");
}

#[tokio::test]
async fn with_2fa_switched_off_logins_are_not_challenged() {
    let app = spawn_app_with(|c| c.two_factor_enabled = false).await;
    let alice = app.user_session("alice").await;
    enrol(&app, &alice).await;
    ok_status(login(&app, "alice", None).await);
}

#[tokio::test]
async fn the_stored_seed_is_sealed() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (secret, codes) = enrol(&app, &alice).await;
    let seed = BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    let stored: Vec<u8> = app.store().query_row("SELECT secret FROM totp", params![], |r| r.get(0)).unwrap();
    assert!(stored.len() > seed.len(), "nonce and tag are stored with the ciphertext");
    assert!(!stored.windows(seed.len()).any(|w| w == seed.as_slice()), "the seed is not stored in the clear");
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "nor its base32 form");
    let dump: Vec<Vec<u8>> =
        app.store().query("SELECT code_hash FROM totp_backup_codes", params![], |r| r.get(0)).unwrap();
    assert_eq!(dump.len(), 12);
    assert!(dump.iter().all(|h| codes.iter().all(|c| !h.windows(8).any(|w| w == c.as_bytes()))));
}
