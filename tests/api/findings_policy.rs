//! Regression tests for the attack run's findings 1–7, one test (or a few) per finding,
//! each named after it: the secret-verification budget, the privilege ceiling, the gated
//! TOTP enrolment, and which credentials die with "sign out other clients". Finding 4
//! (concurrent guesses) is with the other burst in `findings_policy_b.rs`.

use crate::email_2fa::{ENABLE as ENABLE_EMAIL, app_mailing_to, verified_user};
use crate::helpers::*;
use crate::helpers_smtp::SmtpSink;
use crate::totp::{current_code, enrol, forget_used_steps, password};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const OK: StatusCode = StatusCode::OK;
const LOGIN: &str = "/api/v1/login";
const UPDATE: &str = "/api/v1/users.update";
const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const CURRENT: &str = "/node/api/users/current";
const AN_HOUR: Duration = Duration::from_secs(3600);

/// What a REST route answers once the account is blocked.
fn blocked_for_user_400() -> (StatusCode, Value) {
    (BAD, meteor_error("error-login-blocked-for-user", "Login has been temporarily blocked For User"))
}

/// What `/api/v1/login` answers once the account is blocked.
fn login_blocked_for_user_401() -> (StatusCode, Value) {
    let body = json!({"success": false, "error": "error-login-blocked-for-user", "status": "error",
        "details": {"function": "Accounts.validateLoginAttempt"},
        "message": "Login has been temporarily blocked For User"});
    (StatusCode::UNAUTHORIZED, body)
}

/// `POST path` as `who`, meeting a password challenge with the code for `password`.
async fn post_with_password(
    app: &TestApp,
    path: &str,
    body: Value,
    who: &Session,
    password: &str,
) -> (StatusCode, Value) {
    let code = two_factor_code(password);
    app.post_with(path, body, who, &[("x-2fa-code", &code), ("x-2fa-method", "password")]).await
}

/// Calls the Meteor `method` over `method.call` as `who`; the decoded inner message.
async fn method_call(app: &TestApp, who: &Session, method: &str, params: Value, headers: &[(&str, &str)]) -> Value {
    let message = json!({"msg": "method", "id": "1", "method": method, "params": params}).to_string();
    let path = format!("/api/v1/method.call/{method}");
    let (status, body) = app.post_with(&path, json!({"message": message}), who, headers).await;
    assert_eq!(status, OK, "{method}: {body}");
    serde_json::from_str(body["message"].as_str().expect("a message")).expect("an EJSON message")
}

/// `name` (password `password(name)`) created past any 2FA challenge of the admin, logged
/// in, and made an hour old so the fresh-account grace is over.
async fn old_account(app: &TestApp, name: &str) -> Session {
    app.create_user_past_2fa(name, &password(name), &["user"]).await;
    let session = app.login(name, &password(name)).await;
    app.age_account(&session.user_id, AN_HOUR).await;
    session
}

/// Asserts a 400 refusal by the privilege ceiling.
fn assert_ceiling((status, body): (StatusCode, Value)) -> Value {
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-action-not-allowed")), "{body}");
    assert_eq!(body["details"]["guard"], json!("privilege-ceiling"), "{body}");
    body
}

/// Asserts a SAYMON 403 naming the privilege ceiling.
fn assert_saymon_ceiling((status, body): (StatusCode, Value)) {
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("Forbidden")), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("privilege ceiling"), "{body}");
}

/// Asserts a refusal of a PAT acting on an account as privileged as its owner.
fn assert_pat_reach((status, body): (StatusCode, Value)) {
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-login-token-required")), "{body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("as privileged as its owner"), "{body}");
}

