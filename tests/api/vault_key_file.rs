//! `TOKEND_VAULT_KEY_FILE` and the key fingerprint (issue 15): nodes sharing one store share
//! one key file, which tokend never creates; every store records its key's fingerprint, and a
//! start with another key (a wrong file, or a database restored without its key) stops with
//! exit 2 and a message saying what happened and what to do.

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, ServerProcess, expect_start_refused, tokend_command};
use crate::totp::current_code;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tokend::auth::vault::Vault;

/// A key file of 32 bytes `byte`, mode 0600.
fn key_file(dir: &Path, name: &str, byte: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, [byte; 32]).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

/// A server on `data` with the key `key` (`None`: `secret.key` in `data`).
fn node(data: &Path, key: Option<&Path>) -> ServerProcess {
    let mut env = vec![("TOKEND_DATA_DIR", data.to_str().unwrap()), ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD)];
    if let Some(key) = key {
        env.push(("TOKEND_VAULT_KEY_FILE", key.to_str().unwrap()));
    }
    ServerProcess::start(&env)
}

/// Starts `tokend` on `data` with the key file `key` (`None`: `secret.key` in `data`) and
/// expects it to give up: exit 2, no panic, within 30 s. Returns its stderr.
fn start_expecting_refusal(data: &Path, key: Option<&Path>) -> String {
    let mut cmd = tokend_command(data, &[]);
    if let Some(key) = key {
        cmd.env("TOKEND_VAULT_KEY_FILE", key);
    }
    expect_start_refused(cmd, "an unusable key")
}

fn stored_fingerprint(data: &Path) -> Option<Vec<u8>> {
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    rusqlite::OptionalExtension::optional(conn.query_row("SELECT fingerprint FROM vault_key_check", [], |r| r.get(0)))
        .unwrap()
}

