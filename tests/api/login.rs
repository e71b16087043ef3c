//! `POST /api/v1/login` (spec §5): every accepted body form, the exact success and failure
//! shapes, and the bad-input catalogue of spec/security.md §6 A–B.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const LOGIN: &str = "/api/v1/login";

fn unauthorized() -> Value {
    json!({"success":false,"error":"Unauthorized","status":"error","message":"Unauthorized"})
}

fn is_token(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|t| t.len() == 43 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// A 400 in the Rocket.Chat envelope with `errorType: invalid-params`.
fn assert_invalid_params(status: StatusCode, body: &Value, sent: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{sent} → {body}");
    assert_eq!(body["success"], json!(false), "{sent} → {body}");
    assert_eq!(body["errorType"], json!("invalid-params"), "{sent} → {body}");
    assert!(body["error"].is_string(), "{sent} → {body}");
}

#[tokio::test]
async fn login_answers_the_exact_success_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.post(LOGIN, json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["status", "data", "success"]);
    assert_eq!(body["status"], "success");
    assert_eq!(body["success"], true);
    let data = body["data"].as_object().unwrap();
    let data_keys: Vec<&String> = data.keys().collect();
    assert_eq!(data_keys, ["userId", "authToken", "me"]);
    assert_eq!(data["userId"], json!(app.admin.user_id));
    assert!(is_token(&data["authToken"]), "{}", data["authToken"]);
    let me = &data["me"];
    assert_eq!(me["_id"], json!(app.admin.user_id));
    assert_eq!(me["username"], ADMIN_USERNAME);
    assert!(me.get("success").is_none(), "me carries no success: {me}");
    assert_eq!(me["services"], json!({"password": {"exists": true}}));
    let text = me.to_string();
    assert!(!text.contains("bcrypt") && !text.contains("$2"), "{text}");
    assert!(!text.contains(data["authToken"].as_str().unwrap()));
}

#[tokio::test]
async fn every_body_form_of_spec_5_1_logs_in_the_same_user() {
    let app = spawn_app().await;
    let id = app.create_user("alice", "alice-password", &["user"]).await;
    let email = "alice@example.com";
    let digest = hex::encode(Sha256::digest(b"alice-password"));
    let pw = "alice-password";
    for body in [
        json!({"user": "alice", "password": pw}),
        json!({"user": email, "password": pw}),
        json!({"username": "alice", "password": pw}),
        json!({"email": email, "password": pw}),
        json!({"user": {"username": "alice"}, "password": pw}),
        json!({"user": {"email": email}, "password": pw}),
        json!({"user": {"id": id}, "password": pw}),
        json!({"user": "alice", "password": {"digest": digest, "algorithm": "sha-256"}}),
        json!({"user": "alice", "password": {"digest": digest.to_uppercase(), "algorithm": "sha-256"}}),
        json!({"user": {"username": "alice"}, "password": {"digest": digest, "algorithm": "sha-256"}}),
    ] {
        let (status, answer) = app.post(LOGIN, body.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "{body} → {answer}");
        assert_eq!(answer["data"]["userId"], json!(id), "{body}");
        assert!(is_token(&answer["data"]["authToken"]), "{body}");
    }
}

