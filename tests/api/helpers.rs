//! Spawns a real tokend on port 0 with a fresh store (an SQLite file, or a PostgreSQL
//! database: `helpers_store`), and speaks to it over HTTP the way a client would. One helper
//! per kind of caller.

use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use tempfile::TempDir;
use tokend::config::{Config, Secret};
use tokend::startup::Application;

pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// A logged-in caller: what Rocket.Chat clients keep after `POST /api/v1/login`.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub token: String,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin: Session,
    /// The server's configuration (its store: `store_env`, `store`).
    pub config: Config,
    store: std::sync::OnceLock<crate::helpers_store::TestStore>,
    /// The server's PostgreSQL database, dropped with the test; `None` on SQLite.
    _pg: Option<crate::helpers_store::PgDatabase>,
    pub data_dir: TempDir,
}

/// A server with default settings (bootstrap admin `admin` / `ADMIN_PASSWORD`).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose configuration `adjust` may change first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::with_data_dir(data_dir.path());
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.admin_username = ADMIN_USERNAME.into();
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.workers = Some(2);
    config.db_pool_size = 4;
    // Tests log in far more often than 10 times a minute; tests/api/rate_limit.rs turns it on.
    config.limits.rate_limit.scope = tokend::config::RateLimitScope::Off;
    let pg = crate::helpers_store::fresh_store(&mut config, data_dir.path());
    adjust(&mut config);
    let app = Application::build(config.clone()).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let admin = Session { user_id: String::new(), token: String::new() };
    let store = std::sync::OnceLock::new();
    let mut test_app = TestApp { address, client, admin, config, store, _pg: pg, data_dir };
    test_app.admin = test_app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    test_app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.path().join("tokend.sqlite3")
    }

    /// The server's store opened a second time, for arranging what HTTP cannot (e.g.
    /// backdating a token) and for checking what is stored, on either engine.
    pub fn store(&self) -> &crate::helpers_store::TestStore {
        self.store.get_or_init(|| crate::helpers_store::TestStore::open(&self.config))
    }

    /// A direct connection to the server's SQLite file, for the tests of SQLite itself
    /// (pragmas, the file's tables); other tests use `store`.
    pub fn sqlite(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.db_path()).expect("open sqlite");
        conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        conn
    }

    fn with_auth(&self, req: reqwest::RequestBuilder, auth: Option<&Session>) -> reqwest::RequestBuilder {
        match auth {
            Some(s) => req.header("X-User-Id", &s.user_id).header("X-Auth-Token", &s.token),
            None => req,
        }
    }

    /// `GET path` (path may include a query string) → status and JSON body.
    pub async fn get(&self, path: &str, auth: Option<&Session>) -> (StatusCode, Value) {
        let resp = self.with_auth(self.client.get(self.url(path)), auth).send().await.expect("request");
        read(resp).await
    }

    /// `POST path` with a JSON body → status and JSON body.
    pub async fn post(&self, path: &str, body: Value, auth: Option<&Session>) -> (StatusCode, Value) {
        let resp = self.with_auth(self.client.post(self.url(path)), auth).json(&body).send().await.expect("request");
        read(resp).await
    }

    /// `POST path` with raw bytes and a content type of the caller's choosing.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
        auth: Option<&Session>,
    ) -> (StatusCode, Value) {
        let req = self.client.post(self.url(path)).header("Content-Type", content_type).body(body);
        read(self.with_auth(req, auth).send().await.expect("request")).await
    }

    /// Logs in by username and password; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let (status, body) = self.post("/api/v1/login", json!({"user": username, "password": password}), None).await;
        assert_eq!(status, StatusCode::OK, "login of {username} failed: {body}");
        Session {
            user_id: body["data"]["userId"].as_str().unwrap().to_string(),
            token: body["data"]["authToken"].as_str().unwrap().to_string(),
        }
    }

    /// Creates a user as the admin (`roles` e.g. `&["user"]`); returns its id.
    pub async fn create_user(&self, username: &str, password: &str, roles: &[&str]) -> String {
        let body = json!({
            "username": username, "password": password, "name": username,
            "email": format!("{username}@example.com"), "roles": roles,
        });
        let (status, body) = self.post("/api/v1/users.create", body, Some(&self.admin)).await;
        assert_eq!(status, StatusCode::OK, "users.create {username}: {body}");
        body["user"]["_id"].as_str().unwrap().to_string()
    }

    /// Creates an ordinary user and logs in as it.
    pub async fn user_session(&self, username: &str) -> Session {
        let password = format!("{username}-password");
        self.create_user(username, &password, &["user"]).await;
        self.login(username, &password).await
    }

    /// True when `session` still authenticates `GET /api/v1/me`.
    pub async fn authenticates(&self, session: &Session) -> bool {
        let (status, _) = self.get("/api/v1/me", Some(session)).await;
        status == StatusCode::OK
    }
}

