//! Token expiry (issue 17): PATs and SAYMON API tokens created with `expiresInDays` or
//! `expiresAt` stop working at that instant, in both dialects and even while cached; the
//! instance maximum caps requests and applies to tokens created without one; bad lifetimes
//! get the dialect's 4xx; the owner of a PAT is mailed once a week before it expires.

use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokend::config::SmtpSettings;

const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const REGENERATE: &str = "/api/v1/users.regeneratePersonalAccessToken";
const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn ms_of(iso: &Value) -> i64 {
    let text = iso.as_str().expect("a date");
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

async fn generate(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let code = two_factor_code(ADMIN_PASSWORD);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    app.post_with(GENERATE, body, &app.admin, &headers).await
}

async fn pat_list(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/users.getPersonalAccessTokens", Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tokens"].as_array().unwrap().clone()
}

/// Moves a stored credential's expiry to `at`, from outside the server (as an operator
/// could); waits until the server noticed.
async fn expire_at(app: &TestApp, table: &str, token: &str, at: i64) {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    let sql = format!("UPDATE {table} SET expires_at = ?1 WHERE token_hash = ?2");
    assert_eq!(app.store().execute(&sql, params![at, hash]).unwrap(), 1);
    app.settle().await;
}

#[tokio::test]
async fn a_pat_with_an_expiry_works_until_that_instant_and_not_after_even_when_cached() {
    let app = spawn_app().await;
    let before = now_ms();
    let (status, body) = generate(&app, json!({"tokenName": "ci", "expiresInDays": 3})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pat = Session { user_id: app.admin.user_id.clone(), token: body["token"].as_str().unwrap().into() };
    let expires = ms_of(&pat_list(&app).await[0]["expiresAt"]);
    assert!((before + 3 * DAY_MS..=now_ms() + 3 * DAY_MS).contains(&expires), "{expires}");
    // The boundary: the token answers (and is cached) right before it, never after.
    let boundary = now_ms() + 1_500;
    expire_at(&app, "tokens", &pat.token, boundary).await;
    assert!(app.authenticates(&pat).await, "valid before its expiry");
    assert!(app.authenticates(&pat).await, "served from the cache");
    tokio::time::sleep(Duration::from_millis((boundary - now_ms()).max(0) as u64 + 50)).await;
    assert_eq!(app.get("/api/v1/me", Some(&pat)).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let at = json!({"tokenName": "dated", "expiresAt": tokend::clock::iso(now_ms() + DAY_MS)});
    let (status, body) = generate(&app, at).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_saymon_api_token_with_an_expiry_is_refused_after_it() {
    let app = spawn_app().await;
    let path = format!("/node/api/users/{}/auth-token", app.admin.user_id);
    let (status, token) = app.send(app.as_admin(Method::POST, &path).json(&json!({"expiresInDays": 1}))).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token.as_str().unwrap().to_string();
    let boundary = now_ms() + 1_500;
    expire_at(&app, "saymon_tokens", &token, boundary).await;
    assert_eq!(app.saymon_current(&token).await.0, StatusCode::OK);
    assert_eq!(app.saymon_current(&token).await.0, StatusCode::OK, "cached");
    tokio::time::sleep(Duration::from_millis((boundary - now_ms()).max(0) as u64 + 50)).await;
    assert_eq!(app.current_by_token(&token).await, saymon_unauthorized("Unauthorized", "Invalid API token."));
}

#[tokio::test]
async fn absurd_or_malformed_lifetimes_get_the_dialects_4xx() {
    let app = spawn_app().await;
    let past = tokend::clock::iso(now_ms() - 1_000);
    let bad = [
        json!({"expiresInDays": 0}),
        json!({"expiresInDays": -5}),
        json!({"expiresInDays": 36_501}),
        json!({"expiresInDays": 1e30}),
        json!({"expiresInDays": "7"}),
        json!({"expiresInDays": 2, "expiresAt": "2099-01-01T00:00:00Z"}),
        json!({"expiresAt": past}),
        json!({"expiresAt": "next tuesday"}),
        json!({"expiresAt": "3000-01-01T00:00:00Z"}),
    ];
    let path = format!("/node/api/users/{}/auth-token", app.admin.user_id);
    for lifetime in bad {
        let mut body = lifetime.clone();
        body["tokenName"] = json!("x");
        let (status, answer) = generate(&app, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{lifetime}: {answer}");
        assert_eq!(answer["success"], false);
        let (status, answer) = app.send(app.as_admin(Method::POST, &path).json(&lifetime)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "SAYMON {lifetime}: {answer}");
        assert_eq!(answer["code"], "BadRequest", "{answer}");
    }
    assert!(pat_list(&app).await.is_empty(), "nothing was created");
    let code = two_factor_code(ADMIN_PASSWORD);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    generate(&app, json!({"tokenName": "ci"})).await;
    for grace in [json!(-1), json!(604_801), json!("60")] {
        let body = json!({"tokenName": "ci", "graceSeconds": grace});
        let (status, answer) = app.post_with(REGENERATE, body, &app.admin, &headers).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{grace}: {answer}");
    }
}

#[tokio::test]
async fn the_instance_maximum_caps_requests_and_applies_to_tokens_asked_without_one() {
    let app = spawn_app_with(|c| c.max_token_lifetime_days = Some(30)).await;
    let (status, body) = generate(&app, json!({"tokenName": "long", "expiresInDays": 31})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("at most 30 days"), "{body}");
    let before = now_ms();
    let (status, body) = generate(&app, json!({"tokenName": "default"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expires = ms_of(&pat_list(&app).await[0]["expiresAt"]);
    assert!((before + 30 * DAY_MS..=now_ms() + 30 * DAY_MS).contains(&expires), "{expires}");
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    app.saymon_token(&bob).await;
    let (status, body) = app.get(&with_query("/api/v1/tokend.userTokens", &[("userId", &bob)]), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expires = ms_of(&body["saymonApiToken"]["expiresAt"]);
    assert!((before + 30 * DAY_MS..=now_ms() + 30 * DAY_MS).contains(&expires), "{body}");
}

#[tokio::test]
async fn the_owner_is_mailed_once_a_week_before_a_pat_expires() {
    let sink = SmtpSink::start().await;
    let smtp = SmtpSettings::parse(&sink.url(), "tokend <noreply@example.com>").unwrap();
    let app = spawn_app_with(move |c| {
        c.smtp = Some(smtp);
        c.purge_interval = Duration::from_millis(300);
    })
    .await;
    let bob = app.user_session("bob").await;
    let code = two_factor_code("bob-password");
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    for (name, days) in [("soon", 6), ("later", 8)] {
        let body = json!({"tokenName": name, "expiresInDays": days});
        let (status, body) = app.post_with(GENERATE, body, &bob, &headers).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(sink.count(), 1, "one mail, for the PAT inside the week, sent once");
    let mail = sink.last();
    assert_eq!(mail.rcpt_to, vec!["<bob@example.com>".to_string()]);
    assert!(mail.data.contains("\"soon\"") && !mail.data.contains("\"later\""), "{}", mail.data);
}
