//! What every bad-input catalogue test (spec/security.md §6, mapped in CATALOGUE.md) checks
//! besides the answer itself: the stored state is exactly as before, the server still
//! answers `GET /api/info`, and — once per section, against the real binary logging at
//! debug level — no token or password the requests carried is written to the log.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{Read, Write};

/// Every row of every table but the audit log (refusals are audited on purpose), sorted,
/// so two snapshots compare equal exactly when a request changed nothing.
#[derive(Debug, PartialEq)]
pub struct Snapshot(Vec<String>);

impl Snapshot {
    pub fn take(app: &TestApp) -> Snapshot {
        if crate::helpers_store::on_postgres() {
            return Snapshot::take_postgres(app);
        }
        let conn = app.sqlite();
        let mut tables = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap();
        let names: Vec<String> = tables.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        let mut rows = Vec::new();
        // The audit log and the failed-check counters record attempts, refused ones included.
        for table in names.iter().filter(|t| *t != "audit_log" && *t != "secret_failures") {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let columns = stmt.column_count();
            let mut cursor = stmt.query([]).unwrap();
            while let Some(row) = cursor.next().unwrap() {
                let cells: Vec<String> = (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
                rows.push(format!("{table}: {}", cells.join(" | ")));
            }
        }
        rows.sort();
        Snapshot(rows)
    }
}

impl Snapshot {
    /// The same on PostgreSQL: each row as its JSON text.
    fn take_postgres(app: &TestApp) -> Snapshot {
        let names: Vec<String> = app
            .store()
            .query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
                crate::params![],
                |r| r.get(0),
            )
            .unwrap();
        let mut rows = Vec::new();
        for table in names.iter().filter(|t| *t != "audit_log" && *t != "secret_failures") {
            let sql = format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t");
            let cells: Vec<String> = app.store().query(&sql, crate::params![], |r| r.get(0)).unwrap();
            rows.extend(cells.into_iter().map(|c| format!("{table}: {c}")));
        }
        rows.sort();
        Snapshot(rows)
    }
}

/// `GET /api/info` answers 200: the server survived whatever came before.
pub async fn assert_healthy(app: &TestApp) {
    let (status, body) = app.get("/api/info", None).await;
    assert_eq!(status, StatusCode::OK, "the server is no longer healthy: {body}");
}

/// Sends `req` and asserts the exact answer, an unchanged store and a healthy server.
pub async fn refused(app: &TestApp, what: &str, req: reqwest::RequestBuilder, expected: (StatusCode, Value)) {
    let before = Snapshot::take(app);
    let answer = app.send(req).await;
    assert_eq!(answer, expected, "{what}");
    assert_eq!(Snapshot::take(app), before, "{what} changed the stored state");
    assert_healthy(app).await;
}

/// `refused` for answers compared as raw text (SAYMON's double-encoded 401s, empty bodies).
pub async fn refused_text(app: &TestApp, what: &str, req: reqwest::RequestBuilder, expected: (StatusCode, &str)) {
    let before = Snapshot::take(app);
    let (status, text) = app.send_text(req).await;
    assert_eq!((status, text.as_str()), expected, "{what}");
    assert_eq!(Snapshot::take(app), before, "{what} changed the stored state");
    assert_healthy(app).await;
}

/// Writes `request` on a fresh connection and reads until the server closes it (or 5 s pass).
pub async fn raw_exchange(app: &TestApp, request: Vec<u8>) -> String {
    let address = app.address.trim_start_matches("http://").to_string();
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        stream.write_all(&request).unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        reply
    });
    String::from_utf8_lossy(&reply.await.unwrap()).into_owned()
}

/// Rocket.Chat's 400 for a body that does not fit the route's schema.
pub fn invalid_params(message: &str) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, meteor_error("invalid-params", message))
}

/// The 401 of a failed password or resume login (spec §5.3).
pub fn login_unauthorized() -> (StatusCode, Value) {
    let body = json!({"success":false,"error":"Unauthorized","status":"error","message":"Unauthorized"});
    (StatusCode::UNAUTHORIZED, body)
}

/// The 401 of a request without a valid `X-User-Id` + `X-Auth-Token` pair (spec §2).
pub fn rc_unauthorized() -> (StatusCode, Value) {
    (StatusCode::UNAUTHORIZED, not_logged_in())
}

/// A real tokend process logging at debug level, for checking what reaches its log.
pub struct LoggedServer {
    pub server: ServerProcess,
    pub client: reqwest::Client,
    pub admin: Session,
}

impl LoggedServer {
    pub async fn start() -> LoggedServer {
        let server = ServerProcess::start(&[
            ("RUST_LOG", "debug"),
            ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("CREATE_TOKENS_FOR_USERS", "true"),
        ]);
        let client = reqwest::Client::new();
        let admin = Session { user_id: String::new(), token: String::new() };
        let mut logged = LoggedServer { server, client, admin };
        logged.admin = logged.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        logged
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A request carrying `session`'s `X-User-Id` and `X-Auth-Token`.
    pub fn authed(&self, method: reqwest::Method, path: &str, session: &Session) -> reqwest::RequestBuilder {
        let req = self.client.request(method, self.url(path));
        req.header("X-User-Id", &session.user_id).header("X-Auth-Token", &session.token)
    }

    pub async fn login(&self, user: &str, password: &str) -> Session {
        let body = json!({"user": user, "password": password});
        let resp = self.client.post(self.url("/api/v1/login")).json(&body).send().await.unwrap();
        let body: Value = resp.json().await.unwrap();
        let data = &body["data"];
        Session { user_id: data["userId"].as_str().unwrap().into(), token: data["authToken"].as_str().unwrap().into() }
    }

    /// Creates a plain user as the admin (a fresh account: no 2FA challenge yet).
    pub async fn create_user(&self, username: &str, password: &str) -> Session {
        let body = json!({"username": username, "password": password, "name": username,
            "email": format!("{username}@example.com"), "roles": ["user"]});
        let resp = self.authed(reqwest::Method::POST, "/api/v1/users.create", &self.admin).json(&body).send();
        assert_eq!(resp.await.unwrap().status(), StatusCode::OK);
        self.login(username, password).await
    }

    /// Sends `req`, asserting its status; a 5xx is never acceptable.
    pub async fn expect(&self, req: reqwest::RequestBuilder, status: StatusCode) {
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), status, "{}", resp.url().clone());
    }

    /// Stops the server and asserts that none of `secrets` (nor the admin's token and
    /// password) was written to the log, which did record debug lines and `requests`.
    pub fn assert_log_free_of(mut self, secrets: &[&str], requests: &[&str]) {
        self.server.stop();
        let log = self.server.log();
        assert!(log.contains("DEBUG"), "the server did not log at debug level:\n{log}");
        for request in requests {
            assert!(log.contains(request), "the access log lacks {request:?}:\n{log}");
        }
        for secret in secrets.iter().copied().chain([ADMIN_PASSWORD, self.admin.token.as_str()]) {
            assert!(!secret.is_empty() && !log.contains(secret), "{secret:?} appears in the log:\n{log}");
        }
    }
}