async fn post(
    client: &reqwest::Client,
    url: String,
    body: Value,
    auth: Option<&(String, String)>,
) -> (StatusCode, Value) {
    let mut req = client.post(url).json(&body);
    if let Some((user, token)) = auth {
        req = req.header("X-User-Id", user).header("X-Auth-Token", token);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

/// What enrolling the admin in TOTP left: the id, the seed and one backup code.
struct Enrolled {
    admin_id: String,
    secret: String,
    backup_code: String,
}

async fn enrol_admin(client: &reqwest::Client, server: &ServerProcess) -> Enrolled {
    let login = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let (status, body) = post(client, server.url("/api/v1/login"), login, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (id, token) = (body["data"]["userId"].as_str().unwrap(), body["data"]["authToken"].as_str().unwrap());
    let admin = (id.to_string(), token.to_string());
    let (status, body) = post(client, server.url("/api/v1/users.enableTotp"), json!({}), Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let secret = body["secret"].as_str().unwrap().to_string();
    let validate = json!({"code": current_code(&secret)});
    let (status, body) = post(client, server.url("/api/v1/users.validateTotp"), validate, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Enrolled { admin_id: admin.0, secret, backup_code: body["codes"][0].as_str().unwrap().to_string() }
}

#[test]
fn a_node_with_another_key_file_refuses_to_start_and_the_right_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (right, wrong) = (key_file(dir.path(), "right.key", 1), key_file(dir.path(), "wrong.key", 2));
    node(&data, Some(&right)).stop();
    assert!(!data.join("secret.key").exists(), "a key was created beside the database");
    assert_eq!(stored_fingerprint(&data), Some(Vault::with_key([1; 32]).fingerprint().to_vec()));

    let stderr = start_expecting_refusal(&data, Some(&wrong));
    assert!(stderr.contains("is not the key this database was first used with"), "{stderr}");
    assert!(stderr.contains(wrong.to_str().unwrap()), "the message names the key file: {stderr}");
    assert!(stderr.contains("restored without its key"), "{stderr}");

    node(&data, Some(&right)).stop();
}

#[test]
fn a_missing_short_or_unreadable_key_file_stops_the_start_and_is_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = dir.path().join("missing.key");
    let stderr = start_expecting_refusal(&data, Some(&missing));
    assert!(stderr.contains("TOKEND_VAULT_KEY_FILE") && stderr.contains("never creates it"), "{stderr}");
    assert!(!missing.exists(), "tokend created the key file");

    let short = dir.path().join("short.key");
    std::fs::write(&short, b"short").unwrap();
    assert!(start_expecting_refusal(&data, Some(&short)).contains("it has 5 bytes"));

    // A directory cannot be read as a file, whoever runs the test (root reads any mode).
    let unreadable = dir.path().join("a-directory.key");
    std::fs::create_dir(&unreadable).unwrap();
    assert!(start_expecting_refusal(&data, Some(&unreadable)).contains(unreadable.to_str().unwrap()));
}

#[tokio::test]
async fn totp_secrets_sealed_by_one_node_open_on_another_sharing_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = key_file(dir.path(), "cluster.key", 7);
    let (first, second) = (node(&data, Some(&key)), node(&data, Some(&key)));
    let client = reqwest::Client::new();
    // Enrolled through the first node: the seed is sealed, the backup codes keyed, with the key.
    let Enrolled { admin_id, secret, backup_code } = enrol_admin(&client, &first).await;

    // The code just used may not be replayed: let the second node accept this step again.
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    conn.execute("UPDATE totp SET last_step = NULL WHERE user_id = ?1", [&admin_id]).unwrap();
    let login = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let mut with_code = login.clone();
    with_code["code"] = json!(current_code(&secret));
    let (status, body) = post(&client, second.url("/api/v1/login"), with_code, None).await;
    assert_eq!(status, StatusCode::OK, "the second node cannot open the seed the first sealed: {body}");
    let mut with_backup_code = login;
    with_backup_code["code"] = json!(backup_code);
    let (status, body) = post(&client, second.url("/api/v1/login"), with_backup_code, None).await;
    assert_eq!(status, StatusCode::OK, "the second node does not recognise the first's backup code: {body}");
}

#[test]
fn every_store_records_its_key_and_a_store_restored_without_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    node(&data, None).stop();
    let key: [u8; 32] = std::fs::read(data.join("secret.key")).unwrap().try_into().unwrap();
    let fingerprint = Vault::with_key(key).fingerprint().to_vec();
    assert_eq!(stored_fingerprint(&data), Some(fingerprint.clone()), "the fingerprint of secret.key");

    // A store from before fingerprints gets one at its next start.
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    conn.execute("DELETE FROM vault_key_check", []).unwrap();
    drop(conn);
    node(&data, None).stop();
    assert_eq!(stored_fingerprint(&data), Some(fingerprint));

    // The database without its key: a new secret.key beside it.
    std::fs::write(data.join("secret.key"), [3u8; 32]).unwrap();
    let stderr = start_expecting_refusal(&data, None);
    assert!(stderr.contains("is not the key this database was first used with"), "{stderr}");
}

#[test]
fn a_backup_copies_the_supplied_key_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = key_file(dir.path(), "cluster.key", 5);
    node(&data, Some(&key)).stop();
    let dest = dir.path().join("backup.sqlite3");
    let out = tokend_command(&data, &["backup", dest.to_str().unwrap()])
        .env("TOKEND_VAULT_KEY_FILE", &key)
        .output()
        .expect("run tokend backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(dir.path().join("backup.sqlite3.key")).unwrap(), [5u8; 32]);
}

#[tokio::test]
async fn a_store_from_before_fingerprints_refuses_a_key_that_cannot_open_its_totp_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = node(&data, None);
    enrol_admin(&reqwest::Client::new(), &server).await;
    server.stop();
    // As a store written before fingerprints existed, restored without its key.
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    conn.execute("DELETE FROM vault_key_check", []).unwrap();
    drop(conn);
    let original = std::fs::read(data.join("secret.key")).unwrap();
    std::fs::write(data.join("secret.key"), [4u8; 32]).unwrap();
    let stderr = start_expecting_refusal(&data, None);
    assert!(stderr.contains("cannot open the TOTP secrets already sealed"), "{stderr}");
    assert_eq!(stored_fingerprint(&data), None, "the wrong key was recorded");

    std::fs::write(data.join("secret.key"), &original).unwrap();
    node(&data, None).stop();
    let key: [u8; 32] = original.try_into().unwrap();
    assert_eq!(stored_fingerprint(&data), Some(Vault::with_key(key).fingerprint().to_vec()));
}
