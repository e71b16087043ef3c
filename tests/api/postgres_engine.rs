//! What differs, or must not differ, between the SQLite and PostgreSQL engines, seen from
//! outside. Each test runs on whichever engine the suite runs on (`helpers_store`).

use crate::helpers::*;
use crate::helpers_store::on_postgres;
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
