//! The life of a login token (DESIGN decisions 3–6): the per-user cap, expiry checked on
//! every request, the purge, revocation by password change, deactivation and deletion,
//! and storage as SHA-256 only.

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

fn hash_of(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[tokio::test]
async fn only_the_newest_tokens_up_to_the_cap_authenticate() {
    let app = spawn_app_with(|c| c.max_login_tokens = 5).await;
    let id = app.create_user("alice", "alice-password", &["user"]).await;
    let mut sessions = Vec::new();
    for _ in 0..8 {
        sessions.push(app.login("alice", "alice-password").await);
    }
    assert_eq!(app.login_token_rows(&id), 5);
    for (i, session) in sessions.iter().enumerate() {
        assert_eq!(app.authenticates(session).await, i >= 3, "login #{i}");
    }
    // Another user's tokens are not counted against alice's cap.
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn concurrent_logins_keep_exactly_the_cap_and_never_fail() {
    let app = spawn_app().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let client = app.client.clone();
        let url = app.url("/api/v1/login");
        tasks.spawn(async move {
            let resp = client
                .post(url)
                .json(&json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
                .send()
                .await
                .expect("request");
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.expect("json body");
            (status, body)
        });
    }
    let mut tokens = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        tokens.push(body["data"]["authToken"].as_str().unwrap().to_string());
    }
    assert_eq!(app.login_token_rows(&app.admin.user_id), 50);
    let mut working = 0;
    for token in tokens {
        let session = Session { user_id: app.admin.user_id.clone(), token };
        working += usize::from(app.authenticates(&session).await);
    }
    assert_eq!(working, 50);
    // The token from before the burst was the oldest, so it was evicted.
    assert!(!app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn an_expired_token_is_refused_at_once() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    assert!(app.authenticates(&alice).await);
    app.backdate_token(&alice.token).await;
    let (status, body) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_logged_in()));
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn expired_rows_are_purged_and_live_ones_kept() {
    let app = spawn_app_with(|c| c.purge_interval = Duration::from_secs(1)).await;
    let alice = app.user_session("alice").await;
    app.backdate_token(&alice.token).await;
    let rows_of = |token: &str| -> i64 {
        app.store()
            .query_row("SELECT count(*) FROM tokens WHERE token_hash = ?1", params![hash_of(token)], |r| r.get(0))
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while rows_of(&alice.token) != 0 {
        assert!(Instant::now() < deadline, "expired row still present");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows_of(&app.admin.token), 1);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn a_password_change_revokes_every_login_token_of_that_user() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let other = app.login("alice", "alice-password").await;
    let bob = app.user_session("bob").await;
    let change = json!({"userId": alice.user_id, "data": {"password": "alice-new-password"}});
    let (status, body) = app.post("/api/v1/users.update", change, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&alice).await);
    assert!(!app.authenticates(&other).await);
    assert_eq!(app.login_token_rows(&alice.user_id), 0);
    assert!(app.authenticates(&bob).await);
    assert!(app.authenticates(&app.admin).await);
    let (status, _) = app.post("/api/v1/login", json!({"user": "alice", "password": "alice-password"}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("alice", "alice-new-password").await;
}

#[tokio::test]
async fn a_changed_profile_without_password_keeps_the_tokens() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let change = json!({"userId": alice.user_id, "data": {"name": "Alice Liddell"}});
    let (status, body) = app.post("/api/v1/users.update", change, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(app.authenticates(&alice).await);
}

#[tokio::test]
async fn deactivation_revokes_tokens_and_reactivation_does_not_revive_them() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let status_of = |active: bool| json!({"userId": alice.user_id, "activeStatus": active});
    let (status, body) = app.post("/api/v1/users.setActiveStatus", status_of(false), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&alice).await);
    assert_eq!(app.login_token_rows(&alice.user_id), 0);
    let (status, body) = app.post("/api/v1/login", json!({"user": "alice", "password": "alice-password"}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "error-user-is-not-activated");
    let (status, body) = app.post("/api/v1/users.setActiveStatus", status_of(true), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&alice).await);
    app.login("alice", "alice-password").await;
}

#[tokio::test]
async fn a_deleted_users_tokens_stop_working_immediately() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (status, body) = app.post("/api/v1/users.delete", json!({"userId": alice.user_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_logged_in()));
    assert_eq!(app.login_token_rows(&alice.user_id), 0);
    let (status, _) = app.post("/api/v1/login", json!({"resume": alice.token}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_store_holds_only_sha256_of_tokens_never_the_plaintext() {
    let app = spawn_app().await;
    let mut tokens = vec![app.admin.token.clone()];
    for _ in 0..3 {
        tokens.push(app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.token);
    }
    tokens.push(app.user_session("alice").await.token);
    for token in &tokens {
        let stored: Vec<u8> = app
            .store()
            .query_row("SELECT token_hash FROM tokens WHERE token_hash = ?1", params![hash_of(token)], |r| r.get(0))
            .expect("a row keyed by SHA-256(token)");
        assert_eq!(stored.len(), 32);
    }
    if crate::helpers_store::on_postgres() {
        // Every row of every table, as text (bytes as hex): neither form of a token is there.
        let dump = format!("{:?}", crate::catalogue_support::Snapshot::take(&app));
        for token in &tokens {
            assert!(!dump.contains(token.as_str()) && !dump.contains(&hex::encode(token)), "token plaintext stored");
        }
        return;
    }
    let mut files = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", app.db_path().display());
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        files += 1;
        for token in &tokens {
            let found = bytes.windows(token.len()).any(|w| w == token.as_bytes());
            assert!(!found, "token plaintext found in {path}");
        }
    }
    assert!(files >= 1);
}