#[tokio::test]
async fn finding_01_wrong_totp_codes_with_a_stolen_token_are_counted_and_blocked() {
    let app = spawn_app_with(|c| c.login_guard.user_attempts = 8).await;
    let alice = app.user_session("alice").await;
    let (secret, _) = enrol(&app, &alice).await;
    let wrong = json!({"code": "000000"});
    for _ in 0..2 {
        let (status, body) = app.post("/api/v1/users.disableTotp", wrong.clone(), Some(&alice)).await;
        assert_eq!((status, &body["disabled"]), (OK, &json!(false)), "{body}");
        let (status, body) = app.post("/api/v1/users.regenerateTotpCodes", wrong.clone(), Some(&alice)).await;
        assert_eq!(status, BAD, "{body}");
        let called = method_call(&app, &alice, "2fa:regenerateCodes", json!(["000000"]), &[]).await;
        assert_eq!(called["error"]["error"], json!("invalid-totp"), "{called}");
        let headers = [("x-2fa-code", "000000"), ("x-2fa-method", "totp")];
        let (status, body) = app.post_with(GENERATE, json!({"tokenName": "ci"}), &alice, &headers).await;
        assert_eq!((status, &body["errorType"]), (BAD, &json!("totp-invalid")), "{body}");
    }
    // Eight failures across four routes: the right code is refused everywhere now.
    forget_used_steps(&app, &alice.user_id);
    let right = json!({"code": current_code(&secret)});
    assert_eq!(
        app.post("/api/v1/users.regenerateTotpCodes", right.clone(), Some(&alice)).await,
        blocked_for_user_400()
    );
    assert_eq!(app.post("/api/v1/users.disableTotp", right, Some(&alice)).await, blocked_for_user_400());
    let called = method_call(&app, &alice, "2fa:regenerateCodes", json!([current_code(&secret)]), &[]).await;
    assert_eq!(called["error"]["error"], json!("error-login-blocked-for-user"), "{called}");
    let code = current_code(&secret);
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "totp")];
    let generated = app.post_with(GENERATE, json!({"tokenName": "ci"}), &alice, &headers).await;
    assert_eq!(generated, blocked_for_user_400());
    let login = json!({"user": "alice", "password": password("alice"), "code": current_code(&secret)});
    assert_eq!(app.post(LOGIN, login, None).await, login_blocked_for_user_401());
}

#[tokio::test]
async fn finding_02_a_saymon_user_manager_cannot_reset_block_or_delete_an_admin() {
    let app = spawn_app().await;
    app.saymon_user("op", "op-password-1", &["manage-users"]).await;
    let admin = format!("/node/api/users/{}", app.admin.user_id);
    let as_op = |method: Method, path: &str| app.basic(method, path, "op", "op-password-1");
    let reset = as_op(Method::PUT, &format!("{admin}/password")).json(&json!({"newPassword": "taken-over-1"}));
    assert_saymon_ceiling(app.send(reset).await);
    assert_saymon_ceiling(app.send(as_op(Method::PATCH, &admin).json(&json!({"status": 3}))).await);
    assert_saymon_ceiling(app.send(as_op(Method::DELETE, &admin)).await);
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (status, doc) = app.send(app.as_admin(Method::GET, CURRENT)).await;
    assert_eq!((status, &doc["status"]), (OK, &json!(2)), "{doc}");
}

