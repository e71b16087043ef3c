//! SAYMON sessions (`/node/api/users/session`, spec/saymon.md §3.1–3.2) and auth tokens
//! (`/node/api/users/:id/auth-token`, §3.3–3.5; DESIGN decisions 2, 3; security.md §6 G, H).

use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USERNAME, ServerProcess, TestApp, cookie_value, saymon_401, saymon_error,
    saymon_unauthorized, set_cookies, spawn_app, with_query,
};
use crate::params;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CURRENT: &str = "/node/api/users/current";
const SESSION: &str = "/node/api/users/session";

fn invalid_api_token() -> (StatusCode, String) {
    saymon_unauthorized("Unauthorized", "Invalid API token.")
}

fn session_expired() -> (StatusCode, String) {
    saymon_unauthorized("Unauthorized", "Session expired.")
}

fn token_path(user_id: &str) -> String {
    format!("/node/api/users/{user_id}/auth-token")
}

/// The admin's full view of a user, read over Basic.
async fn user_doc(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.send(app.as_admin(Method::GET, &format!("/node/api/users/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_session_login_answers_the_quoted_session_id_that_is_also_the_sid_cookie() {
    let app = spawn_app().await;
    let body = json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let resp = app.saymon(Method::POST, SESSION).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookies(&resp);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with('"') && text.ends_with('"'), "{text}");
    let sid = text.trim_matches('"');
    assert!(uuid::Uuid::try_parse(sid).is_ok(), "{sid}");
    assert_eq!(cookie_value(&cookies, "sid").as_deref(), Some(sid));
    let sid_cookie = cookies.iter().find(|c| c.starts_with("sid=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(sid_cookie.split("; ").any(|a| a == attribute), "{sid_cookie} lacks {attribute}");
    }
    let (status, body) = app.current_by_sid(sid).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["login"], "admin");
}

#[tokio::test]
async fn a_session_login_accepts_the_email_as_login_and_an_auth_token() {
    let app = spawn_app().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let (sid, _) = app.saymon_login(json!({"login": "bob@example.com", "password": "bob-password"})).await;
    assert!(app.current_by_sid(&sid).await.1.contains(&bob));
    let token = app.saymon_token(&bob).await;
    let (sid, _) = app.saymon_login(json!({"auth-token": token})).await;
    assert!(app.current_by_sid(&sid).await.1.contains(&bob));
    let bogus = json!({"auth-token": "32925106-8c56-41d1-8713-410f203e8ce0"});
    assert_eq!(app.send_text(app.saymon(Method::POST, SESSION).json(&bogus)).await, invalid_api_token());
}

#[tokio::test]
async fn a_session_login_with_a_wrong_password_is_invalid_credentials() {
    let app = spawn_app().await;
    for login in [ADMIN_USERNAME, "nobody"] {
        let req = app.saymon(Method::POST, SESSION).json(&json!({"login": login, "password": "wrong-password"}));
        let (status, text) = app.send_text(req).await;
        let expected = saymon_401("InvalidCredentials", "Invalid login or password.");
        assert_eq!((status, text), (StatusCode::UNAUTHORIZED, expected));
    }
}

#[tokio::test]
async fn a_malformed_or_incomplete_session_body_is_a_bad_request() {
    let app = spawn_app().await;
    let req = app.saymon(Method::POST, SESSION).header("Content-Type", "application/json").body("{\"login\": @");
    let (status, body) = app.send(req).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidContent")), "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("Invalid JSON"), "{body}");
    let (status, body) = app.send(app.saymon(Method::POST, SESSION).json(&json!({"login": "admin"}))).await;
    let missing = saymon_error("BadRequest", "Mandatory \"password\" parameter is absent/empty.");
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, missing));
}

#[tokio::test]
async fn deleting_the_session_ends_it_and_deleting_none_is_fine() {
    let app = spawn_app().await;
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let logout = app.saymon(Method::DELETE, SESSION).header("Cookie", format!("sid={sid}"));
    assert_eq!(app.send_text(logout).await, (StatusCode::OK, String::new()));
    assert_eq!(app.current_by_sid(&sid).await, session_expired());
    assert_eq!(app.send_text(app.saymon(Method::DELETE, SESSION)).await, (StatusCode::OK, String::new()));
    let again = app.saymon(Method::DELETE, SESSION).header("Cookie", format!("sid={sid}"));
    assert_eq!(app.send(again).await.0, StatusCode::OK);
}

#[tokio::test]
async fn sessions_expire_like_login_tokens() {
    let app = spawn_app().await;
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK);
    let hash = Sha256::digest(sid.as_bytes()).to_vec();
    let sql = "UPDATE saymon_sessions SET expires_at = expires_at - 7862400000 WHERE session_hash = ?1";
    assert_eq!(app.store().execute(sql, params![hash]).unwrap(), 1);
    assert_eq!(app.current_by_sid(&sid).await, session_expired());
}

