//! What differs, or must not differ, between the SQLite and PostgreSQL engines, seen from
//! outside. Each test runs on whichever engine the suite runs on (`helpers_store`).

use crate::helpers::*;
use crate::helpers_store::{PgDatabase, on_postgres};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_text_with_nul_is_stored_by_sqlite_and_refused_with_400_by_postgresql() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let body = json!({"userId": bob.user_id, "data": {"name": "Bob\u{0}"}});
    let (status, answer) = app.post("/api/v1/users.update", body, Some(&app.admin)).await;
    if on_postgres() {
        let expected = json!({
            "success": false,
            "error": "a text must not contain the NUL character (\\u0000) [invalid-params]",
            "errorType": "invalid-params"
        });
        assert_eq!((status, answer), (StatusCode::BAD_REQUEST, expected));
    } else {
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["user"]["name"], "Bob\u{0}");
    }
    // Either way the account works as before.
    assert!(app.authenticates(&bob).await);
}

#[tokio::test]
async fn a_login_by_a_name_holding_nul_is_an_unknown_user_on_both_engines() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password", &["user"]).await;
    let (status, body) =
        app.post("/api/v1/login", json!({"user": "alice\u{0}", "password": "alice-password"}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[test]
fn a_database_url_without_a_shared_key_file_stops_the_start_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1: nothing listens; the refusal must come before any connection is tried.
    let out = tokend_command(dir.path(), &[])
        .env("TOKEND_DATABASE_URL", "host=127.0.0.1 port=1 dbname=tokend")
        .output()
        .expect("run tokend");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TOKEND_VAULT_KEY_FILE") && stderr.contains("same on every node"), "{stderr}");
    assert!(!dir.path().join("secret.key").exists(), "no key was created for this node alone");
}

#[test]
fn a_database_url_naming_no_reachable_server_stops_the_start_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cluster.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let out = tokend_command(dir.path(), &[])
        .env("TOKEND_DATABASE_URL", "host=127.0.0.1,127.0.0.1 port=1,2 user=tokend password=hunter22 dbname=tokend")
        .env("TOKEND_VAULT_KEY_FILE", &key)
        .env("TOKEND_DATABASE_TIMEOUT_SECS", "1")
        .output()
        .expect("run tokend");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:1") && stderr.contains("127.0.0.1:2"), "each host is named: {stderr}");
    assert!(stderr.contains("TOKEND_DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("hunter22"), "the password is never shown: {stderr}");
}

/// A second server on the first one's store: another node of a cluster on PostgreSQL, another
/// process on the same file on SQLite.
pub(crate) async fn second_node(first: &TestApp) -> TestApp {
    let (url, key, dir) =
        (first.config.database_url.clone(), first.config.vault_key_file.clone(), first.config.data_dir.clone());
    spawn_app_with(move |c| {
        if url.is_some() {
            c.database_url = url;
            c.vault_key_file = key;
        } else {
            c.data_dir = dir;
        }
    })
    .await
}

#[tokio::test]
async fn two_admins_deleting_each_other_through_two_nodes_at_once_leave_one_admin() {
    let a = spawn_app().await;
    let b = second_node(&a).await;
    let mut survivor = a.admin.clone();
    for round in 0..16 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        let create = |name: String| {
            let body = json!({"username": name, "password": format!("{name}-password-1"), "name": name,
                              "email": format!("{name}@example.com"), "roles": ["admin", "user"]});
            a.post("/api/v1/users.create", body, Some(&survivor))
        };
        let (x_made, y_made) = (create(x.clone()).await, create(y.clone()).await);
        let id = |made: &(StatusCode, serde_json::Value)| made.1["user"]["_id"].as_str().unwrap().to_string();
        let (x_id, y_id) = (id(&x_made), id(&y_made));
        // Only x and y stay admins: the last survivor deletes itself through x.
        let x_session = a.login(&x, &format!("{x}-password-1")).await;
        let (status, body) =
            a.post("/api/v1/users.delete", json!({"userId": survivor.user_id}), Some(&x_session)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let y_session = b.login(&y, &format!("{y}-password-1")).await;
        let (on_a, on_b) = tokio::join!(
            a.post("/api/v1/users.delete", json!({"userId": y_id}), Some(&x_session)),
            b.post("/api/v1/users.delete", json!({"userId": x_id}), Some(&y_session)),
        );
        let admins: i64 = a
            .store()
            .query_row(
                "SELECT count(*) FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role_id = 'admin' AND u.active = 1",
                crate::params![],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(admins, 1, "round {round}: A answered {on_a:?}, B answered {on_b:?}");
        let won = [on_a.0, on_b.0].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(won, 1, "round {round}: exactly one delete succeeds: {on_a:?} {on_b:?}");
        survivor = if on_a.0 == StatusCode::OK { x_session } else { y_session };
    }
}

#[tokio::test]
async fn a_logout_through_one_node_is_refused_by_the_other_on_the_next_request() {
    let a = spawn_app().await;
    let b = second_node(&a).await;
    for _ in 0..20 {
        let session = a.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        assert!(b.authenticates(&session).await);
        let (status, _) = b.post("/api/v1/logout", json!({}), Some(&session)).await;
        assert_eq!(status, StatusCode::OK);
        if crate::helpers_store::on_postgres() {
            // No cache on a shared store: refused at once.
            assert!(!a.authenticates(&session).await, "node A still accepts a token logged out on B");
        } else {
            // Another process on the same SQLite file is seen within the feed's poll interval.
            a.settle().await;
            assert!(!a.authenticates(&session).await);
        }
    }
}

/// The PostgreSQL schema's structure: columns (type, nullability, default, collation),
/// constraints, indexes and collations, in a stable order.
fn structure(db: &crate::helpers_store::PgDatabase) -> Vec<String> {
    let mut out = db.lines(
        "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, ''),
                coalesce(collation_name, ''), is_identity
         FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, ordinal_position",
    );
    out.extend(db.lines(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2",
    ));
    out.extend(db.lines("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname"));
    out.extend(db.lines(
        // The ICU locale's column is colliculocale up to PostgreSQL 16, colllocale from 17.
        "SELECT collname, collprovider, coalesce(to_jsonb(c) ->> 'colliculocale', to_jsonb(c) ->> 'colllocale'),
                collisdeterministic FROM pg_collation c
         WHERE collnamespace = current_schema()::regnamespace ORDER BY 1",
    ));
    out
}

#[test]
fn schema_pg_sql_and_the_migrated_postgresql_schema_do_not_drift_apart() {
    // PostgreSQL's twin of the SQLite drift test in src/db/migrations.rs.
    let (Some(fresh), Some(migrated)) = (PgDatabase::fresh(), PgDatabase::fresh()) else {
        return; // SQLite run: src/db/migrations.rs checks SQLite's pair.
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    fresh.run_file(&root.join("schema_pg.sql"));
    let mut steps: Vec<_> = std::fs::read_dir(root.join("migrations_pg")).unwrap().map(|e| e.unwrap().path()).collect();
    steps.sort();
    assert!(!steps.is_empty());
    for step in &steps {
        migrated.run_file(step);
    }
    let (fresh, migrated) = (structure(&fresh), structure(&migrated));
    assert!(fresh.len() > 100, "the catalogue query sees the schema: {fresh:?}");
    assert_eq!(fresh, migrated);
}

/// libfaketime (Debian's `faketime` package), which shifts a process's wall clock.
pub(crate) fn libfaketime() -> std::path::PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|arch| arch.path().join("faketime/libfaketime.so.1"))
        .find(|lib| lib.exists());
    found.expect("libfaketime (apt-get install faketime): .ci/run installs it for the PostgreSQL suite")
}

/// `tokend` on `app`'s store with its wall clock shifted by `shift` ("+45s").
fn tokend_with_clock(app: &TestApp, shift: &str, dir: &std::path::Path) -> std::process::Command {
    let mut cmd = tokend_command(dir, &[]);
    cmd.envs(crate::helpers_store::store_env(&app.config))
        .env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", shift)
        // Only the wall clock: timers and timeouts keep running at the real pace.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    cmd
}

#[tokio::test]
async fn a_node_whose_clock_is_off_the_databases_by_more_than_a_totp_step_refuses_to_start() {
    if !on_postgres() {
        return; // SQLite has no clock of its own: one process, one clock.
    }
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let out = tokend_with_clock(&app, "+45s", dir.path()).env("TOKEND_BIND", "127.0.0.1:1").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("clock is 4") && stderr.contains("more than 30000 ms") && stderr.contains("NTP"),
        "{stderr}"
    );
    // Two seconds off: it starts, and says so.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut node = tokend_with_clock(&app, "+2s", dir.path())
        .env("TOKEND_BIND", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ready = format!("http://127.0.0.1:{port}/api/ready");
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(resp) = app.client.get(&ready).send().await {
            answered = Some(resp.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    node.kill().unwrap();
    let output = node.wait_with_output().unwrap();
    assert_eq!(answered, Some(StatusCode::OK), "a node 2 s off still serves");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("off the database server's; keep every node on NTP"), "{log}");
}

#[tokio::test]
async fn the_periodic_purge_runs_on_one_node_at_a_time() {
    let app = spawn_app().await;
    let purge = || app.store().db().write_once(|tx| tx.query_one("SELECT 1", crate::params![], |r| r.get::<i64>(0)));
    assert_eq!(purge().await.unwrap(), Some(1), "alone, a node purges");
    let Some(url) = app.config.database_url.as_ref().map(|u| u.expose().to_string()) else {
        return; // SQLite: every process may purge (each statement stands alone).
    };
    // Another node in the middle of its purge: it holds the purge lock.
    let lock = format!(
        "SELECT pg_advisory_lock({}, {}); SELECT pg_sleep(2)",
        tokend::db::pg::LOCK_CLASS,
        tokend::db::pg::PURGE_LOCK
    );
    let mut other =
        std::process::Command::new("psql").args(["-X", "-q", "-o", "/dev/null", &url, "-c", &lock]).spawn().unwrap();
    let mut skipped = false;
    for _ in 0..100 {
        if purge().await.unwrap().is_none() {
            skipped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Its session ends after the sleep, and the lock with it.
    assert!(other.wait().unwrap().success());
    assert!(skipped, "a node purged while another held the purge lock");
    let mut again = None;
    for _ in 0..100 {
        again = purge().await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(again, Some(1), "once the other node is done, the next round purges");
}

#[tokio::test]
async fn an_over_long_role_name_is_refused_as_invalid_on_both_engines() {
    // 4 000 characters of text overflow a PostgreSQL index entry: a 500 before the limit.
    let app = spawn_app().await;
    let long: String = (0..4000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let (status, body) = app.post("/api/v1/roles.create", json!({"name": long}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errorType"], "error-invalid-role-properties", "{body}");
    let at_limit = "r".repeat(100);
    let (status, body) = app.post("/api/v1/roles.create", json!({"name": at_limit}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn connections_the_server_ended_while_pooled_are_replaced_before_the_next_request() {
    if !on_postgres() {
        return; // A PostgreSQL server's own act: a restart, a switchover, pg_terminate_backend.
    }
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    for _ in 0..20 {
        assert!(app.authenticates(&bob).await); // every pooled connection has been used
    }
    let url = app.config.database_url.as_ref().unwrap().expose().to_string();
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql").args(["-X", "-A", "-t", &url, "-c", sql]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let others = "datname = current_database() AND pid <> pg_backend_pid()";
    psql(&format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}"));
    for _ in 0..100 {
        if psql(&format!("SELECT count(*) FROM pg_stat_activity WHERE {others}")) == "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Each request takes a pooled connection: a dead one must be noticed at checkout, not
    // after a statement on it waited out the timeout and failed with 503.
    for round in 0..10 {
        let (status, body) = app.get("/api/v1/me", Some(&bob)).await;
        assert_eq!(status, StatusCode::OK, "request {round} after the server ended the connections: {body}");
    }
}
