//! SAYMON authentication (spec/saymon.md §2, §7.2): `?api-token=`, then HTTP Basic, then the
//! `sid` cookie; the documented 401 bodies byte for byte; the CSRF layer; and the wall
//! between SAYMON and Rocket.Chat credentials (spec/security.md §6 F).

use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USERNAME, TestApp, cookie_value, not_logged_in, saymon_401, spawn_app, spawn_app_with,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CURRENT: &str = "/node/api/users/current";
const NOT_LOGGED_IN: &str = r#"{"code":"Unauthorized","message":"{\"errorCode\":3,\"message\":\"Not logged in.\"}"}"#;
const SESSION_EXPIRED: &str =
    r#"{"code":"Unauthorized","message":"{\"errorCode\":3,\"message\":\"Session expired.\"}"}"#;
const INVALID_API_TOKEN: &str =
    r#"{"code":"Unauthorized","message":"{\"errorCode\":3,\"message\":\"Invalid API token.\"}"}"#;
const INVALID_CREDENTIALS: &str =
    r#"{"code":"InvalidCredentials","message":"{\"errorCode\":3,\"message\":\"Invalid login or password.\"}"}"#;
const WRONG_CSRF: &str = r#"{"errorCode":3,"message":"Wrong CSRF Token"}"#;

fn api_token(path: &str, token: &str) -> String {
    crate::helpers::with_query(path, &[("api-token", token)])
}

/// A user `login` with password `<login>-password` and e-mail `<login>@example.com`; its id.
async fn saymon_user_with_email(app: &TestApp, login: &str) -> String {
    let body =
        json!({"login": login, "email": format!("{login}@example.com"), "password": format!("{login}-password")});
    let (status, body) = app.send(app.as_admin(Method::POST, "/node/api/users").json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_request_without_credentials_is_not_logged_in_byte_for_byte() {
    let app = spawn_app().await;
    let (status, text) = app.send_text(app.saymon(Method::GET, CURRENT)).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, NOT_LOGGED_IN));
    assert_eq!(saymon_401("Unauthorized", "Not logged in."), NOT_LOGGED_IN);
}

#[tokio::test]
async fn a_bad_api_token_is_refused_even_when_valid_basic_credentials_are_sent() {
    let app = spawn_app().await;
    let path = api_token(CURRENT, "32925106-8c56-41d1-8713-410f203e8ce0");
    let (status, text) = app.send_text(app.as_admin(Method::GET, &path)).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_API_TOKEN));
}

#[tokio::test]
async fn a_valid_api_token_wins_over_basic_credentials_and_a_session_cookie() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let token = app.saymon_token(&bob).await;
    let (admin_sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let req = app.as_admin(Method::GET, &api_token(CURRENT, &token)).header("Cookie", format!("sid={admin_sid}"));
    let (status, body) = app.send(req).await;
    assert_eq!((status, body["id"].as_str()), (StatusCode::OK, Some(bob.as_str())));
}

#[tokio::test]
async fn basic_authentication_accepts_the_login_or_the_email() {
    let app = spawn_app().await;
    let id = saymon_user_with_email(&app, "carol").await;
    for login in ["carol", "carol@example.com"] {
        let (status, body) = app.send(app.basic(Method::GET, CURRENT, login, "carol-password")).await;
        assert_eq!((status, body["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "as {login}");
    }
}

#[tokio::test]
async fn wrong_basic_credentials_get_the_exact_invalid_credentials_body() {
    let app = spawn_app().await;
    let attempts = [
        app.basic(Method::GET, CURRENT, ADMIN_USERNAME, "wrong-password"),
        app.basic(Method::GET, CURRENT, "nobody", ADMIN_PASSWORD),
        app.basic(Method::GET, CURRENT, "", ""),
        app.saymon(Method::GET, CURRENT).header("Authorization", "Basic !!not-base64!!"),
        app.saymon(Method::GET, CURRENT).header("Authorization", "Basic YWRtaW4="), // "admin", no colon
    ];
    for req in attempts {
        let (status, text) = app.send_text(req).await;
        assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS));
    }
}

#[tokio::test]
async fn basic_credentials_decide_before_the_session_cookie() {
    let app = spawn_app().await;
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let stale = "7b9d2b27-a47d-4bbe-a2f7-2c63bf356db0";
    let req = app.as_admin(Method::GET, CURRENT).header("Cookie", format!("sid={stale}"));
    assert_eq!(app.send(req).await.0, StatusCode::OK);
    let req = app.basic(Method::GET, CURRENT, ADMIN_USERNAME, "wrong").header("Cookie", format!("sid={sid}"));
    let (status, text) = app.send_text(req).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS));
}

#[tokio::test]
async fn an_unknown_or_malformed_sid_cookie_means_session_expired() {
    let app = spawn_app().await;
    for sid in ["7b9d2b27-a47d-4bbe-a2f7-2c63bf356db0", "not-a-session", ""] {
        let (status, text) = app.current_by_sid(sid).await;
        assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, SESSION_EXPIRED), "sid={sid:?}");
    }
}

