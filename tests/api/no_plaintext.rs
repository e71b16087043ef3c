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
    /// Sent as `X-Request-Id` when set.
    request_id: Option<String>,
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
        if let Some(id) = &self.request_id {
            req = req.header("X-Request-Id", id);
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

/// The request ids sent with bob's first login and with `users.createToken`.
const LOGIN_REQUEST_ID: &str = "rid-login-bob.1";
const CREATE_TOKEN_REQUEST_ID: &str = "rid-create-token-1";

/// A busy session against a server logging at debug level in `format`: logins (password and
/// digest, right and wrong), a user created, createToken, PATs with 2FA (wrong and right),
/// logout, a password change. Returns the server and every secret that crossed the wire.
async fn busy_session(format: &str) -> (ServerProcess, Vec<String>) {
    let server = ServerProcess::start(&[
        ("RUST_LOG", "debug"),
        ("TOKEND_LOG_FORMAT", format),
        ("CREATE_TOKENS_FOR_USERS", "true"),
        ("TOKEND_ADMIN_PASSWORD", ADMIN_PW),
        ("TOKEND_2FA_REMEMBER_SECS", "0"),
    ]);
    let mut c = Client { http: reqwest::Client::new(), server: server.url(""), secrets: Vec::new(), request_id: None };
    let (admin_id, admin_token) = c.login("admin", json!(ADMIN_PW)).await;
    c.login("admin", json!({"digest": two_factor_code(ADMIN_PW), "algorithm": "sha-256"})).await;
    let admin = Some((admin_id.as_str(), admin_token.as_str()));
    let bob =
        json!({"username": "bob", "name": "Bob", "email": "bob@example.com", "password": BOB_PW, "roles": ["user"]});
    let (status, created) = c.call("/api/v1/users.create", Some(bob), admin, Some(ADMIN_PW)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    c.request_id = Some(LOGIN_REQUEST_ID.into());
    let (bob_id, bob_token) = c.login("bob", json!(BOB_PW)).await;
    c.request_id = None;
    let (status, _) = c.call("/api/v1/login", Some(json!({"user": "bob", "password": WRONG_PW})), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bob = Some((bob_id.as_str(), bob_token.as_str()));
    c.request_id = Some(CREATE_TOKEN_REQUEST_ID.into());
    let (status, minted) = c.call("/api/v1/users.createToken", Some(json!({"userId": bob_id})), admin, None).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    c.request_id = None;

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
    (server, secrets)
}

#[tokio::test]
async fn no_token_or_password_reaches_the_database_files_or_a_debug_log() {
    let (mut server, secrets) = busy_session("text").await;
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

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_request_ids_and_no_secret() {
    let (mut server, secrets) = busy_session("json").await;
    server.stop();
    let (found, _) = search(&server, &secrets);
    assert!(found.is_empty(), "plaintext found:\n{found:#?}");
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}")))
        .collect();
    for line in &lines {
        for field in ["time", "level", "target", "message"] {
            assert!(line[field].is_string(), "no {field}: {line}");
        }
    }
    assert!(lines.iter().any(|l| l["level"] == "debug"), "the server did not log at debug level");
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "tokend::access").collect();
    assert!(access.len() >= 12, "an access line per request: {}", access.len());
    for line in &access {
        assert!(line["request_id"].is_string() && line["status"].is_u64() && line["latency_ms"].is_number(), "{line}");
        assert!(["rocketchat", "saymon", "web"].contains(&line["dialect"].as_str().unwrap()), "{line}");
        assert!(line["route"].as_str().unwrap().starts_with("/api/"), "a route pattern: {line}");
    }
    let created = access.iter().find(|l| l["route"] == "/api/v1/users.createToken").expect("createToken logged");
    assert_eq!(created["request_id"], CREATE_TOKEN_REQUEST_ID, "the client's id is kept: {created}");
    assert!(created["user_id"].is_string(), "the authenticated caller: {created}");
    let of_login: Vec<&Value> = lines.iter().filter(|l| l["request_id"] == LOGIN_REQUEST_ID).collect();
    assert!(
        of_login.iter().any(|l| l["target"] == "tokend::accounts::login" && l["user_id"].is_string()),
        "what the core logs while serving a request carries its id: {of_login:#?}"
    );
    let anonymous_login = access.iter().find(|l| l["route"] == "/api/v1/login" && l["status"] == 401).unwrap();
    assert!(anonymous_login.get("user_id").is_none(), "a failed login authenticates nobody: {anonymous_login}");
}
