//! Bad-input catalogue §6 C, Unicode and identity (items 25–30). Decisions pinned here:
//! usernames are matched case-insensitively but never trimmed (DESIGN decision 8), passwords
//! are compared exactly as received — no case folding, no Unicode normalisation, no
//! truncation, since bcrypt runs over their SHA-256 (README "Security").

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const LOGIN: &str = "/api/v1/login";

fn login(app: &TestApp, user: &str, password: &str) -> reqwest::RequestBuilder {
    app.client.post(app.url(LOGIN)).json(&json!({"user": user, "password": password}))
}

async fn logs_in(app: &TestApp, user: &str, password: &str) -> bool {
    app.send(login(app, user, password)).await.0 == StatusCode::OK
}

#[tokio::test]
async fn catalogue_25_padded_names_and_case_flipped_passwords_are_401_case_flipped_names_log_in() {
    let app = spawn_app().await;
    for (user, password) in [
        ("admin ", ADMIN_PASSWORD),
        (" admin", ADMIN_PASSWORD),
        ("admin\t", ADMIN_PASSWORD),
        ("admin", &ADMIN_PASSWORD.to_uppercase()),
    ] {
        refused(&app, &format!("item 25 {user:?}"), login(&app, user, password), login_unauthorized()).await;
    }
    // Case-insensitive names (DESIGN decision 8), the same at sign-up: see users_admin.rs
    // `users_create_refuses_usernames_and_emails_already_in_use_whatever_their_case`.
    assert!(logs_in(&app, "ADMIN", ADMIN_PASSWORD).await && logs_in(&app, "Admin", ADMIN_PASSWORD).await);
    let taken = (StatusCode::CONFLICT, saymon_error("Conflict", "Login \"Admin\" is already in use"));
    let req =
        app.as_admin(Method::POST, "/node/api/users").json(&json!({"login": "Admin", "password": "long-password"}));
    refused(&app, "item 25 SAYMON sign-up as Admin", req, taken).await;
}

#[tokio::test]
async fn catalogue_26_30_confusable_padded_or_nul_usernames_are_refused_at_sign_up_and_login() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password", &["user"]).await;
    for name in ["\u{430}dmin", "admin ", "alice\u{0}admin"] {
        let body = json!({"username": name, "password": "long-password", "name": "x", "email": "x@example.com"});
        let req = app.client.post(app.url("/api/v1/users.create")).json(&body);
        let req = req.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token);
        let mut invalid = meteor_error("error-input-is-not-a-valid-field", &format!("{name} is not a valid username"));
        invalid["details"] = json!({"method": "insertOrUpdateUser", "input": name, "field": "Username"});
        refused(&app, &format!("items 26/30 users.create {name:?}"), req, (StatusCode::BAD_REQUEST, invalid)).await;
        let body = json!({"login": name, "password": "long-password"});
        let req = app.as_admin(Method::POST, "/node/api/users").json(&body);
        let invalid = saymon_error("BadRequest", &format!("Invalid login: {name:?}"));
        refused(&app, &format!("items 26/30 SAYMON {name:?}"), req, (StatusCode::BAD_REQUEST, invalid)).await;
    }
    for (user, password) in [
        ("\u{430}dmin", ADMIN_PASSWORD),
        ("alice\u{0}admin", "alice-password"),
        ("alice\u{0}", "alice-password"),
        ("alice%00", "alice-password"),
    ] {
        refused(&app, &format!("items 26/30 login {user:?}"), login(&app, user, password), login_unauthorized()).await;
    }
}

#[tokio::test]
async fn catalogue_27_nfc_and_nfd_passwords_are_different_passwords_every_time() {
    let app = spawn_app().await;
    let (nfc, nfd) = ("caf\u{e9}-password", "cafe\u{301}-password");
    app.create_user("nfc", nfc, &["user"]).await;
    app.create_user("nfd", nfd, &["user"]).await;
    for _ in 0..2 {
        assert!(logs_in(&app, "nfc", nfc).await && logs_in(&app, "nfd", nfd).await);
        refused(&app, "item 27 NFD for NFC", login(&app, "nfc", nfd), login_unauthorized()).await;
        refused(&app, "item 27 NFC for NFD", login(&app, "nfd", nfc), login_unauthorized()).await;
    }
}

#[tokio::test]
async fn catalogue_28_29_a_73_byte_password_is_verified_in_full_and_nul_is_not_an_end() {
    let app = spawn_app().await;
    let long = format!("{}Z", "p".repeat(72));
    app.create_user("long", &long, &["user"]).await;
    app.create_user("nul", "abc\u{0}defgh", &["user"]).await;
    app.create_user("plain", "abcdefgh", &["user"]).await;
    for (user, password) in [
        ("long", &long[..72]),
        ("long", &format!("{}Y", "p".repeat(72))),
        ("nul", "abc"),
        ("nul", "abcdefgh"),
        ("plain", "abc\u{0}defgh"),
    ] {
        refused(&app, &format!("items 28/29 {user} {password:?}"), login(&app, user, password), login_unauthorized())
            .await;
    }
    assert!(logs_in(&app, "long", &long).await && logs_in(&app, "nul", "abc\u{0}defgh").await);
}

#[tokio::test]
async fn catalogue_section_c_logins_leave_no_password_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let secret = "c-\u{e9}-Secret-pw-\u{430}";
    let bob = logged.create_user("bob", secret).await;
    let nfd = "c-e\u{301}-Secret-pw-\u{430}";
    for (user, password) in [("bob ", secret), ("BOB", &secret.to_uppercase()), ("bob", nfd), ("\u{430}dmin", secret)] {
        let req = logged.client.post(logged.url(LOGIN)).json(&json!({"user": user, "password": password}));
        logged.expect(req, StatusCode::UNAUTHORIZED).await;
    }
    logged.assert_log_free_of(&[secret, nfd, &bob.token, "Secret-pw"], &["\"POST /api/v1/login\" 401"]);
}
