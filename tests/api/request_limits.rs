//! Bounds on a single request (catalogue items 14 and 22, issue 8's request limits): over-long
//! URLs and headers are refused in the dialect's envelope before any work is done, and a
//! client that stops sending mid-request is cut off instead of pinning a worker.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_over_long_url_is_414_in_each_dialect() {
    let app = spawn_app().await;
    let long = "a".repeat(9 * 1024);
    let (status, body) = app.get(&format!("/api/v1/users.info?username={long}"), Some(&app.admin)).await;
    assert_eq!(
        (status, body),
        (StatusCode::URI_TOO_LONG, json!({"success": false, "error": "The request URL is too long"}))
    );
    let response = app.client.get(app.url(&format!("/node/api/users/current?api-token={long}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, saymon_error("UriTooLong", "The request URL is too long"));
}

#[tokio::test]
async fn an_8_kb_or_64_kb_token_header_is_refused_without_a_lookup() {
    let app = spawn_app().await;
    for size in [8 * 1024, 64 * 1024] {
        let response = app
            .client
            .get(app.url("/api/v1/me"))
            .header("x-user-id", &app.admin.user_id)
            .header("x-auth-token", "t".repeat(size))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{size} bytes");
        let body = response.text().await.unwrap();
        // actix-http refuses a head beyond its own buffer before tokend sees it, with no body.
        if !body.is_empty() {
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body, json!({"success": false, "error": "The request headers are too large"}));
        }
    }
    let saymon = app.client.get(app.url("/node/api/users/current")).header("x-filler", "f".repeat(9 * 1024));
    let saymon = saymon.send().await.unwrap();
    assert_eq!(saymon.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let body: Value = saymon.json().await.unwrap();
    assert_eq!(body, saymon_error("RequestHeaderFieldsTooLarge", "The request headers are too large"));
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);
    assert!(app.authenticates(&app.admin).await);
}

/// Writes `head` to a fresh connection, then waits (at most 10 s) for the server to answer
/// or hang up, and returns what it said and how long that took.
fn stall(port: u16, head: &str) -> (String, Duration) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_and_the_connection_closes() {
    let app = spawn_app_with(|c| c.limits.request_timeout = Duration::from_secs(1)).await;
    let port = port_of(&app);
    let head = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user\":\"a";
    let (answer, waited) = tokio::task::spawn_blocking(move || stall(port, head)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#"{"success":false,"error":"The request body did not arrive in time"}"#), "{answer}");
    assert!(waited < Duration::from_secs(9), "the connection was closed, not left open: {waited:?}");
    let saymon_head = "POST /node/api/users/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{";
    let (answer, _) = tokio::task::spawn_blocking(move || stall(port, saymon_head)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"RequestTimeout""#), "{answer}");
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn headers_that_stop_arriving_are_cut_off() {
    let app = spawn_app_with(|c| c.limits.request_timeout = Duration::from_secs(1)).await;
    let port = port_of(&app);
    let (answer, waited) =
        tokio::task::spawn_blocking(move || stall(port, "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Auth-To"))
            .await
            .unwrap();
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(9), "the server hung up: {waited:?}");
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn conflicting_framing_never_smuggles_a_second_request() {
    let app = spawn_app().await;
    let port = port_of(&app);
    // Catalogue 15: Content-Length and chunked together, the "body" hiding a second request.
    let smuggle = "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
        Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n";
    let (answer, _) = tokio::task::spawn_blocking(move || stall(port, smuggle)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "refused as ambiguous framing: {answer}");
    assert_eq!(answer.matches("HTTP/1.1").count(), 1, "exactly one response: {answer}");
    assert_eq!(app.get("/api/info", None).await.0, StatusCode::OK);
}

/// A gzip stream holding `data` in one stored (uncompressed) deflate block: enough to prove
/// the body is decoded, without a compression library in the tests.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    out.extend(crc32(data).to_le_bytes());
    out.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
    out
}

#[tokio::test]
async fn a_gzip_encoded_body_is_decoded_as_rocket_chats_body_parser_does_and_brotli_is_not() {
    let app = spawn_app().await;
    let user = app.create_user("zipped", "zipped-password-1", &["user"]).await;
    let body = json!({"user": "zipped", "password": "zipped-password-1"}).to_string();
    let login = |encoding: &'static str, bytes: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/login"))
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(bytes)
            .send()
    };
    let zipped = login("gzip", gzip_stored(body.as_bytes())).await.unwrap();
    assert_eq!(zipped.status(), StatusCode::OK);
    let answer: Value = zipped.json().await.unwrap();
    assert_eq!(answer["data"]["userId"], json!(user));
    // Not decoded: the brotli bytes reach the JSON parser as they are (a 4xx, never a 5xx).
    let brotli = login("br", vec![0x1b, 0x2e, 0x00, 0xf8, 0x25, 0x14, 0x82]).await.unwrap();
    assert_eq!(brotli.status(), StatusCode::BAD_REQUEST);
    let answer: Value = brotli.json().await.unwrap();
    assert_eq!(answer["success"], json!(false), "{answer}");
}