async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, value)
}

/// The exact 401 body for a missing or invalid token (spec §2).
pub fn not_logged_in() -> Value {
    json!({"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."})
}

/// Helpers for the session and token-lifecycle tests.
impl TestApp {
    /// Sends a request built on `self.client` (any headers, any method) → status and body.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        read(req.send().await.expect("request")).await
    }

    /// How many login-token rows `user_id` has in the store.
    pub fn login_token_rows(&self, user_id: &str) -> i64 {
        self.store()
            .query_row("SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'login'", params![user_id], |r| {
                r.get(0)
            })
            .expect("count tokens")
    }

    /// Moves the expiry of `token` one minute into the past, straight in the store.
    /// Expires a token by editing the database directly — a write from outside the server,
    /// which it notices within its watch interval (100 ms); this waits for that.
    pub async fn backdate_token(&self, token: &str) {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let past =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - 60_000;
        let changed = self
            .store()
            .execute("UPDATE tokens SET expires_at = ?1 WHERE token_hash = ?2", params![past, hash])
            .expect("backdate token");
        assert_eq!(changed, 1, "no stored token matches");
        self.settle().await;
    }

    /// Waits until the server has noticed writes made directly to its database file.
    pub async fn settle(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// The 400 body of a thrown Meteor error (spec §1.1): `"<reason> [<code>]"`, `errorType: code`.
pub fn meteor_error(code: &str, reason: &str) -> Value {
    json!({"success": false, "error": format!("{reason} [{code}]"), "errorType": code})
}

/// The 403 body of a route-level `permissionsRequired` miss (spec §11.1).
pub fn permission_required() -> Value {
    json!({"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"})
}

/// `path?k=v&...` with the values URL-encoded (JSON in `sort`, dates with `+`...).
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    format!("{path}?{}", serde_urlencoded::to_string(pairs).unwrap())
}

/// Helpers for the user, role and permission administration tests.
impl TestApp {
    /// Sets, as the admin, exactly which roles hold `permission` (`permissions.update`).
    pub async fn set_permission_roles(&self, permission: &str, roles: &[&str]) {
        let body = json!({"permissions": [{"_id": permission, "roles": roles}]});
        let (status, body) = self.post("/api/v1/permissions.update", body, Some(&self.admin)).await;
        assert_eq!(status, StatusCode::OK, "permissions.update: {body}");
    }

    /// How many users are stored, read straight from the SQLite file.
    pub fn user_rows(&self) -> i64 {
        self.store().query_row("SELECT count(*) FROM users", params![], |r| r.get(0)).expect("count users")
    }
}

/// The password-method 2FA code (spec §10.3): lowercase hex SHA-256 of the password.
pub fn two_factor_code(password: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(password.as_bytes()))
}

/// Helpers for the token-minting, PAT, 2FA and audit tests.
impl TestApp {
    /// `POST path` as `auth` with extra headers (`x-2fa-code`, `User-Agent`...).
    pub async fn post_with(
        &self,
        path: &str,
        body: Value,
        auth: &Session,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.with_auth(self.client.post(self.url(path)), Some(auth)).json(&body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req).await
    }

    /// Generates a PAT for `owner`, meeting any password challenge with `password`;
    /// panics unless it succeeds. The result authenticates as the owner.
    pub async fn generate_pat(&self, owner: &Session, password: &str, name: &str, bypass: bool) -> Session {
        let code = two_factor_code(password);
        let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
        let body = json!({"tokenName": name, "bypassTwoFactor": bypass});
        let (status, body) = self.post_with("/api/v1/users.generatePersonalAccessToken", body, owner, &headers).await;
        assert_eq!(status, StatusCode::OK, "generate PAT {name}: {body}");
        Session { user_id: owner.user_id.clone(), token: body["token"].as_str().unwrap().to_string() }
    }

