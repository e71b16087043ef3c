//! Read-only tokens (issue 17): a read-only PAT or SAYMON API token authenticates only routes
//! that change nothing. Refusal is checked on EVERY state-changing route of both dialects, as
//! the route table lists them, not on a hand-picked few.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";

/// Routes of the table that authenticate nobody by `X-Auth-Token` (README route × guard
/// table: auth "–"), so a token's scope is not theirs to judge.
const RC_ANONYMOUS: &[&str] = &[
    "/api/v1/login",
    "/api/v1/method.callAnon/{method}",
    "/api/v1/users.2fa.sendEmailCode",
    "/api/v1/users.register",
    "/api/v1/users.forgotPassword",
];

/// `SAYMON` routes that never take an API token: the session routes (password or `sid`).
const SAYMON_NO_API_TOKEN: &[&str] = &["/node/api/users/session"];

async fn read_only_pat(app: &TestApp, owner: &Session, password: &str) -> Session {
    let code = two_factor_code(password);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    let body = json!({"tokenName": "monitoring", "scope": "read-only"});
    let (status, body) = app.post_with(GENERATE, body, owner, &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Session { user_id: owner.user_id.clone(), token: body["token"].as_str().unwrap().to_string() }
}

fn read_only_refusal() -> Value {
    json!({"success": false, "error": "This token is read-only: it cannot change anything [error-read-only-token]"})
}

#[tokio::test]
async fn a_read_only_pat_is_refused_on_every_state_changing_route_and_changes_nothing() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let pat = read_only_pat(&app, &app.admin, ADMIN_PASSWORD).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let (users_before, audit_before) = (app.user_rows(), app.audit("count=0").await.len());
    let mut checked = 0;
    for (path, method) in tokend::api::rocketchat::changing_endpoints() {
        if RC_ANONYMOUS.contains(&path) {
            continue;
        }
        let url = path.replace("{method}", "2fa:enable");
        let body = json!({"userId": bob, "username": "bob", "tokenName": "monitoring", "data": {"name": "x"}});
        let req = app
            .client
            .request(Method::from_bytes(method.as_str().as_bytes()).unwrap(), app.url(&url))
            .header("X-User-Id", &pat.user_id)
            .header("X-Auth-Token", &pat.token)
            .json(&body);
        let (status, answer) = app.send(req).await;
        assert_eq!((status, answer), (StatusCode::FORBIDDEN, read_only_refusal()), "{method} {path}");
        checked += 1;
    }
    assert!(checked >= 25, "the route table lists every state-changing route ({checked})");
    assert!(app.authenticates(&pat).await, "the read-only PAT survived its own logout attempt");
    assert_eq!(app.user_rows(), users_before, "nothing was created or deleted");
    let audit_after = app.audit("count=0").await.len();
    assert_eq!(audit_after, audit_before, "nothing was minted or revoked");
    // Reads work as with any token.
    assert_eq!(app.get("/api/v1/me", Some(&pat)).await.0, StatusCode::OK);
    let (status, body) = app.get(&with_query("/api/v1/users.info", &[("username", "bob")]), Some(&pat)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_read_only_saymon_token_is_refused_on_every_state_changing_route() {
    let app = spawn_app().await;
    let path = format!("/node/api/users/{}/auth-token", app.admin.user_id);
    let req = app.as_admin(Method::POST, &path).json(&json!({"scope": "read-only"}));
    let (status, token) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token.as_str().unwrap().to_string();
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let users_before = app.user_rows();
    let mut checked = 0;
    for (path, method) in tokend::api::saymon::changing_endpoints() {
        if SAYMON_NO_API_TOKEN.contains(&path) {
            continue;
        }
        let url = format!("{}?api-token={token}", path.replace("{id}", &bob));
        let body = json!({"login": "carol", "password": "carol-password", "displayName": "x"});
        let (status, answer) =
            app.send_text(app.saymon(Method::from_bytes(method.as_str().as_bytes()).unwrap(), &url).json(&body)).await;
        let expected = saymon_error("Forbidden", "This API token is read-only: it cannot change anything");
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(serde_json::from_str::<Value>(&answer).unwrap(), expected, "{method} {path}");
        checked += 1;
    }
    assert!(checked >= 6, "{checked}");
    assert_eq!(app.user_rows(), users_before);
    assert_eq!(app.saymon_current(&token).await.0, StatusCode::OK, "reads still work");
    // Nor can it become a full session.
    let req = app.saymon(Method::POST, "/node/api/users/session").json(&json!({"auth-token": token}));
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn scope_is_listed_and_an_unknown_scope_is_refused() {
    let app = spawn_app().await;
    read_only_pat(&app, &app.admin, ADMIN_PASSWORD).await;
    let (_, listed) = app.get("/api/v1/users.getPersonalAccessTokens", Some(&app.admin)).await;
    assert_eq!(listed["tokens"][0]["scope"], "read-only");
    let code = two_factor_code(ADMIN_PASSWORD);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    for scope in [json!("admin"), json!(""), json!(1)] {
        let body = json!({"tokenName": "x", "scope": scope});
        let (status, answer) = app.post_with(GENERATE, body, &app.admin, &headers).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope}: {answer}");
    }
    let path = format!("/node/api/users/{}/auth-token", app.admin.user_id);
    let (status, _) = app.send(app.as_admin(Method::POST, &path).json(&json!({"scope": "write"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
