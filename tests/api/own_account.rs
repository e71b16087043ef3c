//! `users.updateOwnBasicInfo` with the body Rocket.Chat's web client sends (`data`,
//! `currentPassword` as the SHA-256 hex of the typed password).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const UPDATE: &str = "/api/v1/users.updateOwnBasicInfo";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// `saveUserProfile`'s password-method challenge (`twoFactorRequired`, spec §10.2).
fn challenge(code: &str, reason: &str) -> (StatusCode, Value) {
    let mut body = meteor_error(code, reason);
    body["details"] = json!({"method": "password", "codeGenerated": false, "availableMethods": []});
    (BAD, body)
}

/// tokend's stricter rule: a personal access token never changes credentials.
fn login_token_required() -> (StatusCode, Value) {
    let reason = "Personal access tokens cannot manage tokens or credentials; log in";
    (BAD, meteor_error("error-login-token-required", reason))
}

/// A refusal `saveUserProfile` throws itself, naming the method.
fn profile_error(code: &str, reason: &str) -> (StatusCode, Value) {
    let mut body = meteor_error(code, reason);
    body["details"] = json!({"method": "saveUserProfile"});
    (BAD, body)
}

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
    assert_eq!(app.post(UPDATE, body(None), Some(&bob)).await, challenge("totp-required", "TOTP Required"));
    let wrong = app.post(UPDATE, body(Some("not-bobs-password")), Some(&bob)).await;
    assert_eq!(wrong, challenge("totp-invalid", "TOTP Invalid"));
    let pat = app.generate_pat(&bob, "bob-password", "ci", true).await;
    assert_eq!(app.post(UPDATE, body(Some("bob-password")), Some(&pat)).await, login_token_required());
    let (status, changed) = app.post(UPDATE, body(Some("bob-password")), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["success"], json!(true));
    assert!(!changed.to_string().contains("services"), "no credentials in the answer: {changed}");
    assert!(!app.authenticates(&bob).await && !app.authenticates(&other).await, "login tokens end");
    assert!(app.authenticates(&pat).await, "PATs survive a password change");
    app.login("bob", "a brand new password").await;
}

#[tokio::test]
async fn a_new_address_needs_the_password_and_is_unverified() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let data = json!({"data": {"email": "robert@example.com"}});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await, challenge("totp-required", "TOTP Required"));
    let data = json!({"data": {"email": "robert@example.com", "currentPassword": two_factor_code("bob-password")}});
    let (status, changed) = app.post(UPDATE, data, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["user"]["emails"], json!([{"address": "robert@example.com", "verified": false}]));
    // Sending the unchanged address back is no credential change.
    let data = json!({"data": {"email": "robert@example.com", "name": "Rob"}});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await.0, StatusCode::OK);
    // Another account's address, and no address at all: `setEmail`'s errors.
    app.create_user("alice", "alice-password", &["user"]).await;
    let password = two_factor_code("bob-password");
    let data = json!({"data": {"email": "alice@example.com", "currentPassword": password}});
    let mut taken = meteor_error("error-field-unavailable", "alice@example.com is already in use :(");
    taken["details"] = json!({"function": "_setEmail", "field": "alice@example.com"});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await, (BAD, taken));
    let data = json!({"data": {"email": "not-an-address", "currentPassword": password}});
    let mut invalid = meteor_error("error-invalid-email", "Invalid email not-an-address");
    invalid["details"] = json!({"function": "RocketChat.validateEmailDomain", "email": "not-an-address"});
    assert_eq!(app.post(UPDATE, data, Some(&bob)).await, (BAD, invalid));
    let (_, me) = app.get("/api/v1/me", Some(&bob)).await;
    assert_eq!(me["emails"], json!([{"address": "robert@example.com", "verified": false}]));
}

#[tokio::test]
async fn bad_bodies_are_refused_in_rocket_chats_words_and_change_nothing() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    app.create_user("alice", "alice-password", &["user"]).await;
    // The route's schema (`isUsersUpdateOwnBasicInfoParamsPOST`), in ajv's words.
    let extra = (BAD, meteor_error("invalid-params", "must NOT have additional properties"));
    assert_eq!(app.post(UPDATE, json!({"data": {"roles": ["admin"]}}), Some(&bob)).await, extra);
    let missing = (BAD, meteor_error("invalid-params", "must have required property 'data'"));
    assert_eq!(app.post(UPDATE, json!({}), Some(&bob)).await, missing);
    // A taken username (any casing) fails in `saveUserIdentity`, which only says it could not.
    let taken = profile_error("error-could-not-save-identity", "Could not save user identity");
    assert_eq!(app.post(UPDATE, json!({"data": {"username": "ALICE"}}), Some(&bob)).await, taken);
    let long = "n".repeat(121);
    let too_long = profile_error("error-nickname-size-exceeded", "Nickname size exceeds 120 characters");
    assert_eq!(app.post(UPDATE, json!({"data": {"nickname": long}}), Some(&bob)).await, too_long);
    let long = "b".repeat(261);
    let too_long = profile_error("error-bio-size-exceeded", "Bio size exceeds 260 characters");
    assert_eq!(app.post(UPDATE, json!({"data": {"bio": long}}), Some(&bob)).await, too_long);
    // Stricter than Rocket.Chat, which stores any status text: users.setStatus's refusal.
    let status = meteor_error("error-invalid-status", "Valid status types include online, away, offline, and busy.");
    assert_eq!(app.post(UPDATE, json!({"data": {"statusType": "sleeping"}}), Some(&bob)).await, (BAD, status));
    assert_eq!(app.post(UPDATE, json!({"data": {}}), None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let (_, me) = app.get("/api/v1/me", Some(&bob)).await;
    assert_eq!((&me["username"], &me["roles"]), (&json!("bob"), &json!(["user"])));
}

/// Rocket.Chat gates `saveUserProfile` only when it carries an address or a new password:
/// an old account, past every grace and remember window, renames itself without a code.
#[tokio::test]
async fn a_profile_change_without_credentials_is_not_gated_even_for_an_old_account() {
    let app = spawn_app_with(|c| c.two_factor_remember = std::time::Duration::ZERO).await;
    let bob = app.user_session("bob").await;
    app.age_account(&bob.user_id, std::time::Duration::from_secs(3600)).await;
    let body = json!({"data": {"name": "Robert", "statusText": "back soon"}});
    let (status, changed) = app.post(UPDATE, body, Some(&bob)).await;
    assert_eq!((status, &changed["user"]["name"]), (StatusCode::OK, &json!("Robert")), "{changed}");
    let body = json!({"data": {"newPassword": "a brand new password"}});
    assert_eq!(app.post(UPDATE, body, Some(&bob)).await, challenge("totp-required", "TOTP Required"));
}
