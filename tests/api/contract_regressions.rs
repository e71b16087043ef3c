//! Findings of the contract fuzz (tests/contract/run.sh), each replayed with the input
//! schemathesis found, so that a fixed behaviour stays fixed without running the fuzz.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// Without SMTP no code can ever be sent, which is no server error: like Rocket.Chat (and so
/// that the answer never tells which accounts exist) the route answers success regardless.
#[tokio::test]
async fn send_email_code_without_smtp_is_not_a_server_error() {
    let app = spawn_app().await;
    let path = "/api/v1/users.2fa.sendEmailCode";
    for auth in [None, Some(&app.admin)] {
        let (status, body) = app.post(path, json!({"emailOrUsername": "{\u{0}n"}), auth).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    }
}

/// A 405 names the methods the path serves in `Allow` (RFC 9110), in both dialects.
#[tokio::test]
async fn method_not_allowed_lists_the_allowed_methods() {
    let app = spawn_app().await;
    let cases = [
        ("/api/info", "GET", json!({"success": false, "error": "Method not allowed"})),
        ("/api/v1/logout", "GET, POST", json!({"success": false, "error": "Method not allowed"})),
        ("/node/api/users/session", "POST, DELETE", saymon_error("MethodNotAllowed", "TRACE is not allowed")),
        ("/node/api/users/{id}", "GET, PATCH, DELETE", saymon_error("MethodNotAllowed", "TRACE is not allowed")),
    ];
    for (path, allow, body) in cases {
        let path = path.replace("{id}", &app.admin.user_id);
        let resp = app.client.request(reqwest::Method::TRACE, app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(resp.headers()["allow"], allow, "{path}");
        assert_eq!(resp.json::<serde_json::Value>().await.unwrap(), body, "{path}");
    }
}
