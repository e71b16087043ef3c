//! `X-Request-Id` (issue 18): a plain client id is kept, anything else replaced by a fresh
//! one, and the id is echoed on every answer, refusals before routing included.

use crate::helpers::*;

async fn id_of(app: &TestApp, path: &str, sent: Option<&str>) -> String {
    let mut req = app.client.get(app.url(path));
    if let Some(id) = sent {
        req = req.header("X-Request-Id", id);
    }
    let response = req.send().await.unwrap();
    let id = response.headers().get("x-request-id").expect("an id is echoed");
    id.to_str().unwrap().to_string()
}

#[tokio::test]
async fn every_answer_carries_a_fresh_id_when_the_client_sent_none() {
    let app = spawn_app().await;
    let (a, b) = (id_of(&app, "/api/info", None).await, id_of(&app, "/api/info", None).await);
    assert!(!a.is_empty() && a != b, "{a} {b}");
    let unknown = id_of(&app, "/no/such/path", None).await;
    assert!(!unknown.is_empty() && unknown != a);
}

#[tokio::test]
async fn a_plain_client_id_is_kept_and_anything_else_replaced() {
    let app = spawn_app().await;
    let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    assert_eq!(id_of(&app, "/api/v1/me", Some(uuid)).await, uuid);
    assert_eq!(id_of(&app, "/node/api/users/current", Some("trace:42.a_b")).await, "trace:42.a_b");
    for bad in ["two words", "quote\"d", "a/b", "{json}", &"x".repeat(65)] {
        let echoed = id_of(&app, "/api/info", Some(bad)).await;
        assert_ne!(echoed, bad, "{bad:?} was kept");
        assert!(echoed.len() <= 64 && echoed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{echoed}");
    }
}

#[tokio::test]
async fn refusals_before_routing_echo_the_id_too() {
    let app = spawn_app().await;
    let long = format!("/api/v1/me?x={}", "a".repeat(9 * 1024));
    let response = app.client.get(app.url(&long)).header("X-Request-Id", "req-414").send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::URI_TOO_LONG);
    assert_eq!(response.headers()["x-request-id"], "req-414");
}