#[tokio::test]
async fn an_auth_token_is_a_quoted_uuid_v4_that_authenticates_its_user() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let (status, text) = app.send_text(app.as_admin(Method::POST, &token_path(&bob))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.starts_with('"') && text.ends_with('"'), "{text}");
    let token = text.trim_matches('"');
    let parsed = uuid::Uuid::try_parse(token).expect("a UUID");
    assert_eq!((parsed.get_version_num(), token.len()), (4, 36));
    assert_eq!(token, token.to_lowercase());
    let (status, body) = app.saymon_current(token).await;
    assert_eq!((status, body["id"].as_str()), (StatusCode::OK, Some(bob.as_str())));
}

#[tokio::test]
async fn creating_an_auth_token_again_replaces_and_kills_the_old_one() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let old = app.saymon_token(&bob).await;
    let new = app.saymon_token(&bob).await;
    assert_ne!(old, new);
    assert_eq!(app.current_by_token(&old).await, invalid_api_token());
    assert_eq!(app.current_by_token(&new).await.0, StatusCode::OK);
    let events = app.audit("user=bob").await;
    let saymon: Vec<_> = events.iter().filter(|e| e["tokenKind"] == "saymon").map(|e| &e["event"]).collect();
    assert_eq!(saymon, ["token.created", "token.revoked", "token.created"], "{events:?}");
}

#[tokio::test]
async fn a_revoked_auth_token_is_an_invalid_api_token_and_reads_null() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let token = app.saymon_token(&bob).await;
    let doc = user_doc(&app, &bob).await;
    assert_eq!(doc["authenticationToken"], format!("****{}", &token[32..]));
    let (_, own) = app.saymon_current(&token).await;
    assert_eq!(own["authenticationToken"], doc["authenticationToken"]);
    assert!(!own.to_string().contains(&token) && !doc.to_string().contains(&token));
    let (status, text) = app.send_text(app.as_admin(Method::DELETE, &token_path(&bob))).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, ""));
    assert_eq!(app.current_by_token(&token).await, invalid_api_token());
    assert_eq!(user_doc(&app, &bob).await["authenticationToken"], Value::Null);
}

#[tokio::test]
async fn a_caller_without_manage_users_cannot_mint_or_revoke_and_the_target_token_is_unchanged() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let carol = app.saymon_user("carol", "carol-password", &[]).await;
    let (bob_token, carol_token) = (app.saymon_token(&bob).await, app.saymon_token(&carol).await);
    let forbidden = saymon_error("Forbidden", "Permission \"manage-users\" is required");
    for method in [Method::POST, Method::DELETE] {
        let path = with_query(&token_path(&carol), &[("api-token", &bob_token)]);
        assert_eq!(app.send(app.saymon(method.clone(), &path)).await, (StatusCode::FORBIDDEN, forbidden.clone()));
        let basic = app.basic(method, &token_path(&carol), "bob", "bob-password");
        assert_eq!(app.send(basic).await, (StatusCode::FORBIDDEN, forbidden.clone()));
    }
    assert_eq!(app.saymon_current(&carol_token).await.0, StatusCode::OK);
    assert_eq!(user_doc(&app, &carol).await["authenticationToken"], format!("****{}", &carol_token[32..]));
}

#[tokio::test]
async fn a_user_granted_manage_users_cannot_mint_for_the_admin_but_can_for_a_plain_user() {
    let app = spawn_app().await;
    let manager = app.saymon_user("manager", "manager-password", &[]).await;
    let plain = app.saymon_user("plain", "plain-password", &[]).await;
    let grant = app.as_admin(Method::PATCH, &format!("/node/api/users/{manager}"));
    assert_eq!(app.send(grant.json(&json!({"permissions": ["manage-users"]}))).await.0, StatusCode::OK);
    let as_manager = |method: Method, path: &str| app.basic(method, path, "manager", "manager-password");
    let (status, body) = app.send(as_manager(Method::POST, &token_path(&app.admin.user_id))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("Forbidden")), "{body}");
    let admin_rows: i64 = app
        .store()
        .query_row("SELECT count(*) FROM saymon_tokens WHERE user_id = ?1", params![&app.admin.user_id], |r| r.get(0))
        .unwrap();
    assert_eq!(admin_rows, 0);
    let refused = app.audit("event=token.refused").await;
    assert!(refused.iter().any(|e| e["subject"]["_id"] == app.admin.user_id.as_str()), "{refused:?}");
    let (status, body) = app.send(as_manager(Method::POST, &token_path(&plain))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.saymon_current(body.as_str().unwrap()).await.1["id"], plain.as_str());
}

