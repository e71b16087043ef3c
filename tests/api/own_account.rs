//! `users.updateOwnBasicInfo` with the body Rocket.Chat's web client sends (`data`,
//! `currentPassword` as the SHA-256 hex of the typed password).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const UPDATE: &str = "/api/v1/users.updateOwnBasicInfo";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

#[tokio::test]
async fn a_user_changes_their_profile_without_a_password() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let body = json!({"data": {"name": "Robert", "nickname": "Bobby", "statusText": "on leave", "statusType": "away"},
        "customFields": {}});
    let (status, changed) = app.post(UPDATE, body, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let user = &changed["user"];
    assert_eq!(
        (&user["name"], &user["nickname"], &user["statusText"]),
        (&json!("Robert"), &json!("Bobby"), &json!("on leave"))
    );
    assert_eq!(user["status"], "away");
    assert!(!changed.to_string().contains("password"), "{changed}");
    assert!(app.authenticates(&bob).await, "a profile change revokes nothing");
}

#[tokio::test]
async fn a_new_password_needs_the_current_one_and_ends_every_login_token() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let other = app.login("bob", "bob-password").await;
    let body = |current: Option<&str>| {
        let mut data = json!({"newPassword": "a brand new password"});
        if let Some(c) = current {
            data["currentPassword"] = json!(two_factor_code(c));
        }
        json!({"data": data})
    };
    // Even a fresh account (inside the 2FA grace) must prove the current password.
    let (status, refused) = app.post(UPDATE, body(None), Some(&bob)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("totp-required")), "{refused}");
    assert_eq!(refused["details"]["method"], "password");
    let (status, refused) = app.post(UPDATE, body(Some("not-bobs-password")), Some(&bob)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("totp-invalid")), "{refused}");
    let pat = app.generate_pat(&bob, "bob-password", "ci", true).await;
    let (status, refused) = app.post(UPDATE, body(Some("bob-password")), Some(&pat)).await;
    assert_eq!((status, &refused["errorType"]), (BAD, &json!("error-login-token-required")), "{refused}");
    let (status, changed) = app.post(UPDATE, body(Some("bob-password")), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(!app.authenticates(&bob).await && !app.authenticates(&other).await, "login tokens end");
    assert!(app.authenticates(&pat).await, "PATs survive a password change");
    app.login("bob", "a brand new password").await;
}

#[tokio::test]
async fn a_new_address_needs_the_password_and_is_unverified() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let data = json!({"data": {"email": "robert@example.com"}});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await.1["errorType"], json!("totp-required"));
    let data = json!({"data": {"email": "robert@example.com", "currentPassword": two_factor_code("bob-password")}});
    let (status, changed) = app.post(UPDATE, data, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["user"]["emails"], json!([{"address": "robert@example.com", "verified": false}]));
    // Sending the unchanged address back is no credential change.
    let data = json!({"data": {"email": "robert@example.com", "name": "Rob"}});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_are_refused_in_rocket_chats_words_and_change_nothing() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    app.create_user("alice", "alice-password", &["user"]).await;
    let (status, body) = app.post(UPDATE, json!({"data": {"roles": ["admin"]}}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("invalid-params")), "{body}");
    let (status, body) = app.post(UPDATE, json!({"name": "x"}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("invalid-params")), "{body}");
    let (status, body) = app.post(UPDATE, json!({"data": {"username": "ALICE"}}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-field-unavailable")), "{body}");
    let (status, body) = app.post(UPDATE, json!({"data": {"statusType": "sleeping"}}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-invalid-status")), "{body}");
    assert_eq!(app.post(UPDATE, json!({"data": {}}), None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let (_, me) = app.get("/api/v1/me", Some(&bob)).await;
    assert_eq!((&me["username"], &me["roles"]), (&json!("bob"), &json!(["user"])));
}