#[tokio::test]
async fn form_urlencoded_login_works_like_json() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_raw(
            LOGIN,
            "application/x-www-form-urlencoded",
            format!("user={ADMIN_USERNAME}&password={ADMIN_PASSWORD}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["userId"], json!(app.admin.user_id));
    assert!(is_token(&body["data"]["authToken"]));
}

#[tokio::test]
async fn resume_login_returns_the_same_token_and_stores_nothing_new() {
    let app = spawn_app().await;
    let before = app.login_token_rows(&app.admin.user_id);
    let (status, body) = app.post(LOGIN, json!({"resume": app.admin.token}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["userId"], json!(app.admin.user_id));
    assert_eq!(body["data"]["authToken"], json!(app.admin.token));
    assert_eq!(body["data"]["me"]["username"], ADMIN_USERNAME);
    assert_eq!(app.login_token_rows(&app.admin.user_id), before);
}

#[tokio::test]
async fn totp_wrapped_login_is_accepted_for_a_user_without_2fa() {
    let app = spawn_app().await;
    let login = json!({"user": {"username": ADMIN_USERNAME}, "password": ADMIN_PASSWORD});
    let (status, body) = app.post(LOGIN, json!({"totp": {"login": login, "code": "123456"}}), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["userId"], json!(app.admin.user_id));
    assert!(is_token(&body["data"]["authToken"]));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_identical_401_body() {
    let app = spawn_app().await;
    let wrong = app.post(LOGIN, json!({"user": ADMIN_USERNAME, "password": "nope-nope"}), None).await;
    let unknown = app.post(LOGIN, json!({"user": "nobody", "password": "nope-nope"}), None).await;
    let unknown_id = app.post(LOGIN, json!({"user": {"id": "nobody"}, "password": "x"}), None).await;
    for (status, body) in [wrong, unknown, unknown_id] {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unauthorized());
    }
}

#[tokio::test]
async fn injection_strings_as_usernames_are_just_unknown_users() {
    let app = spawn_app().await;
    for (user, password) in [
        ("admin' --", "x"),
        ("' OR '1'='1", "' OR '1'='1"),
        ("%", ADMIN_PASSWORD),
        ("_____", ADMIN_PASSWORD),
        ("adm%", ADMIN_PASSWORD),
    ] {
        let body = json!({"user": user, "password": password});
        let (status, answer) = app.post(LOGIN, body, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(answer, unauthorized(), "{user}");
    }
}

#[tokio::test]
async fn extra_fields_in_a_login_body_change_nothing() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let body = json!({
        "user": "alice", "password": "alice-password",
        "roles": ["admin"], "active": false, "_id": app.admin.user_id,
    });
    let (status, answer) = app.post(LOGIN, body, None).await;
    assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{status} {answer}");
    assert_ne!(answer["data"]["userId"], json!(app.admin.user_id));
    let (_, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(me["_id"], json!(alice.user_id));
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(me["active"], true);
}

#[tokio::test]
async fn passwords_are_case_sensitive_and_usernames_are_not() {
    let app = spawn_app().await;
    let (status, body) =
        app.post(LOGIN, json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD.to_uppercase()}), None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
    for name in ["ADMIN", "Admin"] {
        let session = app.login(name, ADMIN_PASSWORD).await;
        assert_eq!(session.user_id, app.admin.user_id, "{name}");
    }
}

#[tokio::test]
async fn deactivated_user_with_the_right_password_is_told_not_activated() {
    let app = spawn_app().await;
    let id = app.create_user("bob", "bob-password", &["user"]).await;
    let (status, body) =
        app.post("/api/v1/users.setActiveStatus", json!({"userId": id, "activeStatus": false}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(LOGIN, json!({"user": "bob", "password": "bob-password"}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"success":false,"error":"error-user-is-not-activated","status":"error","message":"User is not activated",
            "details": {"function": "Accounts.validateLoginAttempt"}})
    );
    let (status, body) = app.post(LOGIN, json!({"user": "bob", "password": "wrong-password"}), None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
}

#[tokio::test]
async fn resume_with_an_unknown_expired_or_logged_out_token_is_unauthorized() {
    let app = spawn_app().await;
    let expired = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app.backdate_token(&expired.token).await;
    let logged_out = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (status, _) = app.get("/api/v1/logout", Some(&logged_out)).await;
    assert_eq!(status, StatusCode::OK);
    let unknown = "A".repeat(43);
    for token in [unknown.as_str(), &expired.token, &logged_out.token, "", "short"] {
        let (status, body) = app.post(LOGIN, json!({"resume": token}), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(body, unauthorized(), "{token}");
    }
}

#[tokio::test]
async fn bodies_without_credentials_are_unauthorized() {
    let app = spawn_app().await;
    for body in [json!({}), json!({"user": ADMIN_USERNAME}), json!({"ldap": true})] {
        let (status, answer) = app.post(LOGIN, body.clone(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(answer, unauthorized(), "{body}");
    }
    let (status, answer) = app.post_raw(LOGIN, "application/json", "", None).await;
    assert_eq!((status, answer), (StatusCode::UNAUTHORIZED, unauthorized()));
}

#[tokio::test]
async fn wrongly_typed_fields_are_invalid_params_never_coerced() {
    let app = spawn_app().await;
    for body in [
        json!({"user": 123, "password": ADMIN_PASSWORD}),
        json!({"user": ADMIN_USERNAME, "password": 123}),
        json!({"user": {"$ne": null}, "password": {"$ne": null}}),
        json!({"user": {"username": {"$ne": null}}, "password": ADMIN_PASSWORD}),
        json!({"user": [ADMIN_USERNAME, "bob"], "password": ADMIN_PASSWORD}),
        json!({"user": ADMIN_USERNAME, "password": [ADMIN_PASSWORD]}),
        json!({"user": ADMIN_USERNAME, "password": "x".repeat(257)}),
        json!({"user": ADMIN_USERNAME, "password": {"digest": "abc", "algorithm": "sha-256"}}),
        json!({"resume": {"$ne": ""}}),
        json!([]),
        json!("admin"),
        json!(123),
        json!(true),
    ] {
        let (status, answer) = app.post(LOGIN, body.clone(), None).await;
        assert_invalid_params(status, &answer, &body.to_string());
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_envelope() {
    let app = spawn_app().await;
    for raw in [r#"{"user":"admin","password":"x""#, r#"{"user":"admin",}"#, "{not json", "\u{feff}{}"] {
        let (status, body) = app.post_raw(LOGIN, "application/json", raw, None).await;
        assert_invalid_params(status, &body, raw);
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, body) = app.post_raw(LOGIN, "application/json", deep, None).await;
    assert_invalid_params(status, &body, "10 000 nested arrays");
}

#[tokio::test]
async fn duplicate_keys_never_log_in_through_last_wins() {
    let app = spawn_app().await;
    app.create_user("carol", "carol-password", &["user"]).await;
    let raw = format!(r#"{{"user":"carol","user":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let (status, body) = app.post_raw(LOGIN, "application/json", raw, None).await;
    assert_invalid_params(status, &body, "duplicate user key");
    assert!(body.get("data").is_none());
    let form = format!("user=carol&user=admin&password={ADMIN_PASSWORD}");
    let (status, body) = app.post_raw(LOGIN, "application/x-www-form-urlencoded", form, None).await;
    assert_invalid_params(status, &body, "repeated form key");
}

#[tokio::test]
async fn json_sent_as_text_plain_is_refused_with_415() {
    let app = spawn_app().await;
    let raw = format!(r#"{{"user":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    for content_type in ["text/plain", "application/json; charset=utf-16"] {
        let (status, body) = app.post_raw(LOGIN, content_type, raw.clone(), None).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert_eq!(body["success"], false, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn a_100_kb_body_is_refused_with_413_in_the_envelope() {
    let app = spawn_app().await;
    let raw = json!({"user": "admin", "password": "x", "pad": "p".repeat(100 * 1024)});
    let (status, body) = app.post_raw(LOGIN, "application/json", raw.to_string(), None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, _) = app.get("/api/info", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn get_on_login_is_405_in_the_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.get(LOGIN, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["success"], false, "{body}");
    assert!(body["error"].is_string(), "{body}");
}
