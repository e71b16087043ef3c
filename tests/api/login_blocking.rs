//! Failed-login blocking (spec/rocketchat.md §13): per account and per address, counted since
//! the last success, covering Rocket.Chat and SAYMON password logins and 2FA failures.

use crate::helpers::*;
use crate::totp::{enrol, login as totp_login};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const LOGIN: &str = "/api/v1/login";

fn blocked(error: &str, message: &str) -> (StatusCode, Value) {
    let details = json!({"function": "Accounts.validateLoginAttempt"});
    let body = json!({"success": false, "error": error, "status": "error", "details": details, "message": message});
    (StatusCode::UNAUTHORIZED, body)
}

fn blocked_for_user() -> (StatusCode, Value) {
    blocked("error-login-blocked-for-user", "Login has been temporarily blocked For User")
}

async fn wrong(app: &TestApp, user: &str) -> StatusCode {
    app.post(LOGIN, json!({"user": user, "password": "not-the-password"}), None).await.0
}

#[tokio::test]
async fn ten_failures_block_the_account_even_for_the_right_password_but_not_others() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    app.create_user("carol", "carol-password", &["user"]).await;
    for _ in 0..10 {
        assert_eq!(wrong(&app, "bob").await, StatusCode::UNAUTHORIZED);
    }
    let right = json!({"user": "bob", "password": "bob-password"});
    assert_eq!(app.post(LOGIN, right.clone(), None).await, blocked_for_user());
    // The e-mail names the same account.
    let by_email = json!({"user": "bob@example.com", "password": "bob-password"});
    assert_eq!(app.post(LOGIN, by_email, None).await, blocked_for_user());
    app.login("carol", "carol-password").await;
}

#[tokio::test]
async fn an_unknown_name_is_blocked_exactly_like_a_real_account() {
    let app = spawn_app().await;
    for _ in 0..10 {
        wrong(&app, "nobody").await;
    }
    let attempt = app.post(LOGIN, json!({"user": "nobody", "password": "x"}), None).await;
    assert_eq!(attempt, blocked_for_user(), "blocking must not reveal that the account does not exist");
}

#[tokio::test]
async fn the_block_lifts_after_the_window_and_a_success_starts_the_count_again() {
    let app = spawn_app_with(|c| c.login_guard.user_window_ms = 3_000).await;
    app.create_user("bob", "bob-password", &["user"]).await;
    for _ in 0..10 {
        wrong(&app, "bob").await;
    }
    assert_eq!(app.post(LOGIN, json!({"user": "bob", "password": "bob-password"}), None).await, blocked_for_user());
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    app.login("bob", "bob-password").await;
    for _ in 0..9 {
        wrong(&app, "bob").await;
    }
    app.login("bob", "bob-password").await; // nine failures since the last success: not blocked
}

#[tokio::test]
async fn an_address_is_blocked_after_its_own_threshold_unless_allow_listed() {
    let app = spawn_app_with(|c| c.login_guard.ip_attempts = 5).await;
    app.create_user("bob", "bob-password", &["user"]).await;
    for i in 0..5 {
        wrong(&app, &format!("someone-{i}")).await;
    }
    let expected = blocked("error-login-blocked-for-ip", "Login has been temporarily blocked For IP");
    assert_eq!(app.post(LOGIN, json!({"user": "bob", "password": "bob-password"}), None).await, expected);

    let allowed = spawn_app_with(|c| {
        c.login_guard.ip_attempts = 5;
        c.login_guard.ip_allowlist = vec!["127.0.0.1".into()];
    })
    .await;
    for i in 0..6 {
        wrong(&allowed, &format!("someone-{i}")).await;
    }
    allowed.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn second_factor_failures_at_login_count_toward_the_block() {
    let app = spawn_app_with(|c| c.login_guard.user_attempts = 3).await;
    let alice = app.user_session("alice").await;
    enrol(&app, &alice).await;
    for _ in 0..3 {
        let (status, body) = totp_login(&app, "alice", Some("000000")).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("totp-invalid")));
    }
    assert_eq!(totp_login(&app, "alice", None).await, blocked_for_user());
}

#[tokio::test]
async fn saymon_basic_and_session_logins_are_blocked_too() {
    let app = spawn_app_with(|c| c.login_guard.user_attempts = 3).await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let r = client.get(app.url("/node/api/users/current")).basic_auth("bob", Some("nope")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let expected = json!({"code": "TooManyRequests", "message": "Too many failed logins: try again in a few minutes"});
    let basic =
        client.get(app.url("/node/api/users/current")).basic_auth("bob", Some("bob-password")).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(basic.json::<Value>().await.unwrap(), expected);
    let session = app.post("/node/api/users/session", json!({"login": "bob", "password": "bob-password"}), None).await;
    assert_eq!(session, (StatusCode::TOO_MANY_REQUESTS, expected));
    assert_eq!(app.post(LOGIN, json!({"user": "bob", "password": "bob-password"}), None).await, blocked_for_user());
}

#[tokio::test]
async fn with_blocking_switched_off_failures_never_block() {
    let app = spawn_app_with(|c| c.login_guard.enabled = false).await;
    for _ in 0..12 {
        wrong(&app, ADMIN_USERNAME).await;
    }
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
}