#[tokio::test]
async fn with_api_tokens_switched_off_a_valid_token_is_refused_but_basic_still_works() {
    let app = spawn_app_with(|c| c.saymon_api_token = false).await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let (status, text) = app.current_by_token(&token).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_API_TOKEN));
    assert_eq!(app.send(app.as_admin(Method::GET, CURRENT)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_api_tokens_switched_off_a_token_cannot_be_exchanged_for_a_session() {
    let app = spawn_app_with(|c| c.saymon_api_token = false).await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let req = app.saymon(Method::POST, "/node/api/users/session").json(&json!({"auth-token": token}));
    let (status, text) = app.send_text(req).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_API_TOKEN));
}

/// With CSRF on: an admin session's sid and csrf values.
async fn csrf_session(app: &TestApp) -> (String, String) {
    let (sid, cookies) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let csrf = cookie_value(&cookies, "csrf").expect("a csrf cookie");
    assert!(!csrf.is_empty() && csrf != sid);
    (sid, csrf)
}

#[tokio::test]
async fn with_csrf_on_a_session_login_sets_both_the_sid_and_the_csrf_cookie() {
    let app = spawn_app_with(|c| c.saymon_csrf = true).await;
    let (sid, cookies) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let sid_cookie = cookies.iter().find(|c| c.starts_with("sid=")).expect("sid cookie");
    let mut attributes: Vec<&str> = sid_cookie.split("; ").collect();
    attributes.sort_unstable();
    let expected_sid = format!("sid={sid}");
    assert_eq!(attributes, ["HttpOnly", "Path=/", "SameSite=Lax", expected_sid.as_str()]);
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("csrf=")).expect("csrf cookie");
    assert!(csrf_cookie.contains("Path=/") && !csrf_cookie.contains("HttpOnly"), "{csrf_cookie}");
}

#[tokio::test]
async fn with_csrf_on_session_writes_without_the_right_header_are_wrong_csrf_token() {
    let app = spawn_app_with(|c| c.saymon_csrf = true).await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let (sid, _) = csrf_session(&app).await;
    let writes = [
        (Method::POST, format!("/node/api/users/{bob}/auth-token"), json!(null)),
        (Method::DELETE, format!("/node/api/users/{bob}/auth-token"), json!(null)),
        (Method::PATCH, format!("/node/api/users/{bob}"), json!({"displayName": "Bobby"})),
        (Method::PUT, format!("/node/api/users/{bob}/password"), json!({"newPassword": "bob-password-2"})),
        (Method::POST, "/node/api/users".to_string(), json!({"login": "eve", "password": "eve-password"})),
        (Method::DELETE, "/node/api/users/session".to_string(), json!(null)),
    ];
    for (method, path, body) in writes {
        for header in [None, Some("wrong"), Some("")] {
            let mut req = app.saymon(method.clone(), &path).header("Cookie", format!("sid={sid}"));
            req = if body.is_null() { req } else { req.json(&body) };
            if let Some(value) = header {
                req = req.header("x-csrf-token", value);
            }
            let (status, text) = app.send_text(req).await;
            assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, WRONG_CSRF), "{method} {path} {header:?}");
        }
    }
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_csrf_on_session_writes_with_the_right_header_work() {
    let app = spawn_app_with(|c| c.saymon_csrf = true).await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let (sid, csrf) = csrf_session(&app).await;
    let with_session = |method: Method, path: &str| {
        app.saymon(method, path).header("Cookie", format!("sid={sid}")).header("x-csrf-token", &csrf)
    };
    let token_path = format!("/node/api/users/{bob}/auth-token");
    assert_eq!(app.send(with_session(Method::POST, &token_path)).await.0, StatusCode::OK);
    assert_eq!(app.send(with_session(Method::DELETE, &token_path)).await.0, StatusCode::OK);
    let patch = with_session(Method::PATCH, &format!("/node/api/users/{bob}")).json(&json!({"displayName": "Bobby"}));
    assert_eq!(app.send(patch).await.0, StatusCode::OK);
    let put = with_session(Method::PUT, &format!("/node/api/users/{bob}/password"))
        .json(&json!({"newPassword": "bob-password-2"}));
    assert_eq!(app.send(put).await.0, StatusCode::OK);
    assert_eq!(app.send(with_session(Method::DELETE, "/node/api/users/session")).await.0, StatusCode::OK);
    let (status, text) = app.current_by_sid(&sid).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, SESSION_EXPIRED));
}

#[tokio::test]
async fn with_csrf_on_reads_work_with_or_without_the_header() {
    let app = spawn_app_with(|c| c.saymon_csrf = true).await;
    let (sid, csrf) = csrf_session(&app).await;
    for header in [None, Some(csrf.as_str()), Some("anything")] {
        let mut req = app.saymon(Method::GET, CURRENT).header("Cookie", format!("sid={sid}"));
        if let Some(value) = header {
            req = req.header("x-csrf-token", value);
        }
        assert_eq!(app.send(req).await.0, StatusCode::OK, "{header:?}");
    }
}

