//! Regression tests for the attack run's findings 4 (300 concurrent guesses, on SAYMON and
//! across both dialects), 10 and 12: each named after its finding.

use crate::helpers::*;
use crate::params;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const OK: StatusCode = StatusCode::OK;
const LOGIN: &str = "/api/v1/login";
const UPDATE: &str = "/api/v1/users.update";
const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const CURRENT: &str = "/node/api/users/current";
const BLOCKED: &str = "error-login-blocked-for-user";

/// What a REST route answers once the account is blocked.
fn blocked_for_user_400() -> (StatusCode, Value) {
    (BAD, meteor_error(BLOCKED, "Login has been temporarily blocked For User"))
}

/// What `/api/v1/login` answers once the account is blocked.
fn login_blocked_for_user_401() -> (StatusCode, Value) {
    let body = json!({"success": false, "error": BLOCKED, "status": "error",
        "details": {"function": "Accounts.validateLoginAttempt"},
        "message": "Login has been temporarily blocked For User"});
    (StatusCode::UNAUTHORIZED, body)
}

/// What SAYMON answers once the account is blocked.
fn too_many_failed_logins_429() -> (StatusCode, Value) {
    let body = json!({"code": "TooManyRequests", "message": "Too many failed logins: try again in a few minutes"});
    (StatusCode::TOO_MANY_REQUESTS, body)
}

/// The headers meeting a password challenge with the code for `password`.
fn password_code(password: &str) -> [(&'static str, String); 2] {
    [("x-2fa-code", two_factor_code(password)), ("x-2fa-method", "password".to_string())]
}

/// `POST path` as `who`, meeting a password challenge with the code for `password`.
async fn post_with_password(
    app: &TestApp,
    path: &str,
    body: Value,
    who: &Session,
    password: &str,
) -> (StatusCode, Value) {
    let headers = password_code(password);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_with(path, body, who, &headers).await
}

/// The e-mail addresses of `user_id`, as the admin sees them.
async fn emails(app: &TestApp, user_id: &str) -> Value {
    let (status, info) = app.get(&format!("/api/v1/users.info?userId={user_id}"), Some(&app.admin)).await;
    assert_eq!(status, OK, "{info}");
    info["user"]["emails"].clone()
}

#[tokio::test]
async fn finding_10_a_user_cannot_vouch_for_their_own_new_email_address() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let before = emails(&app, &bob.user_id).await;
    let vouched = json!({"userId": bob.user_id, "data": {"email": "new@example.com", "verified": true}});
    let (status, body) = post_with_password(&app, UPDATE, vouched, &bob, "bob-password").await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-action-not-allowed")), "{body}");
    assert_eq!(emails(&app, &bob.user_id).await, before, "the stored address is unchanged");

    let changed = json!({"userId": bob.user_id, "data": {"email": "new@example.com"}});
    let (status, body) = post_with_password(&app, UPDATE, changed, &bob, "bob-password").await;
    assert_eq!(status, OK, "{body}");
    assert_eq!(emails(&app, &bob.user_id).await, json!([{"address": "new@example.com", "verified": false}]));

    let verified = json!({"userId": bob.user_id, "data": {"email": "new@example.com", "verified": true}});
    let (status, body) = post_with_password(&app, UPDATE, verified, &app.admin, ADMIN_PASSWORD).await;
    assert_eq!(status, OK, "an admin may vouch for another user's address: {body}");
    assert_eq!(emails(&app, &bob.user_id).await, json!([{"address": "new@example.com", "verified": true}]));
}