#[tokio::test]
async fn finding_02_a_delegate_with_edit_other_user_password_cannot_set_an_admins_password() {
    let app = spawn_app().await;
    app.set_permission_roles("edit-other-user-password", &["admin", "user"]).await;
    let bob = app.user_session("bob").await;
    let body = json!({"userId": app.admin.user_id, "data": {"password": "taken-over-1"}});
    assert_ceiling(post_with_password(&app, UPDATE, body, &bob, &password("bob")).await);
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn finding_02_a_delegate_with_create_user_cannot_create_a_user_in_a_role_above_itself() {
    let app = spawn_app().await;
    let (status, role) = app.post("/api/v1/roles.create", json!({"name": "super"}), Some(&app.admin)).await;
    assert_eq!(status, OK, "{role}");
    let role_id = role["role"]["_id"].as_str().unwrap().to_string();
    app.set_permission_roles("assign-admin-role", &["admin", &role_id]).await;
    app.set_permission_roles("create-user", &["admin", "user"]).await;
    let bob = app.user_session("bob").await;
    let rows = app.user_rows();
    let body = json!({"username": "eve", "password": "eve-password", "name": "eve",
        "email": "eve@example.com", "roles": [role_id]});
    let refused = assert_ceiling(post_with_password(&app, "/api/v1/users.create", body, &bob, &password("bob")).await);
    assert_eq!(refused["details"]["permission"], json!("assign-admin-role"));
    assert_eq!(app.user_rows(), rows, "no user was created");
}

#[tokio::test]
async fn finding_02_a_delegate_with_edit_other_user_totp_cannot_reset_an_admins_totp() {
    let app = spawn_app().await;
    app.set_permission_roles("edit-other-user-totp", &["admin", "user"]).await;
    let carol = app.user_session("carol").await;
    enrol(&app, &app.admin).await;
    let body = json!({"userId": app.admin.user_id});
    assert_ceiling(post_with_password(&app, "/api/v1/users.resetTOTP", body, &carol, &password("carol")).await);
    let (status, body) = app.post(LOGIN, json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD}), None).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("totp-required")), "still enrolled");
}

#[tokio::test]
async fn finding_03_totp_enrolment_over_method_call_needs_the_second_factor_gate() {
    let app = spawn_app_with(|c| c.two_factor_remember = Duration::ZERO).await;
    let alice = old_account(&app, "alice").await;
    let refused = method_call(&app, &alice, "2fa:enable", json!([]), &[]).await;
    assert_eq!(refused["error"]["error"], json!("totp-required"), "the thief gets no secret: {refused}");
    assert_eq!(refused["error"]["details"]["method"], json!("password"), "{refused}");
    assert!(refused.get("result").is_none(), "{refused}");
    let code = two_factor_code(&password("alice"));
    let gate = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    let started = method_call(&app, &alice, "2fa:enable", json!([]), &gate).await;
    let secret = started["result"]["secret"].as_str().expect("a secret").to_string();
    let unguarded = method_call(&app, &alice, "2fa:validateTempToken", json!([current_code(&secret)]), &[]).await;
    assert_eq!(unguarded["error"]["error"], json!("totp-required"), "{unguarded}");
    forget_used_steps(&app, &alice.user_id);
    let done = method_call(&app, &alice, "2fa:validateTempToken", json!([current_code(&secret)]), &gate).await;
    assert_eq!(done["result"]["codes"].as_array().map(Vec::len), Some(12), "{done}");
}

/// A server challenging every gated request, with a 5-failure budget; erin's old account.
async fn challenging_with_erin() -> (TestApp, Session) {
    let app = spawn_app_with(|c| {
        c.login_guard.user_attempts = 5;
        c.two_factor_remember = Duration::ZERO;
    })
    .await;
    let erin = old_account(&app, "erin").await;
    (app, erin)
}

#[tokio::test]
async fn finding_05_wrong_password_codes_from_a_pat_on_a_gated_route_are_budgeted() {
    let (app, erin) = challenging_with_erin().await;
    let pat = app.generate_pat(&erin, &password("erin"), "ci", false).await;
    let rename = json!({"userId": erin.user_id, "data": {"name": "New Name"}});
    for i in 0..5 {
        let (status, body) = post_with_password(&app, UPDATE, rename.clone(), &pat, &format!("wrong-{i}")).await;
        assert_eq!((status, &body["errorType"]), (BAD, &json!("totp-invalid")), "{body}");
    }
    assert_eq!(post_with_password(&app, UPDATE, rename, &pat, &password("erin")).await, blocked_for_user_400());
}

