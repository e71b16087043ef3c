//! Finding 13: one account saturated the password-hashing threads through SAYMON HTTP Basic
//! (each request is a bcrypt verification), and another user's login waited behind all of
//! it. Now one account's checks take turns, so it holds at most one hashing thread. The
//! test orders events instead of timing them: the other login must finish while most of the
//! flood is still waiting.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const FLOOD: usize = 24;

#[tokio::test]
async fn finding_13_another_accounts_login_does_not_wait_behind_one_accounts_basic_flood() {
    let app = Arc::new(spawn_app_with(|c| c.login_guard.enabled = false).await);
    app.saymon_user("flooder", "flooder-password", &[]).await;
    app.create_user("bystander", "bystander-password", &["user"]).await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        let (app, done) = (app.clone(), done.clone());
        flood.push(tokio::spawn(async move {
            let req = app.basic(Method::GET, "/node/api/users/current", "flooder", "flooder-password");
            let status = app.send_text(req).await.0;
            done.fetch_add(1, Ordering::SeqCst);
            status
        }));
    }
    // Every flood request is queued for its verification before the bystander logs in.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let login = json!({"user": "bystander", "password": "bystander-password"});
    let (status, body) = app.post("/api/v1/login", login, None).await;
    let finished_before = done.load(Ordering::SeqCst);
    assert_eq!(status, StatusCode::OK, "{body}");
    for request in flood {
        assert_eq!(request.await.unwrap(), StatusCode::OK, "the flood's own requests all succeed, in turn");
    }
    assert!(
        finished_before < FLOOD / 2,
        "the bystander's login finished only after {finished_before} of {FLOOD} flood requests"
    );
}
