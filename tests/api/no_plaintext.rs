//! DESIGN decision 3: no token and no password is ever written down. One busy session
//! against the real binary logging at debug level, then a search of every file it wrote.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN_PW: &str = "admin-Secret-pw-7f3a";
const BOB_PW: &str = "bob-Secret-pw-91c2";
const BOB_NEW_PW: &str = "bob-New-secret-pw-44d0";
const WRONG_PW: &str = "wrong-Guess-pw-0b8e";

/// A client of the spawned server, remembering every secret it saw or sent.
struct Client {
    http: reqwest::Client,
    server: String,
    secrets: Vec<String>,
}

impl Client {
    async fn call(
        &mut self,
        path: &str,
        body: Option<Value>,
        auth: Option<(&str, &str)>,
        code: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = match body {
            Some(body) => self.http.post(format!("{}{path}", self.server)).json(&body),
            None => self.http.get(format!("{}{path}", self.server)),
        };
        if let Some((id, token)) = auth {
            req = req.header("X-User-Id", id).header("X-Auth-Token", token);
        }
        if let Some(password) = code {
            req = req.header("x-2fa-code", two_factor_code(password)).header("x-2fa-method", "password");
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let body: Value = resp.json().await.expect("json body");
        for token in [&body["data"]["authToken"], &body["token"]] {
            if let Some(token) = token.as_str() {
                self.secrets.push(token.to_string());
            }
        }
        (status, body)
    }

    async fn login(&mut self, user: &str, password: Value) -> (String, String) {
        let (status, body) =
            self.call("/api/v1/login", Some(json!({"user": user, "password": password})), None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (body["data"]["userId"].as_str().unwrap().into(), body["data"]["authToken"].as_str().unwrap().into())
    }
}

/// Which secrets occur in `bytes`, as "<where>: <secret>" lines.
fn leaks(place: &str, bytes: &[u8], secrets: &[String]) -> Vec<String> {
    let found = |s: &String| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    secrets.iter().filter(|s| found(s)).map(|s| format!("{place}: {s}")).collect()
}

/// Searches the database file, its WAL and shared-memory files (when present), and the log.
fn search(server: &ServerProcess, secrets: &[String]) -> (Vec<String>, usize) {
    let mut found = Vec::new();
    let mut files = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = server.data_dir().join(format!("tokend.sqlite3{suffix}"));
        if let Ok(bytes) = std::fs::read(&path) {
            files += 1;
            found.extend(leaks(&path.display().to_string(), &bytes, secrets));
        }
    }
    found.extend(leaks("log", server.log().as_bytes(), secrets));
    (found, files)
}

#[tokio::test]
async fn no_token_or_password_reaches_the_database_files_or_a_debug_log() {
    let mut server = ServerProcess::start(&[
        ("RUST_LOG", "debug"),
        ("CREATE_TOKENS_FOR_USERS", "true"),
        ("TOKEND_ADMIN_PASSWORD", ADMIN_PW),
        ("TOKEND_2FA_REMEMBER_SECS", "0"),
    ]);
    let mut c = Client { http: reqwest::Client::new(), server: server.url(""), secrets: Vec::new() };
    let (admin_id, admin_token) = c.login("admin", json!(ADMIN_PW)).await;
    c.login("admin", json!({"digest": two_factor_code(ADMIN_PW), "algorithm": "sha-256"})).await;
    let admin = Some((admin_id.as_str(), admin_token.as_str()));
    let bob =
        json!({"username": "bob", "name": "Bob", "email": "bob@example.com", "password": BOB_PW, "roles": ["user"]});
    let (status, created) = c.call("/api/v1/users.create", Some(bob), admin, Some(ADMIN_PW)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (bob_id, bob_token) = c.login("bob", json!(BOB_PW)).await;
    let (status, _) = c.call("/api/v1/login", Some(json!({"user": "bob", "password": WRONG_PW})), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bob = Some((bob_id.as_str(), bob_token.as_str()));
    let (status, minted) = c.call("/api/v1/users.createToken", Some(json!({"userId": bob_id})), admin, None).await;
    assert_eq!(status, StatusCode::OK, "{minted}");

    let generate = json!({"tokenName": "ci", "bypassTwoFactor": false});
    let path = "/api/v1/users.generatePersonalAccessToken";
    let (status, refused) = c.call(path, Some(generate.clone()), bob, Some(WRONG_PW)).await;
    assert_eq!((status, &refused["errorType"]), (StatusCode::BAD_REQUEST, &json!("totp-invalid")));
    let (status, _) = c.call(path, Some(generate.clone()), bob, Some(BOB_PW)).await;
    assert_eq!(status, StatusCode::OK);
    let regenerate = json!({"tokenName": "ci"});
    let (status, renewed) =
        c.call("/api/v1/users.regeneratePersonalAccessToken", Some(regenerate), bob, Some(BOB_PW)).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let pat = renewed["token"].as_str().unwrap().to_string();
    let (status, _) = c.call("/api/v1/me", None, Some((&bob_id, &pat)), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c.call("/api/v1/logout", None, bob, None).await;
    assert_eq!(status, StatusCode::OK);
    let change = json!({"userId": bob_id, "data": {"password": BOB_NEW_PW}});
    let (status, body) = c.call("/api/v1/users.update", Some(change), admin, Some(ADMIN_PW)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    c.login("bob", json!(BOB_NEW_PW)).await;

    let mut secrets = c.secrets.clone();
    assert_eq!(secrets.len(), 7, "2 admin logins, bob, createToken, 2 PATs, bob again");
    for password in [ADMIN_PW, BOB_PW, BOB_NEW_PW, WRONG_PW] {
        secrets.push(password.to_string());
        secrets.push(two_factor_code(password));
    }
    let (running, files) = search(&server, &secrets);
    assert!(files >= 2, "the database and its WAL exist while the server runs");
    server.stop();
    let (stopped, _) = search(&server, &secrets);
    let log = server.log();
    assert!(log.contains("DEBUG"), "the server did not log at debug level:\n{log}");
    assert!(log.contains("users.createToken"), "the scenario was not logged:\n{log}");
    assert!(running.is_empty() && stopped.is_empty(), "plaintext found:\n{running:#?}\n{stopped:#?}");
}

#[tokio::test]
async fn a_token_pasted_into_a_path_is_not_logged() {
    let mut server = ServerProcess::start(&[("RUST_LOG", "debug"), ("TOKEND_ADMIN_PASSWORD", ADMIN_PW)]);
    let http = reqwest::Client::new();
    let saymon_token = uuid::Uuid::new_v4().to_string();
    let rc_token = "Xq3f9a_Kd-8mN2pL5sT7vW1yZ4bC6eG0hJ9kM3nP5rS";
    for path in [format!("/node/api/users/{saymon_token}/auth-token"), format!("/api/v1/{rc_token}")] {
        let response = http.post(server.url(&path)).basic_auth("admin", Some(ADMIN_PW)).send().await.unwrap();
        assert!(response.status().is_client_error(), "{path}: {}", response.status());
    }
    server.stop();
    let log = server.log();
    assert!(log.contains("<redacted>"), "the requests were logged, redacted: {log}");
    for secret in [saymon_token.as_str(), rc_token] {
        assert!(!log.contains(secret), "{secret} reached the log");
    }
}
