//! Ending sessions (spec §6): `logout`, `users.logout`, `users.logoutOtherClients`,
//! `users.removeOtherTokens`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn logged_out() -> Value {
    json!({"status":"success","data":{"message":"You've been logged out!"}})
}

#[tokio::test]
async fn logout_kills_only_the_token_used() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (status, body) = app.post("/api/v1/logout", json!({}), Some(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, logged_out());
    assert!(!app.authenticates(&first).await);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn logout_by_get_works_the_same_and_a_second_logout_is_refused() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (status, body) = app.get("/api/v1/logout", Some(&first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, logged_out());
    assert!(body.get("success").is_none());
    assert!(!app.authenticates(&first).await);
    assert!(app.authenticates(&app.admin).await);
    let (status, body) = app.get("/api/v1/logout", Some(&first)).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_logged_in()));
}

#[tokio::test]
async fn logout_needs_a_valid_token() {
    let app = spawn_app().await;
    let (status, body) = app.post("/api/v1/logout", json!({}), None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_logged_in()));
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn users_logout_of_oneself_kills_every_own_token() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let other = app.login("alice", "alice-password").await;
    let (status, body) = app.post("/api/v1/users.logout", json!({}), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = format!("User {} has been logged out!", alice.user_id);
    assert_eq!(body, json!({"message": message, "success": true}));
    assert!(!app.authenticates(&alice).await);
    assert!(!app.authenticates(&other).await);
    assert_eq!(app.login_token_rows(&alice.user_id), 0);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn users_logout_with_ones_own_id_is_the_same_as_without() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (status, body) = app.post("/api/v1/users.logout", json!({"userId": alice.user_id}), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert!(!app.authenticates(&alice).await);
}

#[tokio::test]
async fn admin_users_logout_kills_another_users_tokens_only() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.post("/api/v1/users.logout", json!({"userId": alice.user_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = format!("User {} has been logged out!", alice.user_id);
    assert_eq!(body, json!({"message": message, "success": true}));
    assert!(!app.authenticates(&alice).await);
    assert!(app.authenticates(&bob).await);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn non_admin_cannot_log_out_another_user() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let bob = app.user_session("bob").await;
    for target in [&bob.user_id, &app.admin.user_id] {
        let (status, body) = app.post("/api/v1/users.logout", json!({"userId": target}), Some(&alice)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body, json!({"success":false,"error":"unauthorized"}));
    }
    assert!(app.authenticates(&bob).await);
    assert!(app.authenticates(&app.admin).await);
    assert!(app.authenticates(&alice).await);
}

#[tokio::test]
async fn users_logout_of_an_unknown_user_is_an_invalid_user_id() {
    let app = spawn_app().await;
    let (status, body) =
        app.post("/api/v1/users.logout", json!({"userId": "NoSuchUser1234567"}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"success":false,"error":"Invalid user id [error-invalid-user-id]","errorType":"error-invalid-user-id"})
    );
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn users_logout_refuses_a_non_string_user_id() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (status, body) = app.post("/api/v1/users.logout", json!({"userId": {"$ne": null}}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errorType"], "invalid-params");
    assert!(app.authenticates(&alice).await);
}

#[tokio::test]
async fn logout_other_clients_keeps_only_the_token_used_and_reports_its_expiry() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let other = app.login("alice", "alice-password").await;
    let (status, body) = app.post("/api/v1/users.logoutOtherClients", json!({}), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["token", "tokenExpires", "success"]);
    assert_eq!(body["token"], json!(alice.token));
    assert_eq!(body["success"], true);
    let expires = body["tokenExpires"].as_str().unwrap();
    assert_eq!(expires.len(), 24, "JavaScript Date JSON form: {expires}");
    assert!(expires.ends_with('Z'), "{expires}");
    let expires = OffsetDateTime::parse(expires, &Rfc3339).unwrap();
    let ahead = expires - OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::days(90) - time::Duration::minutes(5) && ahead <= time::Duration::days(90),
        "{ahead}"
    );
    assert!(app.authenticates(&alice).await);
    assert!(!app.authenticates(&other).await);
    assert_eq!(app.login_token_rows(&alice.user_id), 1);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn remove_other_tokens_keeps_only_the_token_used() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let second = app.login("alice", "alice-password").await;
    let third = app.login("alice", "alice-password").await;
    let (status, body) = app.post("/api/v1/users.removeOtherTokens", json!({}), Some(&second)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true}));
    assert!(app.authenticates(&second).await);
    assert!(!app.authenticates(&alice).await);
    assert!(!app.authenticates(&third).await);
    assert_eq!(app.login_token_rows(&alice.user_id), 1);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn session_endpoints_need_a_login() {
    let app = spawn_app().await;
    for path in ["/api/v1/users.logout", "/api/v1/users.logoutOtherClients", "/api/v1/users.removeOtherTokens"] {
        let (status, body) = app.post(path, json!({}), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body, not_logged_in(), "{path}");
    }
    assert!(app.authenticates(&app.admin).await);
}
