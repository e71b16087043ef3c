//! Findings of an outside attack on several nodes sharing one PostgreSQL store (issue 15),
//! each fixed in the core or the store. Tests that need a second node with a clock of its
//! own run on PostgreSQL only: processes on one SQLite file share the machine's clock.

use crate::helpers::*;
use crate::helpers_store::{on_postgres, store_env};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Another node on `app`'s store whose wall clock runs `shift` ("+20s") off the others',
/// within what a node tolerates (30 s), with `extra` settings.
fn node_with_clock(app: &TestApp, shift: &str, extra: &[(&str, &str)]) -> ServerProcess {
    let preload = crate::postgres_engine::libfaketime().display().to_string();
    let store = store_env(&app.config);
    let mut env: Vec<(&str, &str)> = store.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("LD_PRELOAD", preload.as_str()), ("FAKETIME", shift), ("FAKETIME_DONT_FAKE_MONOTONIC", "1")]);
    env.extend_from_slice(extra);
    ServerProcess::start(&env)
}

async fn post_to(app: &TestApp, url: String, body: Value) -> (StatusCode, Value) {
    app.send(app.client.post(url).json(&body)).await
}

#[tokio::test]
async fn the_token_cap_never_evicts_a_token_just_issued_by_a_node_whose_clock_is_behind() {
    if !on_postgres() {
        return; // one machine, one clock
    }
    let app = spawn_app_with(|c| c.max_login_tokens = 3).await;
    let password = "bob-password-1";
    app.create_user("bob", password, &["user"]).await;
    // A node 20 s ahead (it only warns) issues three tokens: the cap is full.
    let ahead = node_with_clock(&app, "+20s", &[("MAX_RESUME_LOGIN_TOKENS", "3")]);
    let mut earlier = Vec::new();
    for _ in 0..3 {
        let (status, body) =
            post_to(&app, ahead.url("/api/v1/login"), json!({"user": "bob", "password": password})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = Session {
            user_id: body["data"]["userId"].as_str().unwrap().into(),
            token: body["data"]["authToken"].as_str().unwrap().into(),
        };
        earlier.push(session);
    }
    // A login through this node is the newest token: the oldest one goes, not the new one.
    let fresh = app.login("bob", password).await;
    assert!(app.authenticates(&fresh).await, "a login answered 200 with a token the cap had already evicted");
    assert!(!app.authenticates(&earlier[0]).await, "the oldest token is the one evicted");
    for kept in &earlier[1..] {
        assert!(app.authenticates(kept).await);
    }
    assert_eq!(app.login_token_rows(&fresh.user_id), 3);

    // SAYMON sessions share the cap and its order.
    let login = json!({"login": "bob", "password": password});
    let mut sids = Vec::new();
    for _ in 0..3 {
        let resp = app.client.post(ahead.url("/node/api/users/session")).json(&login).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        sids.push(serde_json::from_str::<String>(&resp.text().await.unwrap()).unwrap());
    }
    let (sid, _) = app.saymon_login(login).await;
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK, "a new session was evicted at once");
    assert_eq!(app.current_by_sid(&sids[0]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.current_by_sid(&sids[2]).await.0, StatusCode::OK);
}

/// `n` letters and digits that do not compress (PostgreSQL compresses long index entries).
fn incompressible(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

#[tokio::test]
async fn a_role_name_longer_than_a_hundred_characters_is_refused_with_400_on_both_engines() {
    let app = spawn_app().await;
    let invalid = meteor_error("error-invalid-role-properties", "The role properties are invalid.");
    // 3000 bytes exceed PostgreSQL's limit for one entry of the unique index on role names:
    // the insert failed there with a 500, while SQLite stored the name.
    for n in [101, 3000, 30_000] {
        let answer = app.post("/api/v1/roles.create", json!({"name": incompressible(n)}), Some(&app.admin)).await;
        assert_eq!(answer, (StatusCode::BAD_REQUEST, invalid.clone()), "a name of {n} characters");
    }
    let longest = incompressible(100);
    let (status, body) = app.post("/api/v1/roles.create", json!({"name": longest}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"]["name"], longest);
    let (_, listed) = app.get("/api/v1/roles.list", Some(&app.admin)).await;
    assert_eq!(listed["roles"].as_array().unwrap().len(), 6, "only the 100-character role was added: {listed}");
}

#[tokio::test]
async fn a_node_with_another_vault_key_is_told_which_postgresql_database_refuses_it() {
    if !on_postgres() {
        return; // SQLite's message names its file: tests/api/vault_key_file.rs
    }
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.key");
    std::fs::write(&other, [9u8; 32]).unwrap();
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut cmd = tokend_command(dir.path(), &[]);
    for (name, value) in store_env(&app.config) {
        cmd.env(name, value);
    }
    cmd.env("TOKEND_VAULT_KEY_FILE", &other);
    let stderr = expect_start_refused(cmd, "another vault key");
    let url = app.config.database_url.as_ref().unwrap().expose().to_string();
    let dbname = url.split_whitespace().find_map(|kv| kv.strip_prefix("dbname=")).unwrap();
    assert!(stderr.contains("is not the key this database was first used with"), "{stderr}");
    assert!(stderr.contains(&format!("database {dbname}")), "the message names the PostgreSQL database: {stderr}");
    assert!(!stderr.contains("tokend.sqlite3"), "the message names a SQLite file this node does not use: {stderr}");
}

#[tokio::test]
async fn two_clients_signing_each_other_out_through_two_nodes_never_get_a_dead_token_back() {
    let a = spawn_app().await;
    let b = crate::postgres_engine::second_node(&a).await;
    let password = "bob-password-1";
    a.create_user("bob", password, &["user"]).await;
    for round in 0..10 {
        let (x, y) = (a.login("bob", password).await, b.login("bob", password).await);
        // Each request keeps its own token and ends the other: the one that comes second
        // finds its token gone and is refused, however close together they run.
        let (on_a, on_b) = tokio::join!(
            a.post("/api/v1/users.logoutOtherClients", json!({}), Some(&x)),
            b.post("/api/v1/users.logoutOtherClients", json!({}), Some(&y)),
        );
        let mut kept = 0;
        for (status, body) in [&on_a, &on_b] {
            if *status == StatusCode::OK {
                let handed = Session { user_id: x.user_id.clone(), token: body["token"].as_str().unwrap().into() };
                assert!(a.authenticates(&handed).await, "round {round}: a 200 handed back a dead token: {body}");
                kept += 1;
            } else {
                assert_eq!((*status, body.clone()), (StatusCode::UNAUTHORIZED, not_logged_in()), "round {round}");
            }
        }
        assert_eq!(kept, 1, "round {round}: exactly one client stays signed in: {on_a:?} {on_b:?}");
    }
}

#[tokio::test]
async fn connections_the_server_ended_while_idle_in_the_pool_cost_no_request_a_timeout() {
    if !on_postgres() {
        return; // SQLite has no server to end a connection
    }
    let app = spawn_app().await;
    for _ in 0..8 {
        assert!(app.authenticates(&app.admin).await);
    }
    // A restart, a failover or an administrator ends every connection of the database.
    let ended = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()";
    app.store().query(ended, crate::params![], |r| r.get::<bool>(0)).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for round in 0..8 {
        let started = std::time::Instant::now();
        let (status, body) = app.get("/api/v1/me", Some(&app.admin)).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK, "request {round} after {took:?}: {body}");
        assert!(took < std::time::Duration::from_secs(2), "request {round} waited {took:?} on a dead connection");
    }
}