#[tokio::test]
async fn a_deactivated_users_token_is_refused_whichever_dialect_deactivated_it() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let token = app.saymon_token(&bob).await;
    let deactivate = json!({"userId": bob, "activeStatus": false});
    assert_eq!(app.post("/api/v1/users.setActiveStatus", deactivate, Some(&app.admin)).await.0, StatusCode::OK);
    assert_eq!(app.current_by_token(&token).await, invalid_api_token());
    let carol = app.saymon_user("carol", "carol-password", &[]).await;
    let token = app.saymon_token(&carol).await;
    let block = app.as_admin(Method::PATCH, &format!("/node/api/users/{carol}")).json(&json!({"status": 3}));
    assert_eq!(app.send(block).await.0, StatusCode::OK);
    assert_eq!(app.current_by_token(&token).await, invalid_api_token());
    let (status, _) = app.send(app.as_admin(Method::POST, &token_path(&carol))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no token is minted for a blocked user");
}

#[tokio::test]
async fn a_deleted_users_token_is_refused() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let token = app.saymon_token(&bob).await;
    let delete = app.as_admin(Method::DELETE, &format!("/node/api/users/{bob}"));
    assert_eq!(app.send_text(delete).await, (StatusCode::OK, String::new()));
    assert_eq!(app.current_by_token(&token).await, invalid_api_token());
}

#[tokio::test]
async fn empty_null_malformed_or_repeated_api_tokens_are_refused() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    for value in ["", "null", "undefined", "not-a-uuid", &format!("{token} "), &token[..35], "{\"$ne\":null}"] {
        assert_eq!(app.current_by_token(value).await, invalid_api_token(), "api-token={value:?}");
    }
    for query in [format!("api-token={token}&api-token={token}"), "api-token".into(), "api-token&x=1".into()] {
        let req = app.saymon(Method::GET, &format!("{CURRENT}?{query}"));
        assert_eq!(app.send_text(req).await, invalid_api_token(), "?{query}");
    }
    assert_eq!(app.current_by_token(&token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn get_on_the_auth_token_path_is_method_not_allowed() {
    let app = spawn_app().await;
    let (status, body) = app.send(app.as_admin(Method::GET, &token_path(&app.admin.user_id))).await;
    assert_eq!(
        (status, body),
        (StatusCode::METHOD_NOT_ALLOWED, saymon_error("MethodNotAllowed", "GET is not allowed"))
    );
}

#[tokio::test]
async fn auth_tokens_and_session_ids_are_stored_only_as_sha256() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let (hash, last): (Vec<u8>, String) = app
        .store()
        .query_row("SELECT token_hash, last_part FROM saymon_tokens", params![], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((hash, last.as_str()), (Sha256::digest(token.as_bytes()).to_vec(), &token[32..]));
    let stored: i64 = app
        .store()
        .query_row(
            "SELECT count(*) FROM saymon_sessions WHERE session_hash = ?1",
            params![Sha256::digest(sid.as_bytes()).to_vec()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
    if crate::helpers_store::on_postgres() {
        let dump = format!("{:?}", crate::catalogue_support::Snapshot::take(&app));
        for secret in [&token, &sid, &token[..8].to_string()] {
            assert!(!dump.contains(secret.as_str()) && !dump.contains(&hex::encode(secret)), "{secret} stored");
        }
        return;
    }
    let mut bytes = std::fs::read(app.db_path()).unwrap();
    bytes.extend(std::fs::read(app.db_path().with_extension("sqlite3-wal")).unwrap_or_default());
    for secret in [&token, &sid, &token[..8].to_string()] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} stored in plaintext");
    }
}

#[tokio::test]
async fn the_api_token_never_appears_in_the_server_log() {
    let mut server = ServerProcess::start(&[("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD), ("RUST_LOG", "debug")]);
    let client = reqwest::Client::new();
    let basic = |method: Method, path: &str| {
        client.request(method, server.url(path)).basic_auth(ADMIN_USERNAME, Some(ADMIN_PASSWORD))
    };
    let me: Value = basic(Method::GET, CURRENT).send().await.unwrap().json().await.unwrap();
    let admin_id = me["id"].as_str().unwrap().to_string();
    let resp = basic(Method::POST, &token_path(&admin_id)).send().await.unwrap();
    let token: String = resp.json().await.unwrap();
    let bogus = "32925106-8c56-41d1-8713-410f203e8ce0";
    for value in [token.as_str(), bogus] {
        let resp = client.get(server.url(&format!("{CURRENT}?api-token={value}"))).send().await.unwrap();
        assert!(resp.status() == StatusCode::OK || value == bogus);
        let users = client.get(server.url(&format!("/node/api/users?api-token={value}&x=1"))).send().await.unwrap();
        assert!(users.status().is_success() || value == bogus);
    }
    let session = client.post(server.url(SESSION)).json(&json!({"auth-token": token})).send().await.unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    server.stop();
    let log = server.log();
    assert!(log.contains("\"GET /node/api/users/current\" 200"), "no access-log line:\n{log}");
    assert!(log.contains("\"GET /node/api/users/current\" 401"), "no access-log line:\n{log}");
    for secret in [token.as_str(), &token[..8], bogus, ADMIN_PASSWORD] {
        assert!(!log.contains(secret), "{secret} appears in the log:\n{log}");
    }
}
