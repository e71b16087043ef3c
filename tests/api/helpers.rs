//! Spawns a real tokend on port 0 with a fresh SQLite file, and speaks to it over HTTP
//! the way a client would. One helper per kind of caller.

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
    adjust(&mut config);
    let app = Application::build(config).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let mut test_app =
        TestApp { address, client, admin: Session { user_id: String::new(), token: String::new() }, data_dir };
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

    /// A direct connection to the server's SQLite file, for arranging what HTTP cannot
    /// (e.g. backdating a token) and for checking what is stored.
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
        self.sqlite()
            .query_row("SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'login'", [user_id], |r| r.get(0))
            .expect("count tokens")
    }

    /// Moves the expiry of `token` one minute into the past, straight in the store.
    pub fn backdate_token(&self, token: &str) {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(token.as_bytes()).to_vec();
        let past =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - 60_000;
        let changed = self
            .sqlite()
            .execute("UPDATE tokens SET expires_at = ?1 WHERE token_hash = ?2", rusqlite::params![past, hash])
            .expect("backdate token");
        assert_eq!(changed, 1, "no stored token matches");
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
        self.sqlite().query_row("SELECT count(*) FROM users", [], |r| r.get(0)).expect("count users")
    }
}