    /// The admin's view of `GET /api/v1/tokend.audit?<query>`: the events, newest first.
    pub async fn audit(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/api/v1/tokend.audit?{query}"), Some(&self.admin)).await;
        assert_eq!(status, StatusCode::OK, "tokend.audit?{query}: {body}");
        body["events"].as_array().expect("events").clone()
    }

    /// Makes an account look `age` old, so the fresh-account 2FA grace (§10.4) is over. A
    /// direct write: waits until the server has noticed it.
    pub async fn age_account(&self, user_id: &str, age: std::time::Duration) {
        let changed = self
            .store()
            .execute(
                "UPDATE users SET created_at = created_at - ?2 WHERE id = ?1",
                params![user_id, age.as_millis() as i64],
            )
            .expect("age account");
        assert_eq!(changed, 1, "no such user {user_id}");
        self.settle().await;
    }
}

/// The `tokend` binary Cargo built for these tests.
pub const TOKEND_BIN: &str = env!("CARGO_BIN_EXE_tokend");

/// `tokend <args>` with no tokend setting inherited from the environment, data in `data_dir`.
pub fn tokend_command(data_dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(TOKEND_BIN);
    without_inherited_settings(&mut cmd);
    cmd.args(args).env("TOKEND_DATA_DIR", data_dir);
    cmd
}

/// Removes every tokend setting `cmd` would inherit, so a developer's environment never
/// changes what a test starts.
pub fn without_inherited_settings(cmd: &mut std::process::Command) {
    for (name, _) in std::env::vars() {
        if name.starts_with("TOKEND_")
            || name.starts_with("CREATE_TOKENS_FOR_USERS")
            || name == "MAX_RESUME_LOGIN_TOKENS"
            || name == "RUST_LOG"
        {
            cmd.env_remove(name);
        }
    }
}

/// A `tokend` server process on a free port with stdout and stderr in one log file;
/// killed on drop so a failing test never leaves it behind.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub port: u16,
    pub dir: TempDir,
}

impl ServerProcess {
    /// Starts `tokend` with `env` added and waits (≤ 20 s) until `tokend healthcheck` passes.
    pub fn start(env: &[(&str, &str)]) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.path().join("tokend.log")).unwrap();
        let mut cmd = tokend_command(&dir.path().join("data"), &[]);
        cmd.env("TOKEND_BIND", format!("127.0.0.1:{port}"))
            .env("TOKEND_WORKERS", "2")
            .env("TOKEND_RATE_LIMIT", "off")
            .envs(env.iter().copied());
        let child = cmd.stdout(log.try_clone().unwrap()).stderr(log).spawn().expect("spawn tokend");
        let mut server = ServerProcess { child, port, dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !server.healthy() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("tokend exited with {status}: {}", server.log());
            }
            assert!(std::time::Instant::now() < deadline, "never healthy: {}", server.log());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server
    }

    fn healthy(&self) -> bool {
        tokend_command(&self.data_dir(), &["healthcheck"])
            .env("TOKEND_BIND", format!("127.0.0.1:{}", self.port))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run healthcheck")
            .success()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tokend.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, then waits (≤ 10 s) for a clean exit; panics otherwise.
    pub fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "tokend exited with {status}: {}", self.log());
                return;
            }
            assert!(std::time::Instant::now() < deadline, "still running 10 s after SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// `create_user` for servers where `users.create` challenges the admin (2FA, §10.2).
    pub async fn create_user_past_2fa(&self, username: &str, password: &str, roles: &[&str]) -> String {
        let body = json!({
            "username": username, "password": password, "name": username,
            "email": format!("{username}@example.com"), "roles": roles,
        });
        let code = two_factor_code(ADMIN_PASSWORD);
        let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
        let (status, body) = self.post_with("/api/v1/users.create", body, &self.admin, &headers).await;
        assert_eq!(status, StatusCode::OK, "users.create {username}: {body}");
        body["user"]["_id"].as_str().unwrap().to_string()
    }
}

/// The raw 401 body SAYMON sends with `message` double-encoded (spec/saymon.md §2), e.g.
/// `saymon_401("Unauthorized", "Not logged in.")`.
pub fn saymon_401(code: &str, message: &str) -> String {
    let inner = json!({"errorCode": 3, "message": message}).to_string();
    json!({"code": code, "message": inner}).to_string()
}

