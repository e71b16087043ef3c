//! The requests the storage-fault tests send to a `ServerProcess`, each answering the
//! status and body as the client saw them.

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, ServerProcess, Session, with_query};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub struct Probe {
    base: String,
    http: reqwest::Client,
    pub admin: Session,
    /// The admin's SAYMON API token, so that SAYMON writes cost no bcrypt each.
    admin_api_token: String,
}

async fn answer(req: RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn with(req: RequestBuilder, who: &Session) -> RequestBuilder {
    req.header("X-User-Id", &who.user_id).header("X-Auth-Token", &who.token)
}

impl Probe {
    /// Logs the admin in on `server`; panics unless that works.
    pub async fn connect(server: &ServerProcess) -> Probe {
        let mut probe = Probe {
            base: server.url(""),
            http: reqwest::Client::new(),
            admin: Session { user_id: String::new(), token: String::new() },
            admin_api_token: String::new(),
        };
        let (status, body) = probe.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "admin login: {body}");
        probe.admin = session(&body);
        let path = format!("/node/api/users/{}/auth-token", probe.admin.user_id);
        let req = probe.http.post(probe.url(&path)).basic_auth(ADMIN_USERNAME, Some(ADMIN_PASSWORD));
        let (status, body) = answer(req).await;
        assert_eq!(status, StatusCode::OK, "the admin's API token: {body}");
        probe.admin_api_token = body.as_str().unwrap().into();
        probe
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        answer(self.http.post(self.url("/api/v1/login")).json(&json!({"user": user, "password": password}))).await
    }

    pub async fn create_user(&self, username: &str) -> (StatusCode, Value) {
        let body = json!({"username": username, "password": format!("{username}-password"), "name": username,
                          "email": format!("{username}@example.com"), "roles": ["user"]});
        answer(with(self.http.post(self.url("/api/v1/users.create")), &self.admin).json(&body)).await
    }

    pub async fn create_token(&self, user_id: &str) -> (StatusCode, Value) {
        let req = with(self.http.post(self.url("/api/v1/users.createToken")), &self.admin);
        answer(req.json(&json!({"userId": user_id}))).await
    }

    pub async fn generate_pat(&self, owner: &Session, name: &str) -> (StatusCode, Value) {
        let req = with(self.http.post(self.url("/api/v1/users.generatePersonalAccessToken")), owner);
        answer(req.json(&json!({"tokenName": name}))).await
    }

    /// `POST /node/api/users/:id/auth-token` as the admin.
    pub async fn saymon_token(&self, user_id: &str) -> (StatusCode, Value) {
        let path = format!("/node/api/users/{user_id}/auth-token");
        let path = with_query(&path, &[("api-token", &self.admin_api_token)]);
        answer(self.http.request(Method::POST, self.url(&path))).await
    }

    /// A SAYMON session login (`POST /node/api/users/session`).
    pub async fn saymon_session(&self, login: &str, password: &str) -> (StatusCode, Value) {
        let req = self.http.post(self.url("/node/api/users/session"));
        answer(req.json(&json!({"login": login, "password": password}))).await
    }

    /// The status of `GET /api/v1/me` as `who`.
    pub async fn me(&self, who: &Session) -> StatusCode {
        answer(with(self.http.get(self.url("/api/v1/me")), who)).await.0
    }

    /// The status of `GET /node/api/users/current?api-token=`.
    pub async fn current(&self, api_token: &str) -> StatusCode {
        let path = with_query("/node/api/users/current", &[("api-token", api_token)]);
        answer(self.http.get(self.url(&path))).await.0
    }

    pub async fn info(&self) -> StatusCode {
        answer(self.http.get(self.url("/api/info"))).await.0
    }
}

/// The `{userId, authToken}` of a login or `users.createToken` answer.
pub fn session(body: &Value) -> Session {
    Session {
        user_id: body["data"]["userId"].as_str().expect("userId").into(),
        token: body["data"]["authToken"].as_str().expect("authToken").into(),
    }
}
