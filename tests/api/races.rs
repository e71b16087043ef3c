//! Limits that must hold when many requests race for them (spec/security.md §5.3, §6.J
//! items 66–69): the login-token cap on top of existing tokens, the per-user PAT cap, and
//! SAYMON's one-token-per-user replacement, also against concurrent revocations. The
//! audit log is written in each minting transaction, so its order is the commit order.

use crate::helpers::*;
use crate::params;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

const CREATE: &str = "/api/v1/users.createToken";

/// Sends every request at once; answers in completion order.
async fn all_at_once(requests: Vec<RequestBuilder>) -> Vec<(StatusCode, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for req in requests {
        tasks.spawn(async move {
            let resp = req.send().await.expect("request");
            let status = resp.status();
            let text = resp.text().await.expect("body");
            (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answers.push(joined.unwrap());
    }
    answers
}

/// `tokenLabel`s of `events` (newest first) whose kind is `kind`.
fn labels_of_kind(events: &[Value], kind: &str) -> Vec<String> {
    events.iter().filter(|e| e["tokenKind"] == kind).map(|e| e["tokenLabel"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn two_hundred_logins_and_mints_on_top_of_45_tokens_keep_the_newest_50() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let mut earlier = Vec::new();
    for _ in 0..45 {
        let (status, body) = app.post(CREATE, json!({"userId": bob}), Some(&app.admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        earlier.push(Session { user_id: bob.clone(), token: body["data"]["authToken"].as_str().unwrap().into() });
    }
    let mut requests = Vec::new();
    for i in 0..200 {
        requests.push(if i % 2 == 0 {
            app.client.post(app.url("/api/v1/login")).json(&json!({"user": "bob", "password": "bob-password"}))
        } else {
            let req = app.client.post(app.url(CREATE)).json(&json!({"userId": bob}));
            req.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token)
        });
    }
    let mut racing = Vec::new();
    for (status, body) in all_at_once(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        racing.push(Session { user_id: bob.clone(), token: body["data"]["authToken"].as_str().unwrap().into() });
    }
    assert_eq!(app.login_token_rows(&bob), 50);
    // The 50 newest commits survive (and only they); the 45 older tokens were evicted first.
    let newest: Vec<String> = labels_of_kind(&app.audit("user=bob&event=token.created&count=0").await, "login");
    assert_eq!(newest.len(), 245);
    let mut survivors = Vec::new();
    for session in &racing {
        if app.authenticates(session).await {
            survivors.push(session.token[37..].to_string());
        }
    }
    survivors.sort();
    let mut expected = newest[..50].to_vec();
    expected.sort();
    assert_eq!(survivors, expected);
    for session in &earlier {
        assert!(!app.authenticates(session).await, "an older token outlived newer ones");
    }
}

#[tokio::test]
async fn two_hundred_generates_with_distinct_names_stop_exactly_at_the_pat_cap() {
    let app = spawn_app_with(|c| c.max_personal_access_tokens = 10).await;
    let bob = app.user_session("bob").await;
    let requests = (0..200)
        .map(|i| {
            let req = app.client.post(app.url("/api/v1/users.generatePersonalAccessToken"));
            let req = req.header("X-User-Id", &bob.user_id).header("X-Auth-Token", &bob.token);
            req.json(&json!({"tokenName": format!("pat-{i}")}))
        })
        .collect();
    let mut created = Vec::new();
    for (status, body) in all_at_once(requests).await {
        match status {
            StatusCode::OK => created.push(body["token"].as_str().unwrap().to_string()),
            _ => {
                assert_eq!((status, &body["errorType"]), (StatusCode::BAD_REQUEST, &json!("error-token-limit-reached")))
            }
        }
    }
    assert_eq!(created.len(), 10);
    let rows: i64 = app
        .store()
        .query_row("SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'pat'", params![&bob.user_id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, 10);
    for token in created {
        assert!(app.authenticates(&Session { user_id: bob.user_id.clone(), token }).await);
    }
}

/// The admin's SAYMON API token, so that racing SAYMON writes cost no bcrypt each.
async fn admin_api_token(app: &TestApp) -> String {
    app.saymon_token(&app.admin.user_id).await
}

fn saymon_rows(app: &TestApp, user_id: &str) -> i64 {
    app.store()
        .query_row("SELECT count(*) FROM saymon_tokens WHERE user_id = ?1", params![user_id], |r| r.get(0))
        .unwrap()
}

/// Of `returned` tokens, the ones that still authenticate.
async fn working(app: &TestApp, returned: &[String]) -> Vec<String> {
    let mut alive = Vec::new();
    for token in returned {
        if app.saymon_current(token).await.0 == StatusCode::OK {
            alive.push(token.clone());
        }
    }
    alive
}

#[tokio::test]
async fn two_hundred_concurrent_auth_token_posts_leave_one_token_the_last_committed() {
    let app = spawn_app().await;
    let carol = app.create_user("carol", "carol-password", &["user"]).await;
    let api_token = admin_api_token(&app).await;
    let path = with_query(&format!("/node/api/users/{carol}/auth-token"), &[("api-token", &api_token)]);
    let requests = (0..200).map(|_| app.saymon(Method::POST, &path)).collect();
    let mut returned = Vec::new();
    for (status, body) in all_at_once(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        returned.push(body.as_str().expect("a quoted token").to_string());
    }
    assert_eq!(saymon_rows(&app, &carol), 1);
    let alive = working(&app, &returned).await;
    assert_eq!(alive.len(), 1, "exactly one of 200 replaced tokens works");
    let minted = labels_of_kind(&app.audit("user=carol&event=token.created&count=0").await, "saymon");
    assert_eq!(minted.len(), 200);
    assert!(alive[0].ends_with(&minted[0]), "the survivor is the last committed");
}

#[tokio::test]
async fn concurrent_auth_token_posts_and_deletes_end_with_the_last_posts_token_or_none() {
    let app = spawn_app().await;
    let carol = app.create_user("carol", "carol-password", &["user"]).await;
    let api_token = admin_api_token(&app).await;
    let path = with_query(&format!("/node/api/users/{carol}/auth-token"), &[("api-token", &api_token)]);
    let requests =
        (0..200).map(|i| app.saymon(if i % 2 == 0 { Method::POST } else { Method::DELETE }, &path)).collect();
    let mut returned = Vec::new();
    for (status, body) in all_at_once(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        // A DELETE answers an empty body; a POST the quoted token.
        if let Some(token) = body.as_str().filter(|t| !t.is_empty()) {
            returned.push(token.to_string());
        }
    }
    assert_eq!(returned.len(), 100);
    let alive = working(&app, &returned).await;
    // The newest SAYMON event decides: a mint leaves its token alone alive, a delete none.
    let events = app.audit("user=carol&count=0").await;
    let last = events.iter().find(|e| e["tokenKind"] == "saymon" && e["detail"] != "replaced by a new auth-token");
    let last = last.expect("saymon events");
    if last["event"] == "token.created" {
        assert_eq!(alive.len(), 1, "{last}");
        assert!(alive[0].ends_with(last["tokenLabel"].as_str().unwrap()));
        assert_eq!(saymon_rows(&app, &carol), 1);
    } else {
        assert_eq!(last["detail"], "auth-token deleted", "{last}");
        assert!(alive.is_empty(), "a token outlived the delete that committed after it");
        assert_eq!(saymon_rows(&app, &carol), 0);
    }
}

/// 50 clients keep calling `/api/v1/me` with one token while `revoke` runs: every answer is
/// 200 or the exact 401, and every request sent after `revoke` was acknowledged gets 401
/// (the token cache must never serve a revoked token).
async fn revoke_while_fifty_clients_use_the_token(app: &TestApp, bob: &Session, revoke: RequestBuilder) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let acknowledged = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, url, bob, acknowledged) =
            (app.client.clone(), app.url("/api/v1/me"), bob.clone(), acknowledged.clone());
        clients.spawn(async move {
            let mut after = 0;
            while after < 5 {
                let sent_after = acknowledged.load(Ordering::SeqCst);
                let req = client.get(&url).header("X-User-Id", &bob.user_id).header("X-Auth-Token", &bob.token);
                let resp = req.send().await.expect("request");
                let status = resp.status();
                let body: Value = resp.json().await.expect("json");
                match status {
                    StatusCode::OK => assert!(!sent_after, "a request sent after the revocation got 200"),
                    _ => assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_logged_in())),
                }
                after += usize::from(sent_after);
            }
        });
    }
    let (status, body) = app.send(revoke).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    acknowledged.store(true, Ordering::SeqCst);
    while let Some(joined) = clients.join_next().await {
        joined.unwrap();
    }
}

#[tokio::test]
async fn a_logout_cuts_off_fifty_clients_using_the_token_at_once() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let logout = app.client.post(app.url("/api/v1/logout"));
    let logout = logout.header("X-User-Id", &bob.user_id).header("X-Auth-Token", &bob.token);
    revoke_while_fifty_clients_use_the_token(&app, &bob, logout).await;
}

#[tokio::test]
async fn a_deactivation_cuts_off_fifty_clients_using_the_users_token_at_once() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let body = json!({"userId": bob.user_id, "activeStatus": false});
    let deactivate = app.client.post(app.url("/api/v1/users.setActiveStatus")).json(&body);
    let deactivate = deactivate.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token);
    revoke_while_fifty_clients_use_the_token(&app, &bob, deactivate).await;
}