#[tokio::test]
async fn finding_05_an_account_blocked_by_failed_logins_cannot_pass_a_gated_route_by_password() {
    let (app, erin) = challenging_with_erin().await;
    for _ in 0..5 {
        let (status, _) = app.post(LOGIN, json!({"user": "erin", "password": "not-the-password"}), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let rename = json!({"userId": erin.user_id, "data": {"name": "New Name"}});
    assert_eq!(post_with_password(&app, UPDATE, rename, &erin, &password("erin")).await, blocked_for_user_400());
}

/// A live SAYMON password session of `name`.
async fn saymon_session(app: &TestApp, name: &str) -> String {
    let (sid, _) = app.saymon_login(json!({"login": name, "password": password(name)})).await;
    assert_eq!(app.current_by_sid(&sid).await.0, OK);
    sid
}

#[tokio::test]
async fn finding_06_signing_out_other_clients_ends_saymon_sessions_too() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    for route in ["users.logoutOtherClients", "users.removeOtherTokens"] {
        let sid = saymon_session(&app, "bob").await;
        let (status, body) = app.post(&format!("/api/v1/{route}"), json!({}), Some(&bob)).await;
        assert_eq!(status, OK, "{route}: {body}");
        assert_eq!(app.current_by_sid(&sid).await, saymon_unauthorized("Unauthorized", "Session expired."), "{route}");
        assert!(app.authenticates(&bob).await, "{route} keeps the token used");
    }
}

#[tokio::test]
async fn finding_06_enrolling_totp_ends_saymon_password_sessions() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let sid = saymon_session(&app, "bob").await;
    enrol(&app, &bob).await;
    assert_eq!(app.current_by_sid(&sid).await, saymon_unauthorized("Unauthorized", "Session expired."), "TOTP");
    assert!(app.authenticates(&bob).await);
}

#[tokio::test]
async fn finding_06_enabling_email_two_factor_ends_saymon_password_sessions() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    let carol = verified_user(&app, "carol").await;
    let sid = saymon_session(&app, "carol").await;
    let (status, body) = app.post(ENABLE_EMAIL, json!({}), Some(&carol)).await;
    assert_eq!(status, OK, "{body}");
    assert_eq!(app.current_by_sid(&sid).await, saymon_unauthorized("Unauthorized", "Session expired."), "e-mail");
    assert!(app.authenticates(&carol).await);
}

#[tokio::test]
async fn finding_07_a_bypass_pat_cannot_create_or_take_over_an_account_as_privileged_as_its_owner() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let second = app.create_user("second", "second-password", &["admin", "user"]).await;
    let pat = app.generate_pat(&app.admin, ADMIN_PASSWORD, "deploy", true).await;
    let rows = app.user_rows();
    let admin = json!({"username": "mallory", "password": "mallory-password", "name": "mallory",
        "email": "mallory@example.com", "roles": ["admin", "user"]});
    assert_pat_reach(app.post("/api/v1/users.create", admin, Some(&pat)).await);
    assert_eq!(app.user_rows(), rows);
    let takeover = json!({"userId": second, "data": {"password": "taken-over-1"}});
    assert_pat_reach(app.post(UPDATE, takeover, Some(&pat)).await);
    app.login("second", "second-password").await;
    let tokens = app.login_token_rows(&second);
    let minted = app.post("/api/v1/users.createToken", json!({"userId": second}), Some(&pat)).await;
    let not_authorized = json!({"success": false, "error": "Not authorized [error-not-authorized]",
        "errorType": "error-not-authorized"});
    assert_eq!(minted, (BAD, not_authorized));
    assert_eq!(app.login_token_rows(&second), tokens);
    let plain = json!({"username": "carol", "password": "carol-password", "name": "carol",
        "email": "carol@example.com"});
    let (status, body) = app.post("/api/v1/users.create", plain, Some(&pat)).await;
    assert_eq!(status, OK, "a PAT still provisions ordinary users: {body}");
}
