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
    assert_eq!((&created["success"], &created["user"]["username"]), (&json!(true), &json!("bob")), "{created}");
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
    // tokend's stricter rule (README "Deliberate differences"), as an error of the PAT
    // method Rocket.Chat's route calls.
    let login_required = |method: &str| {
        let mut body = meteor_error(
            "error-login-token-required",
            "Personal access tokens cannot manage tokens or credentials; log in",
        );
        body["details"] = json!({"method": format!("personalAccessTokens:{method}")});
        (StatusCode::BAD_REQUEST, body)
    };
    assert_eq!(app.post(REMOVE, json!({"tokenName": "other"}), Some(&ci)).await, login_required("removeToken"));
    assert!(app.authenticates(&other).await, "a PAT cannot remove a sibling");
    let body = json!({"tokenName": "new", "bypassTwoFactor": true});
    let minted = app.post("/api/v1/users.generatePersonalAccessToken", body, Some(&ci)).await;
    assert_eq!(minted, login_required("generateToken"), "a PAT still cannot mint");
    let body = json!({"tokenName": "ci"});
    let regenerated = app.post("/api/v1/users.regeneratePersonalAccessToken", body, Some(&ci)).await;
    assert_eq!(regenerated, login_required("regenerateToken"), "nor regenerate itself");
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
    // E-mail codes likewise, once switched on (which needs SMTP).
    let sink = crate::helpers_smtp::SmtpSink::start().await;
    let app = crate::email_2fa::app_mailing_to(&sink.url()).await;
    let carol = crate::email_2fa::verified_user(&app, "carol").await;
    let (_, me) = app.get("/api/v1/me", Some(&carol)).await;
    assert_eq!(me["services"], json!({"password": {"exists": true}}));
    let dave = crate::email_2fa::email_user(&app, "dave").await;
    let (_, me) = app.get("/api/v1/me", Some(&dave)).await;
    assert_eq!(me["services"], json!({"password": {"exists": true}, "email2fa": {"enabled": true}}));
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

/// Rocket.Chat's `renderSVGLetters` for a one-letter avatar of `size` pixels, byte for byte.
fn letter_svg(colour: &str, letter: &str, size: u32, font_size: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{colour}\"/>\n\
         <text x=\"50%\" y=\"50%\" dy=\"0.36em\" text-anchor=\"middle\" pointer-events=\"none\" fill=\"#ffffff\" \
         font-family=\"'Helvetica', 'Arial', 'Lucida Grande', 'sans-serif'\" font-size=\"{font_size}\">\n{letter}\n</text>\n</svg>"
    )
}

/// `/me`'s `avatarUrl` leads to Rocket.Chat's letter avatar (`server/routes/avatar`): the
/// first letter on a colour picked by the name's length, `size` read as `parseInt` and
/// clamped to 16–1024, its caching headers, a 304 for its fixed `Last-Modified`.
#[tokio::test]
async fn the_advertised_avatar_url_serves_rocket_chats_letter_svg() {
    let app = spawn_app().await;
    let (_, me) = app.get("/api/v1/me", Some(&app.admin)).await;
    assert_eq!(me["avatarUrl"], json!("http://localhost:3000/avatar/admin"));
    let resp = app.client.get(app.url("/avatar/admin?size=64")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert_eq!(headers["cache-control"], "public, max-age=3600");
    assert_eq!(headers["content-disposition"], "inline");
    assert_eq!(headers["last-modified"], "Thu, 01 Jan 2015 00:00:00 GMT");
    // "admin" has 5 characters: the palette's sixth colour; 64 / 1.6 = 40.
    assert_eq!(resp.text().await.unwrap(), letter_svg("#6C727A", "A", 64, "40"));
    for (path, expected) in [
        ("/avatar/bob", letter_svg("#E26D0E", "B", 200, "125")),
        ("/avatar/@_carol?size=0", letter_svg("#158D65", "C", 200, "125")),
        ("/avatar/nobody-at-all?size=50px", letter_svg("#7F1B9F", "N", 50, "31.25")),
        ("/avatar/dave?size=-3", letter_svg("#10529E", "D", 16, "10")),
        ("/avatar/eve?size=4096", letter_svg("#E26D0E", "E", 1024, "640")),
    ] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.text().await.unwrap(), expected, "{path}");
    }
    let cached = app.client.get(app.url("/avatar/admin?cacheTime=60")).send().await.unwrap();
    assert_eq!(cached.headers()["cache-control"], "public, max-age=60");
    let revalidated = app
        .client
        .get(app.url("/avatar/admin"))
        .header("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.text().await.unwrap(), "");
}

/// `users.getAvatar` (no login) redirects to the avatar, the URL also as the JSON body;
/// an unknown or missing user is `getUserFromParams`' error.
#[tokio::test]
async fn get_avatar_redirects_to_the_avatar_and_refuses_unknown_users_in_rocket_chats_words() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for query in ["username=admin", &format!("userId={}", app.admin.user_id)] {
        let resp = client.get(app.url(&format!("/api/v1/users.getAvatar?{query}"))).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT, "{query}");
        assert_eq!(resp.headers()["location"], "http://localhost:3000/avatar/admin");
        assert_eq!(resp.json::<serde_json::Value>().await.unwrap(), json!("http://localhost:3000/avatar/admin"));
    }
    let unknown = meteor_error(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    );
    let missing =
        meteor_error("error-user-param-not-provided", "The required \"userId\" or \"username\" param was not provided");
    assert_eq!(app.get("/api/v1/users.getAvatar?username=nobody", None).await, (StatusCode::BAD_REQUEST, unknown));
    assert_eq!(app.get("/api/v1/users.getAvatar", None).await, (StatusCode::BAD_REQUEST, missing));
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
