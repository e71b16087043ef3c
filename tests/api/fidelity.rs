//! Issue 16, the differences that broke real Rocket.Chat clients: each test sends the body
//! Rocket.Chat's own clients send and expects Rocket.Chat's answer (spec errata).

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

const AN_HOUR: Duration = Duration::from_secs(3600);
const REMOVE: &str = "/api/v1/users.removePersonalAccessToken";

/// A provisioning script logged in as an admin whose account is past the 2FA grace:
/// Rocket.Chat's users.create declares no `twoFactorRequired` (errata 1).
#[tokio::test]
async fn users_create_never_asks_an_old_admin_for_a_second_factor() {
    let app = spawn_app_with(|c| c.two_factor_remember = Duration::ZERO).await;
    app.age_account(&app.admin.user_id, AN_HOUR).await;
    let body = json!({"email": "bob@example.com", "name": "Bob", "password": "bob-password", "username": "bob"});
    let (status, created) = app.post("/api/v1/users.create", body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let pat = app.generate_pat(&app.admin, ADMIN_PASSWORD, "provisioning", false).await;
    let body = json!({"email": "eve@example.com", "name": "Eve", "password": "eve-password", "username": "eve"});
    let (status, created) = app.post("/api/v1/users.create", body, Some(&pat)).await;
    assert_eq!(status, StatusCode::OK, "a non-bypass PAT creates users too: {created}");
}

/// `users.getPersonalAccessTokens` declares `permissionsRequired` (errata 9).
#[tokio::test]
async fn listing_pats_without_the_permission_is_the_403_permission_body() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    app.set_permission_roles("create-personal-access-tokens", &["admin"]).await;
    let listed = app.get("/api/v1/users.getPersonalAccessTokens", Some(&bob)).await;
    assert_eq!(listed, (StatusCode::FORBIDDEN, permission_required()));
}

/// A PAT removes itself with its own name (Rocket.Chat and GitLab allow it); it still
/// cannot remove a sibling or mint.
#[tokio::test]
async fn a_bypass_pat_removes_itself_but_no_other_pat() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let ci = app.generate_pat(&bob, "bob-password", "ci", true).await;
    let other = app.generate_pat(&bob, "bob-password", "other", true).await;
    let refused = app.post(REMOVE, json!({"tokenName": "other"}), Some(&ci)).await;
    assert_eq!((refused.0, &refused.1["errorType"]), (StatusCode::BAD_REQUEST, &json!("error-login-token-required")));
    assert!(app.authenticates(&other).await, "a PAT cannot remove a sibling");
    let body = json!({"tokenName": "new", "bypassTwoFactor": true});
    let minted = app.post("/api/v1/users.generatePersonalAccessToken", body, Some(&ci)).await;
    assert_eq!(minted.1["errorType"], json!("error-login-token-required"), "a PAT still cannot mint");
    assert_eq!(
        app.post(REMOVE, json!({"tokenName": "ci"}), Some(&ci)).await,
        (StatusCode::OK, json!({"success": true}))
    );
    assert!(!app.authenticates(&ci).await);
    assert!(app.authenticates(&other).await && app.authenticates(&bob).await);
}

/// `me.services` shows a second factor only once it is on (Rocket.Chat's `me`).
#[tokio::test]
async fn me_lists_second_factors_only_when_they_are_on() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (_, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(me["services"], json!({"password": {"exists": true}}));
    crate::totp::enrol(&app, &alice).await;
    let (_, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(me["services"], json!({"password": {"exists": true}, "totp": {"enabled": true}}));
}

/// `users.create`'s validation errors carry `validateUserData`'s details.
#[tokio::test]
async fn users_create_validation_errors_carry_rocket_chats_details() {
    let app = spawn_app().await;
    let body = json!({"email": "e@example.com", "name": "", "password": "eve-password", "username": "eve"});
    let mut expected = meteor_error("error-the-field-is-required", "The field Name is required");
    expected["details"] = json!({"method": "insertOrUpdateUser", "field": "Name"});
    assert_eq!(app.post("/api/v1/users.create", body, Some(&app.admin)).await, (StatusCode::BAD_REQUEST, expected));
}

/// `/me`'s `avatarUrl` leads to Rocket.Chat's letter avatar; `users.getAvatar` redirects there.
#[tokio::test]
async fn the_advertised_avatar_url_serves_a_letter_svg_and_get_avatar_redirects_to_it() {
    let app = spawn_app().await;
    let (_, me) = app.get("/api/v1/me", Some(&app.admin)).await;
    assert_eq!(me["avatarUrl"], json!("http://localhost:3000/avatar/admin"));
    let resp = app.client.get(app.url("/avatar/admin?size=64")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    let svg = resp.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 64 64\"") && svg.contains("\nA\n"), "{svg}");
    assert!(svg.contains("fill=\"#6C727A\""), "the colour follows the name's length: {svg}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = client.get(app.url("/api/v1/users.getAvatar?username=admin")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(resp.headers()["location"], "http://localhost:3000/avatar/admin");
    let resp = client.get(app.url("/api/v1/users.getAvatar?username=nobody")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// A SAYMON client naming a user by a SAYMON (ObjectId) id tokend does not hold gets 404.
#[tokio::test]
async fn saymon_answers_404_for_an_unknown_user_id() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    for id in ["5e78c51788c61a1fbf34b673", "23456789ABCDEFGHJ"] {
        for (method, suffix) in [(Method::GET, ""), (Method::POST, "/auth-token"), (Method::DELETE, "")] {
            let req = app.saymon(method.clone(), &format!("/node/api/users/{id}{suffix}?api-token={token}"));
            let expected = saymon_error("NotFound", &format!("User {id} not found"));
            assert_eq!(app.send(req).await, (StatusCode::NOT_FOUND, expected), "{method} {id}{suffix}");
        }
    }
}
