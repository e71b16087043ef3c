//! Bad-input catalogue §6 E, path traversal and odd identifiers in `:id` (items 36–39).
//! saymon_users.rs `odd_path_ids_are_refused_with_400_or_404_and_mint_nothing` sweeps these
//! ids over every `/node/api/users/:id` route; here each answer is pinned exactly.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn catalogue_36_37_38_odd_ids_on_auth_token_are_400_with_the_decoded_id_or_404() {
    let app = spawn_app().await;
    let admin = app.admin.user_id.clone();
    let bad = |id: &str| (StatusCode::BAD_REQUEST, saymon_error("BadRequest", &format!("Invalid user id: {id:?}")));
    let cases = [
        ("36 ..%2F..%2Fadmin".to_string(), "..%2F..%2Fadmin".to_string(), bad("../../admin")),
        ("36 id%2F".into(), format!("{admin}%2F"), bad(&format!("{admin}/"))),
        ("37 ;x=1".into(), format!("{admin};x=1"), bad(&format!("{admin};x=1"))),
        ("37 %00".into(), format!("{admin}%00"), bad(&format!("{admin}\u{0}"))),
        ("38 *".into(), "*".into(), bad("*")),
        ("38 -1".into(), "-1".into(), bad("-1")),
        ("38 0".into(), "0".into(), bad("0")),
        ("38 huge".into(), "999999999999999999999".into(), bad("999999999999999999999")),
        ("38 $ne".into(), "%7B%22%24ne%22%3Anull%7D".into(), bad("{\"$ne\":null}")),
    ];
    for (what, id, expected) in cases {
        let req = app.as_admin(Method::POST, &format!("/node/api/users/{id}/auth-token"));
        refused(&app, &format!("item {what}"), req, expected).await;
    }
    // Paths that are not the route itself are 404 — never normalised onto it (item 37).
    for path in ["/node/api/users//auth-token".to_string(), format!("/node/api/users/{admin}/auth-token/")] {
        let message = format!("{path} does not exist");
        let expected = (StatusCode::NOT_FOUND, saymon_error("ResourceNotFound", &message));
        refused(&app, &format!("item 37/38 {path}"), app.as_admin(Method::POST, &path), expected).await;
    }
}

/// reqwest resolves dot segments itself, so these go out byte for byte on a raw connection.
#[tokio::test]
async fn catalogue_36_37_dot_segments_are_never_resolved_onto_another_users_route() {
    let app = spawn_app().await;
    let admin = app.admin.user_id.clone();
    let basic = format!("{ADMIN_USERNAME}:{ADMIN_PASSWORD}");
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, basic);
    for (path, expected) in [
        (
            "/node/api/users/%2e%2e/auth-token".to_string(),
            r#"{"code":"BadRequest","message":"Invalid user id: \"..\""}"#.to_string(),
        ),
        (format!("/node/api/users/{admin}/./auth-token"), String::new()),
        (format!("/node/api/users/x/../{admin}/auth-token"), String::new()),
        ("/node/api/users/../../../etc/passwd/auth-token".to_string(), String::new()),
    ] {
        let expected = if expected.is_empty() {
            format!(r#"{{"code":"ResourceNotFound","message":"{path} does not exist"}}"#)
        } else {
            expected
        };
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let before = Snapshot::take(&app);
        let reply = raw_exchange(&app, request.into_bytes()).await;
        let status = if expected.contains("BadRequest") { "400 Bad Request" } else { "404 Not Found" };
        assert!(reply.starts_with(&format!("HTTP/1.1 {status}\r\n")), "{path}: {reply}");
        assert!(reply.ends_with(&format!("\r\n\r\n{expected}")), "{path}: {reply}");
        assert_eq!(Snapshot::take(&app), before, "{path} changed the stored state");
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn catalogue_39_conflicting_user_id_and_username_mint_for_nobody() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let alice = app.create_user("alice", "alice-password", &["user"]).await;
    let invalid = meteor_error(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    );
    for body in [
        json!({"userId": app.admin.user_id, "username": "alice"}),
        json!({"userId": alice, "username": ADMIN_USERNAME}),
        json!({"userId": alice, "user": ADMIN_USERNAME}),
    ] {
        let req = app.client.post(app.url("/api/v1/users.createToken")).json(&body);
        let req = req.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token);
        refused(&app, &format!("item 39 {body}"), req, (StatusCode::BAD_REQUEST, invalid.clone())).await;
    }
}

#[tokio::test]
async fn catalogue_section_e_requests_leave_no_credential_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", "catalogue-E-secret-pw").await;
    for id in ["..%2F..%2Fadmin", "*", "-1"] {
        let path = format!("/node/api/users/{id}/auth-token");
        let req = logged.client.post(logged.url(&path)).basic_auth(ADMIN_USERNAME, Some(ADMIN_PASSWORD));
        logged.expect(req, StatusCode::BAD_REQUEST).await;
    }
    let conflicting = json!({"userId": bob.user_id, "username": ADMIN_USERNAME});
    let req = logged.authed(Method::POST, "/api/v1/users.createToken", &logged.admin).json(&conflicting);
    logged.expect(req, StatusCode::BAD_REQUEST).await;
    logged.assert_log_free_of(&["catalogue-E-secret-pw", &bob.token], &["/auth-token\" 400"]);
}
