//! Bad-input catalogue §6 B, size, framing, content type and headers (items 13, 15–21, 23,
//! 24; 14 and 22 live in request_limits.rs), plus the same attacks on SAYMON's session login
//! (extensions X1–X5 in CATALOGUE.md).

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LOGIN: &str = "/api/v1/login";
const SESSION: &str = "/node/api/users/session";

fn rc_failure(status: StatusCode, error: &str) -> (StatusCode, Value) {
    (status, json!({"success": false, "error": error}))
}

/// The parser's answer to a malformed request: 400, no body, connection closed — and only
/// one response, so nothing after the bad request was read as a second (smuggled) request.
fn assert_parser_refusal(reply: &str, what: &str) {
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{what}: {reply}");
    assert!(reply.contains("\r\ncontent-length: 0\r\n") && reply.contains("\r\nconnection: close\r\n"), "{what}");
    assert_eq!(reply.matches("HTTP/1.1 ").count(), 1, "{what}: a second response was sent: {reply}");
}

#[tokio::test]
async fn catalogue_13_a_3_mb_body_is_413_in_each_dialects_envelope() {
    let app = spawn_app().await;
    let big = json!({"user": "admin", "password": "p".repeat(3 * 1024 * 1024)}).to_string();
    let req = app.client.post(app.url(LOGIN)).header("Content-Type", "application/json").body(big.clone());
    refused(&app, "item 13", req, rc_failure(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")).await;
    let req = app.client.post(app.url(SESSION)).header("Content-Type", "application/json").body(big);
    let expected = (StatusCode::PAYLOAD_TOO_LARGE, saymon_error("PayloadTooLarge", "Request body is too large"));
    refused(&app, "item X1 (13 on SAYMON)", req, expected).await;
}

#[tokio::test]
async fn catalogue_15_conflicting_content_length_and_chunked_framing_smuggles_nothing() {
    let app = spawn_app().await;
    let body = format!(r#"{{"user":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let request = format!(
        "POST {LOGIN} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\nGET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n",
        body.len()
    );
    let before = Snapshot::take(&app);
    assert_parser_refusal(&raw_exchange(&app, request.into_bytes()).await, "item 15");
    assert_eq!(Snapshot::take(&app), before, "item 15 logged somebody in");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn catalogue_16_17_18_json_without_the_json_content_type_is_415() {
    let app = spawn_app().await;
    let body = format!(r#"{{"user":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let utf16: Vec<u8> = body.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let unsupported = "Unsupported content type: send the body as application/json";
    let saymon_unsupported =
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, saymon_error("UnsupportedMediaType", "Send the body as application/json"));
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("16 text/plain", Some("text/plain"), body.clone().into_bytes()),
        ("17 no content type", None, body.clone().into_bytes()),
        ("18 UTF-16", Some("application/json; charset=utf-16"), utf16),
    ];
    for (what, content_type, bytes) in cases {
        for path in [LOGIN, SESSION] {
            let mut req = app.client.post(app.url(path)).body(bytes.clone());
            if let Some(content_type) = content_type {
                req = req.header("Content-Type", content_type);
            }
            let expected = if path == LOGIN {
                rc_failure(StatusCode::UNSUPPORTED_MEDIA_TYPE, unsupported)
            } else {
                saymon_unsupported.clone()
            };
            refused(&app, &format!("item {what} on {path}"), req, expected).await;
        }
    }
}

#[tokio::test]
async fn catalogue_20_x_user_id_in_the_header_and_the_query_authenticates_nobody() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let admin = &app.admin;
    let me = |query: String| app.client.get(app.url(&format!("/api/v1/me?{query}")));
    let cases = [
        me(format!("X-User-Id={}", admin.user_id))
            .header("X-User-Id", &alice.user_id)
            .header("X-Auth-Token", &alice.token),
        me(format!("userId={}", alice.user_id))
            .header("X-User-Id", &admin.user_id)
            .header("X-Auth-Token", &alice.token),
        me(format!("X-User-Id={}", alice.user_id)).header("X-Auth-Token", &alice.token),
    ];
    for (i, req) in cases.into_iter().enumerate() {
        let (status, body) = app.send(req).await;
        // The query is ignored: the first case is simply alice authenticating by headers.
        if i == 0 {
            assert_eq!((status, &body["_id"]), (StatusCode::OK, &json!(alice.user_id)), "{body}");
        } else {
            assert_eq!((status, body), rc_unauthorized(), "item 20 case {i}");
        }
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn catalogue_21_a_raw_cr_lf_or_an_obs_fold_in_a_header_is_400_from_the_parser() {
    let app = spawn_app().await;
    let (id, token) = (&app.admin.user_id, &app.admin.token);
    for (what, head) in [
        ("bare CR", format!("X-User-Id: {id}\r\nX-Auth-Token: abc\rX-User-Id: B\r\n")),
        ("obs-fold", format!("X-User-Id: {id}\r\nX-Auth-Token: {token}\r\n X-User-Id: B\r\n")),
        ("NUL", format!("X-User-Id: {id}\r\nX-Auth-Token: {token}\0\r\n")),
    ] {
        let request = format!("GET /api/v1/me HTTP/1.1\r\nHost: x\r\n{head}\r\n");
        assert_parser_refusal(&raw_exchange(&app, request.into_bytes()).await, &format!("item 21 {what}"));
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn catalogue_24_trace_and_cross_origin_options_are_405_without_cors_grants() {
    let app = spawn_app().await;
    let trace = Method::from_bytes(b"TRACE").unwrap();
    let not_allowed = rc_failure(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    for (method, path) in [(trace.clone(), "/api/v1/me"), (Method::OPTIONS, "/api/v1/users.createToken")] {
        let req = app.client.request(method.clone(), app.url(path)).header("Origin", "https://evil.example");
        let resp = req.header("Access-Control-Request-Method", "POST").send().await.unwrap();
        assert!(resp.headers().keys().all(|h| !h.as_str().starts_with("access-control-")), "{method} {path}");
        assert_eq!((resp.status(), resp.json::<Value>().await.unwrap()), not_allowed, "item 24 {method} {path}");
    }
    for method in [trace, Method::OPTIONS] {
        let message = format!("{method} is not allowed");
        let req = app.client.request(method, app.url(SESSION)).header("Origin", "https://evil.example");
        let expected = (StatusCode::METHOD_NOT_ALLOWED, saymon_error("MethodNotAllowed", &message));
        refused(&app, "item X2 (24 on SAYMON)", req, expected).await;
    }
}

#[tokio::test]
async fn catalogue_x3_x4_x5_broken_saymon_session_bodies_are_refused_in_restifys_shape() {
    let app = spawn_app().await;
    let bad = |message: &str| (StatusCode::BAD_REQUEST, saymon_error("InvalidContent", message));
    let cases = [
        (
            "X3 truncated",
            r#"{"login":"admin","password":"x""#.to_string(),
            bad("Invalid JSON: EOF while parsing an object at line 1 column 31"),
        ),
        (
            "X4 duplicate key",
            format!(r#"{{"login":"nobody","login":"admin","password":"{ADMIN_PASSWORD}"}}"#),
            bad("Invalid JSON: duplicate key 'login' at line 1 column 33"),
        ),
        (
            "X5 NoSQL operators",
            r#"{"login":{"$ne":null},"password":{"$ne":null}}"#.to_string(),
            (
                StatusCode::BAD_REQUEST,
                saymon_error("BadRequest", "Invalid parameters: invalid type: map, expected a string"),
            ),
        ),
    ];
    for (what, body, expected) in cases {
        let req = app.client.post(app.url(SESSION)).header("Content-Type", "application/json").body(body);
        refused(&app, &format!("item {what}"), req, expected).await;
    }
}

#[tokio::test]
async fn catalogue_section_b_requests_leave_no_password_or_token_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", "catalogue-B-secret-pw").await;
    let body = r#"{"user":"bob","password":"catalogue-B-secret-pw"}"#;
    for (content_type, path) in [("text/plain", LOGIN), ("text/plain", SESSION), ("application/xml", LOGIN)] {
        let req = logged.client.post(logged.url(path)).header("Content-Type", content_type).body(body);
        logged.expect(req, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
    let twice =
        logged.authed(Method::GET, "/api/v1/me?X-Auth-Token=x", &bob).header("X-Auth-Token", &logged.admin.token);
    logged.expect(twice, StatusCode::UNAUTHORIZED).await;
    let trace = logged.authed(Method::from_bytes(b"TRACE").unwrap(), "/api/v1/me", &bob);
    logged.expect(trace, StatusCode::METHOD_NOT_ALLOWED).await;
    logged.assert_log_free_of(&["catalogue-B-secret-pw", &bob.token], &["\"POST /api/v1/login\" 415"]);
}