#[tokio::test]
async fn with_csrf_on_basic_and_api_token_writes_need_no_csrf_header() {
    let app = spawn_app_with(|c| c.saymon_csrf = true).await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let admin_token = app.saymon_token(&app.admin.user_id).await;
    let path = api_token(&format!("/node/api/users/{bob}/auth-token"), &admin_token);
    assert_eq!(app.send(app.saymon(Method::POST, &path)).await.0, StatusCode::OK);
    assert_eq!(app.send(app.saymon(Method::DELETE, &path)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_csrf_off_no_csrf_cookie_is_set_and_session_writes_need_no_header() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &[]).await;
    let (sid, cookies) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    assert_eq!(cookie_value(&cookies, "csrf"), None, "{cookies:?}");
    let req =
        app.saymon(Method::POST, &format!("/node/api/users/{bob}/auth-token")).header("Cookie", format!("sid={sid}"));
    assert_eq!(app.send(req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_rocket_chat_login_token_means_nothing_on_node_api() {
    let app = spawn_app().await;
    let rc = app.admin.clone();
    let (status, text) = app.current_by_token(&rc.token).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_API_TOKEN));
    let req = app.saymon(Method::GET, CURRENT).header("X-Auth-Token", &rc.token).header("X-User-Id", &rc.user_id);
    let (status, text) = app.send_text(req).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, NOT_LOGGED_IN));
    let (status, text) = app.current_by_sid(&rc.token).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, SESSION_EXPIRED));
}

#[tokio::test]
async fn a_saymon_token_means_nothing_on_api_v1() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let id = app.admin.user_id.clone();
    let attempts = [
        app.client.get(app.url("/api/v1/me")).header("X-Auth-Token", &token).header("X-User-Id", &id),
        app.client.get(app.url("/api/v1/me")).header("Authorization", format!("Bearer {token}")),
        app.client.get(app.url(&api_token("/api/v1/me", &token))).header("X-User-Id", &id),
    ];
    for req in attempts {
        assert_eq!(app.send(req).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    }
    let (status, body) = app.post("/api/v1/login", json!({"resume": token}), None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("Unauthorized")), "{body}");
}

#[tokio::test]
async fn a_session_id_is_neither_an_api_token_nor_a_rocket_chat_token() {
    let app = spawn_app().await;
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    let (status, text) = app.current_by_token(&sid).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, INVALID_API_TOKEN));
    let req =
        app.client.get(app.url("/api/v1/me")).header("X-Auth-Token", &sid).header("X-User-Id", &app.admin.user_id);
    assert_eq!(app.send(req).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let token = app.saymon_token(&app.admin.user_id).await;
    let (status, text) = app.current_by_sid(&token).await;
    assert_eq!((status, text.as_str()), (StatusCode::UNAUTHORIZED, SESSION_EXPIRED));
}

#[tokio::test]
async fn one_user_works_in_both_dialects_whichever_created_it() {
    let app = spawn_app().await;
    let saymon_made = app.saymon_user("dora", "dora-password", &[]).await;
    assert_eq!(app.login("dora", "dora-password").await.user_id, saymon_made);
    let rc_made = app.create_user("erin", "erin-password", &["user"]).await;
    let (status, body) = app.send(app.basic(Method::GET, CURRENT, "erin", "erin-password")).await;
    assert_eq!((status, body["id"].as_str()), (StatusCode::OK, Some(rc_made.as_str())));
    let (sid, _) = app.saymon_login(json!({"login": "erin@example.com", "password": "erin-password"})).await;
    let (status, body) = app.send(app.saymon(Method::GET, CURRENT).header("Cookie", format!("sid={sid}"))).await;
    assert_eq!((status, body["login"].as_str()), (StatusCode::OK, Some("erin")));
}

#[tokio::test]
async fn permissions_are_the_role_permissions_plus_the_direct_ones_whichever_dialect_set_them() {
    let app = spawn_app().await;
    let bob = app.saymon_user("bob", "bob-password", &["manage-links"]).await;
    let token = app.saymon_token(&bob).await;
    let sorted = |doc: Value| {
        let mut list: Vec<String> = serde_json::from_value(doc["permissions"].clone()).unwrap();
        list.sort_unstable();
        list
    };
    let from_user_role = ["create-personal-access-tokens", "manage-links", "view-d-room", "view-outside-room"];
    assert_eq!(sorted(app.saymon_current(&token).await.1), from_user_role);
    app.set_permission_roles("manage-objects", &["admin", "user"]).await;
    assert!(sorted(app.saymon_current(&token).await.1).contains(&"manage-objects".to_string()));
    let admin = sorted(app.send(app.as_admin(Method::GET, CURRENT)).await.1);
    for p in ["manage-users", "manage-configuration", "create-user"] {
        assert!(admin.contains(&p.to_string()), "{admin:?}");
    }
}
