//! The REST rate limiter (spec/rocketchat.md §12, catalogue items 62–64): per client address,
//! route and method; `X-RateLimit-*` headers; Rocket.Chat's 429 body; the
//! `api-bypass-rate-limit` exemption; `X-Forwarded-For` trusted only behind configured proxies.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokend::config::{Config, RateLimitScope};

const LOGIN: &str = "/api/v1/login";

/// A server limiting sensitive routes to `calls` per minute (the admin's own login, made by
/// spawn_app, has already used one call of `/api/v1/login`).
pub async fn limited_app(calls: u32, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(|c| {
        c.limits.rate_limit.scope = RateLimitScope::Sensitive;
        c.limits.rate_limit.calls = calls;
        c.login_guard.enabled = false;
        adjust(c);
    })
    .await
}

pub fn rate_headers(response: &reqwest::Response) -> Option<(u32, u32, i64)> {
    let header = |name: &str| response.headers().get(name)?.to_str().ok()?.parse::<i64>().ok();
    Some((header("x-ratelimit-limit")? as u32, header("x-ratelimit-remaining")? as u32, header("x-ratelimit-reset")?))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Rocket.Chat's wording, with the wait the reset header implies.
pub fn assert_too_many(body: &Value, reset_ms: i64) {
    let wait = (reset_ms - now_ms() + 999) / 1000;
    let message = body["error"].as_str().or(body["message"].as_str()).expect("a message");
    let told: i64 = message
        .strip_prefix("Error, too many requests. Please slow down. You must wait ")
        .and_then(|rest| rest.strip_suffix(" seconds before trying this endpoint again."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected wording: {message}"));
    assert!((wait - 1..=wait + 1).contains(&told), "told to wait {told} s, the window closes in {wait} s");
}

async fn wrong_login(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = app.client.post(app.url(LOGIN)).json(&json!({"user": "admin", "password": "wrong-password"}));
    if let Some(addr) = forwarded_for {
        req = req.header("x-forwarded-for", addr);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn login_is_limited_per_address_with_rocket_chat_headers_and_body() {
    let app = limited_app(4, |_| {}).await;
    let before = now_ms();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = wrong_login(&app, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let (limit, left, reset) = rate_headers(&response).expect("rate-limit headers");
        assert_eq!(limit, 4);
        assert!(reset >= before + 55_000 && reset <= now_ms() + 60_000, "reset is epoch ms: {reset}");
        remaining.push(left);
    }
    assert_eq!(remaining, [2, 1, 0]);
    // Over the limit, even the right password is refused until the window closes.
    let response =
        app.client.post(app.url(LOGIN)).json(&json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, left, reset) = rate_headers(&response).expect("headers on the refusal too");
    assert_eq!(left, 0);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], json!(false));
    assert_eq!(body.as_object().unwrap().len(), 2, "only success and error: {body}");
    assert_too_many(&body, reset);
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK, "other routes are not limited");
}

#[tokio::test]
async fn each_route_and_method_has_its_own_window_and_unlisted_routes_no_headers() {
    let app = limited_app(1, |c| c.create_tokens_for_users = true).await;
    assert_eq!(wrong_login(&app, None).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let me = app.client.get(app.url("/api/v1/me")).header("x-user-id", &app.admin.user_id);
    let me = me.header("x-auth-token", &app.admin.token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert!(rate_headers(&me).is_none(), "/me is not a sensitive route");
    // A plain user minting for themself is counted on users.createToken's own window.
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let mint = json!({"userId": bob});
    let (status, minted) = app.post("/api/v1/users.createToken", mint.clone(), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "the admin is exempt: {minted}");
    let bob_session = Session { user_id: bob, token: minted["data"]["authToken"].as_str().unwrap().to_string() };
    let first = app.post("/api/v1/users.createToken", mint.clone(), Some(&bob_session)).await.0;
    assert_eq!(first, StatusCode::OK);
    assert_eq!(app.post("/api/v1/users.createToken", mint, Some(&bob_session)).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn holders_of_api_bypass_rate_limit_are_not_counted() {
    let app = limited_app(1, |c| c.create_tokens_for_users = true).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    for _ in 0..5 {
        let response = app
            .client
            .post(app.url("/api/v1/users.createToken"))
            .header("x-user-id", &app.admin.user_id)
            .header("x-auth-token", &app.admin.token)
            .json(&json!({"userId": bob}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(rate_headers(&response).is_none(), "exempt callers are not counted at all");
    }
}

#[tokio::test]
async fn saymon_logins_are_limited_in_saymon_envelope() {
    let app = limited_app(2, |_| {}).await;
    let session = |password: &'static str| {
        app.saymon(reqwest::Method::POST, "/node/api/users/session")
            .json(&json!({"login": "admin", "password": password}))
    };
    for _ in 0..2 {
        assert_eq!(session("wrong-password").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let refused = session(ADMIN_PASSWORD).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, _, reset) = rate_headers(&refused).unwrap();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], json!("TooManyRequests"), "{body}");
    assert_too_many(&body, reset);
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = limited_app(3, |_| {}).await;
    for i in 0..2 {
        wrong_login(&app, Some(&format!("198.51.100.{i}"))).await;
    }
    // Catalogue 62: rotating X-Forwarded-For from an untrusted peer changes nothing.
    for i in 10..20 {
        let status = wrong_login(&app, Some(&format!("198.51.100.{i}"))).await.status();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_window() {
    let app = limited_app(2, |c| c.limits.forwarded_count = 1).await;
    // The admin's login came without the header, so it counted against 127.0.0.1 only.
    for _ in 0..2 {
        assert_eq!(wrong_login(&app, Some("203.0.113.5")).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(wrong_login(&app, Some("203.0.113.5")).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // A client-written entry before the proxy's does not help: the proxy's entry decides.
    let spoofed = wrong_login(&app, Some("192.0.2.99, 203.0.113.5")).await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(wrong_login(&app, Some("203.0.113.6")).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_trusted_client_address_also_drives_failed_login_blocking() {
    let app = spawn_app_with(|c| {
        c.limits.forwarded_count = 1;
        c.login_guard.ip_attempts = 3;
    })
    .await;
    for _ in 0..3 {
        wrong_login(&app, Some("203.0.113.7")).await;
    }
    let blocked: Value = wrong_login(&app, Some("203.0.113.7")).await.json().await.unwrap();
    assert_eq!(blocked["error"], json!("error-login-blocked-for-ip"));
    let other: Value = wrong_login(&app, Some("203.0.113.8")).await.json().await.unwrap();
    assert_eq!(other["error"], json!("Unauthorized"), "another client is only told the password is wrong: {other}");
}

#[tokio::test]
async fn every_route_is_limited_in_all_scope_and_none_when_off() {
    let all = limited_app(2, |c| c.limits.rate_limit.scope = RateLimitScope::All).await;
    let statuses: Vec<StatusCode> = {
        let mut s = Vec::new();
        for _ in 0..3 {
            s.push(all.client.get(all.url("/api/info")).send().await.unwrap().status());
        }
        s
    };
    assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    let off = limited_app(1, |c| c.limits.rate_limit.scope = RateLimitScope::Off).await;
    for _ in 0..5 {
        let response = wrong_login(&off, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(rate_headers(&response).is_none());
    }
}

#[tokio::test]
async fn an_address_guessing_tokens_is_refused_after_ten_times_the_call_limit() {
    let app = limited_app(2, |_| {}).await;
    let mut first_refusal = None;
    for i in 0..40 {
        let token = uuid::Uuid::new_v4().to_string();
        let url = with_query("/node/api/users/current", &[("api-token", &token)]);
        let status = app.client.get(app.url(&url)).send().await.unwrap().status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            first_refusal.get_or_insert(i);
        } else {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(first_refusal, Some(20), "catalogue 64: 2 calls × 10 failures allowed, then 429");
    // Valid credentials from the same address are refused too until the window closes,
    // so a guess that happens to hit cannot be told apart by its status.
    assert_eq!(app.get("/api/v1/me", Some(&app.admin)).await.0, StatusCode::TOO_MANY_REQUESTS);
    // Requests without credentials are not affected.
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn wrong_second_factors_on_a_gated_route_run_into_the_limit() {
    let app = limited_app(10, |c| c.create_tokens_for_users = true).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let (_, minted) = app.post("/api/v1/users.createToken", json!({"userId": bob}), Some(&app.admin)).await;
    let bob = Session { user_id: bob, token: minted["data"]["authToken"].as_str().unwrap().to_string() };
    // Past the fresh-account grace, so every call is challenged.
    app.age_account(&bob.user_id, std::time::Duration::from_secs(86_400)).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let wrong = two_factor_code(&format!("guess-{i}"));
        let headers = [("x-2fa-code", wrong.as_str()), ("x-2fa-method", "password")];
        let body = json!({"tokenName": "ci", "bypassTwoFactor": false});
        statuses.push(app.post_with("/api/v1/users.generatePersonalAccessToken", body, &bob, &headers).await.0);
    }
    // Catalogue 63: ten guesses (answered totp-invalid), then 429 for the rest of the window.
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::BAD_REQUEST), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let (_, listed) = app.get("/api/v1/users.getPersonalAccessTokens", Some(&bob)).await;
    assert_eq!(listed["tokens"], json!([]), "no token was created by a guess");
}

#[tokio::test]
async fn saymon_auth_token_minting_is_counted_per_route_pattern_for_basic_callers() {
    let app = limited_app(2, |_| {}).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let carol = app.create_user("carol", "carol-password", &["user"]).await;
    let mint = |id: &str| {
        let path = format!("/node/api/users/{id}/auth-token");
        app.basic(reqwest::Method::POST, &path, ADMIN_USERNAME, ADMIN_PASSWORD)
    };
    assert_eq!(mint(&bob).send().await.unwrap().status(), StatusCode::OK);
    // Another id is the same route: Basic credentials are not checked for the exemption.
    assert_eq!(mint(&carol).send().await.unwrap().status(), StatusCode::OK);
    let refused = mint(&bob).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], json!("TooManyRequests"));
}

#[tokio::test]
async fn a_saymon_api_token_exempts_its_holder_only_while_the_scheme_is_on() {
    for scheme_on in [true, false] {
        let app = limited_app(1, |c| c.saymon_api_token = scheme_on).await;
        let bob = app.create_user("bob", "bob-password", &["user"]).await;
        let admin_token: String = {
            let path = format!("/node/api/users/{}/auth-token", app.admin.user_id);
            let response =
                app.basic(reqwest::Method::POST, &path, ADMIN_USERNAME, ADMIN_PASSWORD).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "Basic is counted: the first call is allowed");
            response.json().await.unwrap()
        };
        let path = with_query(&format!("/node/api/users/{bob}/auth-token"), &[("api-token", &admin_token)]);
        let response = app.client.post(app.url(&path)).send().await.unwrap();
        if scheme_on {
            assert_eq!(response.status(), StatusCode::OK);
            assert!(rate_headers(&response).is_none(), "the holder of api-bypass-rate-limit is not counted");
        } else {
            // The scheme is off, so the token proves nothing: counted, and over the limit.
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        }
    }
}
