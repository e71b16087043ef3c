//! The password-method 2FA challenge on gated routes (spec §10.2–10.4, DESIGN decision 12):
//! required, invalid, passed, remembered per client, and the bypasses.

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const UPDATE: &str = "/api/v1/users.update";
const REGENERATE: &str = "/api/v1/users.regeneratePersonalAccessToken";
const REMOVE: &str = "/api/v1/users.removePersonalAccessToken";
const BAD: StatusCode = StatusCode::BAD_REQUEST;
const PASSWORD: &str = "bob-password";
const AN_HOUR: Duration = Duration::from_secs(3600);

fn challenge(code: &str, reason: &str) -> Value {
    let mut body = meteor_error(code, reason);
    body["details"] = json!({"method": "password", "codeGenerated": false, "availableMethods": []});
    body
}

fn required() -> Value {
    challenge("totp-required", "TOTP Required")
}

fn invalid() -> Value {
    challenge("totp-invalid", "TOTP Invalid")
}

/// A server where every password user is challenged on every gated request.
async fn always_challenging() -> TestApp {
    spawn_app_with(|c| c.two_factor_remember = Duration::ZERO).await
}

/// bob, logged in on a server where `users.create` itself may challenge the admin.
async fn bob(app: &TestApp) -> Session {
    app.create_user_past_2fa("bob", PASSWORD, &["user"]).await;
    app.login("bob", PASSWORD).await
}

/// Headers of a client identifying as `agent`, optionally carrying the code for `password`.
fn client(agent: &'static str, password: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("User-Agent", agent.to_string())];
    if let Some(password) = password {
        headers.push(("x-2fa-code", two_factor_code(password)));
        headers.push(("x-2fa-method", "password".to_string()));
    }
    headers
}

async fn generate(app: &TestApp, who: &Session, name: &str, headers: &[(&'static str, String)]) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_with(GENERATE, json!({"tokenName": name}), who, &headers).await
}

#[tokio::test]
async fn a_gated_route_asks_for_the_password_code_refuses_a_wrong_one_and_accepts_the_right_one() {
    let app = always_challenging().await;
    let bob = bob(&app).await;
    assert_eq!(generate(&app, &bob, "ci", &client("cli/1", None)).await, (BAD, required()));
    assert_eq!(generate(&app, &bob, "ci", &client("cli/1", Some("not-bobs-password"))).await, (BAD, invalid()));
    let garbage = [("User-Agent", "cli/1".to_string()), ("x-2fa-code", "123456".to_string())];
    assert_eq!(generate(&app, &bob, "ci", &garbage).await, (BAD, invalid()));
    let (status, body) = generate(&app, &bob, "ci", &client("cli/1", Some(PASSWORD))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Without the remember window, the very next request is challenged again.
    assert_eq!(generate(&app, &bob, "ci-2", &client("cli/1", None)).await, (BAD, required()));
}

#[tokio::test]
async fn the_code_is_compared_case_insensitively() {
    let app = always_challenging().await;
    let bob = bob(&app).await;
    let upper = [("x-2fa-code", two_factor_code(PASSWORD).to_uppercase())];
    let (status, body) = generate(&app, &bob, "ci", &upper).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_challenge_comes_before_parameter_checks_and_guards_regenerate_and_remove() {
    let app = always_challenging().await;
    let bob = bob(&app).await;
    assert_eq!(app.post(GENERATE, json!({}), Some(&bob)).await, (BAD, required()));
    app.generate_pat(&bob, PASSWORD, "ci", false).await;
    for path in [REGENERATE, REMOVE] {
        assert_eq!(app.post(path, json!({"tokenName": "ci"}), Some(&bob)).await, (BAD, required()), "{path}");
        let wrong = two_factor_code("wrong");
        let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &bob, &[("x-2fa-code", &wrong)]).await;
        assert_eq!((status, body), (BAD, invalid()), "{path}");
        let right = two_factor_code(PASSWORD);
        let (status, body) = app.post_with(path, json!({"tokenName": "ci"}), &bob, &[("x-2fa-code", &right)]).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_passed_challenge_is_remembered_for_the_same_token_and_client_only() {
    let app = spawn_app_with(|c| c.two_factor_remember = Duration::from_secs(60)).await;
    let bob = app.user_session("bob").await;
    app.age_account(&bob.user_id, AN_HOUR).await;
    assert_eq!(generate(&app, &bob, "one", &client("agent-a", None)).await, (BAD, required()));
    assert_eq!(generate(&app, &bob, "one", &client("agent-a", Some(PASSWORD))).await.0, StatusCode::OK);
    let (status, body) = generate(&app, &bob, "two", &client("agent-a", None)).await;
    assert_eq!(status, StatusCode::OK, "the same client within the window: {body}");
    assert_eq!(generate(&app, &bob, "three", &client("agent-b", None)).await, (BAD, required()));
    // Same token and user agent from another address (127.0.0.2 is loopback too).
    let elsewhere = reqwest::Client::builder().local_address("127.0.0.2".parse().ok()).build().unwrap();
    let req = elsewhere.post(app.url(GENERATE)).json(&json!({"tokenName": "three"})).header("User-Agent", "agent-a");
    let req = req.header("X-User-Id", &bob.user_id).header("X-Auth-Token", &bob.token);
    assert_eq!(app.send(req).await, (BAD, required()));
    let second_login = app.login("bob", PASSWORD).await;
    assert_eq!(generate(&app, &second_login, "three", &client("agent-a", None)).await, (BAD, required()));
    // Once the window has passed, the same client is challenged again.
    app.store().execute("UPDATE tokens SET two_factor_until = two_factor_until - 61000", params![]).unwrap();
    assert_eq!(generate(&app, &bob, "three", &client("agent-a", None)).await, (BAD, required()));
}

#[tokio::test]
async fn with_2fa_switched_off_nothing_is_challenged() {
    let app = spawn_app_with(|c| {
        c.two_factor_enabled = false;
        c.two_factor_remember = Duration::ZERO;
    })
    .await;
    let bob = app.user_session("bob").await;
    for (path, name) in [(GENERATE, "ci"), (REGENERATE, "ci"), (REMOVE, "ci")] {
        let (status, body) = app.post(path, json!({"tokenName": name}), Some(&bob)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_pat_created_with_bypass_skips_the_challenge_and_an_ordinary_pat_does_not() {
    let app = always_challenging().await;
    let bob = bob(&app).await;
    let bypass = app.generate_pat(&bob, PASSWORD, "bypass", true).await;
    let plain = app.generate_pat(&bob, PASSWORD, "plain", false).await;
    // A gated route a PAT may call (PATs never manage tokens: catalogue item 40).
    let rename = |name: &str| json!({"userId": bob.user_id, "data": {"name": name}});
    let (status, body) = app.post(UPDATE, rename("From Bypass"), Some(&bypass)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.post(UPDATE, rename("From Plain"), Some(&plain)).await, (BAD, required()));
    // The flag survives regeneration (§9.1).
    let code = two_factor_code(PASSWORD);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    let (status, body) = app.post_with(REGENERATE, json!({"tokenName": "bypass"}), &bob, &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = Session { user_id: bob.user_id.clone(), token: body["token"].as_str().unwrap().into() };
    let (status, body) = app.post(UPDATE, rename("From Renewed"), Some(&renewed)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_fresh_account_is_not_challenged_until_the_remember_period_has_passed() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.post(GENERATE, json!({"tokenName": "fresh"}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.age_account(&bob.user_id, AN_HOUR).await;
    assert_eq!(app.post(GENERATE, json!({"tokenName": "aged"}), Some(&bob)).await, (BAD, required()));
}