/// `{"code": code, "message": message}`: SAYMON's restify error envelope.
pub fn saymon_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// Helpers for the SAYMON dialect (`/node/api`) tests.
impl TestApp {
    /// A request to a SAYMON path, with no credentials yet.
    pub fn saymon(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request to a SAYMON path with HTTP Basic credentials (one bcrypt on the server).
    pub fn basic(&self, method: reqwest::Method, path: &str, login: &str, password: &str) -> reqwest::RequestBuilder {
        self.saymon(method, path).basic_auth(login, Some(password))
    }

    /// A request to a SAYMON path as the bootstrap admin over HTTP Basic.
    pub fn as_admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.basic(method, path, ADMIN_USERNAME, ADMIN_PASSWORD)
    }

    /// Sends `req` → status and the raw body text (for byte-for-byte comparisons).
    pub async fn send_text(&self, req: reqwest::RequestBuilder) -> (StatusCode, String) {
        let resp = req.send().await.expect("request");
        (resp.status(), resp.text().await.expect("body"))
    }

    /// Mints (or replaces) the SAYMON API token of `user_id` as the admin over Basic.
    pub async fn saymon_token(&self, user_id: &str) -> String {
        let path = format!("/node/api/users/{user_id}/auth-token");
        let (status, body) = self.send(self.as_admin(reqwest::Method::POST, &path)).await;
        assert_eq!(status, StatusCode::OK, "auth-token for {user_id}: {body}");
        body.as_str().expect("a quoted token").to_string()
    }

    /// Creates a user as the admin through `POST /node/api/users`; returns its id.
    pub async fn saymon_user(&self, login: &str, password: &str, permissions: &[&str]) -> String {
        let body = json!({"login": login, "password": password, "permissions": permissions});
        let (status, body) = self.send(self.as_admin(reqwest::Method::POST, "/node/api/users").json(&body)).await;
        assert_eq!(status, StatusCode::OK, "create {login}: {body}");
        body["id"].as_str().expect("id").to_string()
    }

    /// Opens a SAYMON session with `body`; returns the `sid` and every `Set-Cookie` value.
    pub async fn saymon_login(&self, body: Value) -> (String, Vec<String>) {
        let resp = self.saymon(reqwest::Method::POST, "/node/api/users/session").json(&body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "session login with {body}");
        let cookies = set_cookies(&resp);
        let sid: String = serde_json::from_str(&resp.text().await.unwrap()).expect("a quoted session id");
        (sid, cookies)
    }

    /// `GET /node/api/users/current?api-token=<token>` → status and JSON body.
    pub async fn saymon_current(&self, token: &str) -> (StatusCode, Value) {
        let path = with_query("/node/api/users/current", &[("api-token", token)]);
        self.send(self.saymon(reqwest::Method::GET, &path)).await
    }

    /// `GET /node/api/users/current?api-token=<token>` → status and raw body.
    pub async fn current_by_token(&self, token: &str) -> (StatusCode, String) {
        let path = with_query("/node/api/users/current", &[("api-token", token)]);
        self.send_text(self.saymon(reqwest::Method::GET, &path)).await
    }

    /// `GET /node/api/users/current` with `Cookie: sid=<sid>` → status and raw body.
    pub async fn current_by_sid(&self, sid: &str) -> (StatusCode, String) {
        let req = self.saymon(reqwest::Method::GET, "/node/api/users/current").header("Cookie", format!("sid={sid}"));
        self.send_text(req).await
    }
}

/// A documented SAYMON 401 as `send_text` returns it (status, raw body).
pub fn saymon_unauthorized(code: &str, message: &str) -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, saymon_401(code, message))
}

/// Every `Set-Cookie` header of `resp`, as sent.
pub fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

/// The value of cookie `name` among `Set-Cookie` headers, if set.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_string))
}

/// Starts `cmd` (a server command from `tokend_command`) on a free port and expects it to give
/// up: exit 2, no panic, within 30 s (`why` names the unusable thing in the failure message).
/// Returns its stderr.
pub fn expect_start_refused(mut cmd: std::process::Command, why: &str) -> String {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    cmd.env("TOKEND_BIND", format!("127.0.0.1:{port}")).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tokend");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tokend still running 30 s after starting with {why}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}
