//! `GET /api/ready`: what a load balancer polls to learn whether this node can serve. It
//! answers from the store (a fresh read of the database file), needs no credentials, is never
//! rate-limited, and turns 503 when the database cannot be read, 200 again once it can.
//!
//! The fault: the database file is moved away from its path while the server runs (a volume
//! detached, a file deleted by mistake). Unlike the mounts of `storage_faults/`, this needs
//! no root, so it runs everywhere; the server's open connections keep the moved file, which
//! is exactly why the check opens the file afresh.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use tokend::config::RateLimitScope;

/// Polls `/api/ready` until it answers `status` (≤ 5 s: an answer is reused for about a
/// second); returns that answer's body.
async fn poll_until(app: &crate::helpers::TestApp, status: StatusCode) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (got, body) = app.get("/api/ready", None).await;
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/api/ready still answers {got} {body}, not {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn aside(db: &Path) -> std::path::PathBuf {
    db.with_extension("aside")
}

#[tokio::test]
async fn an_anonymous_caller_learns_the_store_answers() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/ready", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ready": true})));
}

#[tokio::test]
async fn readiness_polls_are_never_rate_limited() {
    // One call a minute per route, every route counted: a second /api/info is refused.
    let app = spawn_app_with(|c| {
        c.limits.rate_limit.scope = RateLimitScope::All;
        c.limits.rate_limit.calls = 1;
    })
    .await;
    for _ in 0..20 {
        let resp = app.client.get(app.url("/api/ready")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("x-ratelimit-limit").is_none(), "/api/ready was counted");
    }
    app.get("/api/info", None).await;
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::TOO_MANY_REQUESTS, "the limiter is on");
}

#[tokio::test]
async fn a_database_file_gone_from_its_path_is_not_ready_until_it_returns() {
    let app = spawn_app().await;
    if crate::helpers_store::on_postgres() {
        return; // SQLite's file only; tests/cluster covers a PostgreSQL server that goes away.
    }
    assert_eq!(app.get("/api/ready", None).await.0, StatusCode::OK);
    let db = app.db_path();
    std::fs::rename(&db, aside(&db)).unwrap();
    let body = poll_until(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body, json!({"ready": false, "reason": "the database file cannot be opened"}));
    assert!(!db.exists(), "the check created an empty database in place of the missing one");
    // The process itself is alive: liveness and readiness are different questions.
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);

    std::fs::rename(aside(&db), &db).unwrap();
    assert_eq!(poll_until(&app, StatusCode::OK).await, json!({"ready": true}));
    assert!(app.authenticates(&app.admin).await, "the store serves as before");
}

#[tokio::test]
async fn other_methods_get_the_rocket_chat_405() {
    let app = spawn_app().await;
    let (status, body) = app.post("/api/ready", json!({}), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["success"], false);
}