#[tokio::test]
async fn finding_12_failed_logins_with_huge_names_store_fixed_size_counters() {
    let app = spawn_app().await;
    let marker = "zq".repeat(30_000);
    for i in 0..30 {
        let body = json!({"user": format!("{marker}{i}"), "password": "not-the-password"});
        let (status, body) = app.post(LOGIN, body, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let rows: Vec<(String, Vec<u8>)> =
        app.store().query("SELECT scope, key FROM secret_failures", params![], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(rows.iter().filter(|(scope, _)| scope == "account").count(), 30, "one counter per name: {rows:?}");
    assert!(rows.iter().all(|(_, key)| key.len() == 32), "every key is 32 bytes: {rows:?}");
    let holding_the_name = rows.iter().filter(|(_, key)| key.windows(8).any(|w| w == b"zqzqzqzq")).count();
    assert_eq!(holding_the_name, 0, "no counter holds the submitted name");
}

#[tokio::test]
async fn finding_04_three_hundred_concurrent_wrong_passwords_verify_at_most_the_limit() {
    let app = spawn_app_with(|c| {
        c.login_guard.user_attempts = 10;
        c.login_guard.ip_attempts = 100_000;
    })
    .await;
    app.create_user_past_2fa("dave", "dave-password", &["user"]).await;
    let burst: Vec<_> = (0..300)
        .map(|i| {
            let guess = app.basic(Method::GET, CURRENT, "dave", &format!("wrong-{i}"));
            tokio::spawn(async move { guess.send().await.expect("request").status() })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in burst {
        answers.push(handle.await.unwrap());
    }
    let verified = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(verified + refused, 300, "{answers:?}");
    assert!((1..=10).contains(&verified), "{verified} wrong passwords were verified, the limit is 10");
    let right = app.basic(Method::GET, CURRENT, "dave", "dave-password");
    assert_eq!(app.send(right).await, too_many_failed_logins_429());
}

/// The three ways to guess a password: SAYMON Basic, Rocket.Chat login, and the password
/// code on a gated route (with a login token of the account).
#[derive(Clone, Copy, Debug)]
enum Route {
    SaymonBasic,
    Login,
    Gated,
}

fn guess(app: &TestApp, who: &Session, route: Route, password: &str) -> reqwest::RequestBuilder {
    match route {
        Route::SaymonBasic => app.basic(Method::GET, CURRENT, "dave", password),
        Route::Login => app.client.post(app.url(LOGIN)).json(&json!({"user": "dave", "password": password})),
        Route::Gated => {
            let mut req = app.client.post(app.url(GENERATE)).json(&json!({"tokenName": "ci"}));
            req = req.header("X-User-Id", &who.user_id).header("X-Auth-Token", &who.token);
            for (name, value) in password_code(password) {
                req = req.header(name, value);
            }
            req
        }
    }
}

/// Whether `answer` is the route's refusal of a blocked account (nothing was verified).
fn is_blocked(route: Route, answer: &(StatusCode, Value)) -> bool {
    match route {
        Route::SaymonBasic => *answer == too_many_failed_logins_429(),
        Route::Login => *answer == login_blocked_for_user_401(),
        Route::Gated => *answer == blocked_for_user_400(),
    }
}

#[tokio::test]
async fn finding_04_three_hundred_guesses_across_both_dialects_and_a_gated_route_verify_at_most_the_limit() {
    let app = spawn_app_with(|c| {
        c.login_guard.user_attempts = 10;
        c.login_guard.ip_attempts = 100_000;
        c.two_factor_remember = Duration::ZERO;
    })
    .await;
    app.create_user_past_2fa("dave", "dave-password", &["user"]).await;
    let dave = app.login("dave", "dave-password").await;
    let routes = [Route::SaymonBasic, Route::Login, Route::Gated];
    let burst: Vec<_> = (0..300)
        .map(|i| {
            let route = routes[i % 3];
            let req = guess(&app, &dave, route, &format!("wrong-{i}"));
            let answer = tokio::spawn(async move {
                let resp = req.send().await.expect("request");
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            });
            (route, answer)
        })
        .collect();
    let mut verified = Vec::new();
    for (route, answer) in burst {
        let answer = answer.await.unwrap();
        assert!(!answer.0.is_success(), "a wrong password passed on {route:?}: {answer:?}");
        if !is_blocked(route, &answer) {
            verified.push((route, answer));
        }
    }
    assert!(
        (1..=10).contains(&verified.len()),
        "{} guesses were verified, the limit is 10: {verified:?}",
        verified.len()
    );
    for route in routes {
        let resp = guess(&app, &dave, route, "dave-password").send().await.expect("request");
        let answer = (resp.status(), resp.json::<Value>().await.unwrap_or(Value::Null));
        assert!(is_blocked(route, &answer), "the right password on {route:?}: {answer:?}");
    }
}
