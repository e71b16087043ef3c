//! Regression tests for the attack run against the policy core: a leaked PAT reshaping
//! roles and permissions to reach its owner through a second admin, a role manager
//! stripping administrators of a permission, an address vouched for at creation by
//! someone who may not vouch, and a `sid` session outliving the API token it came from
//! (attack 6, not fixed yet: it fails until it is).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const OK: StatusCode = StatusCode::OK;
const UPDATE: &str = "/api/v1/users.update";
const PERMISSIONS: &str = "/api/v1/permissions.update";

/// A permission the bootstrap admin holds through the `admin` role only.
const P: &str = "view-audit-log";

/// `POST path` as `who`, meeting a password challenge with the code for `password`.
async fn post_past_gate(app: &TestApp, path: &str, body: Value, who: &Session, password: &str) -> (StatusCode, Value) {
    let code = two_factor_code(password);
    app.post_with(path, body, who, &[("x-2fa-code", &code), ("x-2fa-method", "password")]).await
}

async fn login_status(app: &TestApp, user: &str, password: &str) -> StatusCode {
    app.post("/api/v1/login", json!({"user": user, "password": password}), None).await.0
}

async fn create_role(app: &TestApp, who: &Session, name: &str) -> String {
    let (status, body) = app.post("/api/v1/roles.create", json!({"name": name}), Some(who)).await;
    assert_eq!(status, OK, "roles.create {name}: {body}");
    body["role"]["_id"].as_str().unwrap().to_string()
}

/// The admin's bypass PAT moves a permission from `admin` to a role only its owner is in,
/// so that a second admin is "strictly below" the owner; it then resets that admin's
/// password, logs in as it, and the second admin's session resets the owner's password.
#[tokio::test]
async fn attack_01_a_pat_cannot_reshape_permissions_to_reach_its_owner_through_a_second_admin() {
    let app = spawn_app().await;
    let bob_id = app.create_user("bob", "bob-password-1", &["admin"]).await;
    let pat = app.generate_pat(&app.admin, ADMIN_PASSWORD, "ci", true).await;
    // As documented: the PAT cannot touch an admin as privileged as its owner.
    let reset_bob = json!({"userId": bob_id, "data": {"password": "pwned-password-1"}});
    let (status, body) = app.post(UPDATE, reset_bob.clone(), Some(&pat)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-login-token-required")), "{body}");

    // The lever: a new role holding `P`, the owner in it, `P` taken from `admin`.
    let shadow = create_role(&app, &pat, "shadow").await;
    let _ = app
        .post("/api/v1/roles.addUserToRole", json!({"roleId": shadow, "userId": app.admin.user_id}), Some(&pat))
        .await;
    let moved = app.post(PERMISSIONS, json!({"permissions": [{"_id": P, "roles": [shadow]}]}), Some(&pat)).await;
    assert_eq!((moved.0, &moved.1["errorType"]), (BAD, &json!("error-login-token-required")), "{}", moved.1);

    let _ = app.post(UPDATE, reset_bob, Some(&pat)).await;
    assert_eq!(login_status(&app, "bob", "pwned-password-1").await, StatusCode::UNAUTHORIZED, "bob taken over");
    assert_eq!(login_status(&app, "bob", "bob-password-1").await, OK);
    assert_eq!(login_status(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await, OK);
}

/// The same lever the other way: a PAT adding every permission of its owner to `user`
/// would lift an ordinary account it created (and knows the password of) to its owner.
#[tokio::test]
async fn attack_02_a_pat_cannot_lift_an_account_it_controls_to_its_owner_through_permissions_update() {
    let app = spawn_app().await;
    let pat = app.generate_pat(&app.admin, ADMIN_PASSWORD, "ci", true).await;
    let body = json!({"username": "sock", "password": "sock-password-1", "name": "sock",
        "email": "sock@example.com", "roles": ["user"]});
    let (status, created) = app.post("/api/v1/users.create", body, Some(&pat)).await;
    assert_eq!(status, OK, "{created}");
    let (_, all) = app.get("/api/v1/permissions.listAll", Some(&app.admin)).await;
    let lifted: Vec<Value> = all["update"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut roles: Vec<Value> = p["roles"].as_array().unwrap().clone();
            if !roles.contains(&json!("user")) {
                roles.push(json!("user"));
            }
            json!({"_id": p["_id"], "roles": roles})
        })
        .collect();
    let (status, body) = app.post(PERMISSIONS, json!({"permissions": lifted}), Some(&pat)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-login-token-required")), "{body}");
    // The lifted account could otherwise reset the owner's password with its own session.
    let sock = app.login("sock", "sock-password-1").await;
    let reset_owner = json!({"userId": app.admin.user_id, "data": {"password": "owned-admin-pw-1"}});
    let (status, body) = post_past_gate(&app, UPDATE, reset_owner, &sock, "sock-password-1").await;
    assert_eq!(status, BAD, "{body}");
    assert_eq!(login_status(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await, OK);
}

/// Where a role already gives the owner a permission other admins lack, the PAT may act on
/// those admins (they are below its owner) — but it must not then drop its owner's role,
/// which would make a taken-over admin the owner's equal.
#[tokio::test]
async fn attack_03_a_pat_cannot_drop_its_owners_own_roles() {
    let app = spawn_app().await;
    let bob_id = app.create_user("bob", "bob-password-1", &["admin"]).await;
    let auditor = create_role(&app, &app.admin, "auditor").await;
    let (status, body) = app
        .post("/api/v1/roles.addUserToRole", json!({"roleId": auditor, "userId": app.admin.user_id}), Some(&app.admin))
        .await;
    assert_eq!(status, OK, "{body}");
    app.set_permission_roles(P, &[&auditor]).await;
    let pat = app.generate_pat(&app.admin, ADMIN_PASSWORD, "ci", true).await;
    // bob lacks `P`: strictly below the owner, so the PAT may reset his password.
    let reset_bob = json!({"userId": bob_id, "data": {"password": "pwned-password-1"}});
    let (status, body) = app.post(UPDATE, reset_bob, Some(&pat)).await;
    assert_eq!(status, OK, "{body}");
    let bob = app.login("bob", "pwned-password-1").await;

    let drop_own = json!({"roleId": auditor, "userId": app.admin.user_id});
    let (status, body) = app.post("/api/v1/roles.removeUserFromRole", drop_own, Some(&pat)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-login-token-required")), "{body}");
    let own_roles = json!({"userId": app.admin.user_id, "data": {"roles": ["admin", "user"]}});
    let (status, body) = app.post(UPDATE, own_roles, Some(&pat)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-login-token-required")), "{body}");

    let reset_owner = json!({"userId": app.admin.user_id, "data": {"password": "owned-admin-pw-1"}});
    let (status, body) = post_past_gate(&app, UPDATE, reset_owner, &bob, "pwned-password-1").await;
    assert_eq!(status, BAD, "{body}");
    assert_eq!(login_status(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await, OK);
}

/// A "manager" holding `access-permissions` (and little else) takes it from the `admin`
/// role: every administrator would lose it for good, since the ceiling then stops them
/// from granting it back to themselves.
#[tokio::test]
async fn attack_04_taking_a_permission_from_a_role_acts_on_its_members() {
    let app = spawn_app().await;
    let manager = create_role(&app, &app.admin, "manager").await;
    app.set_permission_roles("access-permissions", &["admin", &manager]).await;
    app.create_user("mallory", "mallory-password-1", &["user", &manager]).await;
    let mallory = app.login("mallory", "mallory-password-1").await;

    let strip = json!({"permissions": [{"_id": "access-permissions", "roles": [manager]}]});
    let (status, body) = app.post(PERMISSIONS, strip, Some(&mallory)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-action-not-allowed")), "{body}");
    assert_eq!(body["details"]["guard"], json!("privilege-ceiling"), "{body}");
    let (status, body) = app.get("/api/v1/roles.getUsersInRole?role=admin", Some(&app.admin)).await;
    assert_eq!(status, OK, "the admin still holds access-permissions: {body}");

    // Taking it from a role whose members are all below the caller is fine.
    let grant = json!({"permissions": [{"_id": "access-permissions", "roles": ["admin", manager, "guest"]}]});
    assert_eq!(app.post(PERMISSIONS, grant, Some(&app.admin)).await.0, OK);
    let take = json!({"permissions": [{"_id": "access-permissions", "roles": ["admin", manager]}]});
    let (status, body) = app.post(PERMISSIONS, take, Some(&mallory)).await;
    assert_eq!(status, OK, "{body}");
}

/// `users.create` with `verified: true` vouches for the address: only for those who may.
#[tokio::test]
async fn attack_05_only_an_administrator_creates_an_account_with_a_verified_address() {
    let app = spawn_app().await;
    let creator = create_role(&app, &app.admin, "creator").await;
    app.set_permission_roles("create-user", &["admin", &creator]).await;
    app.create_user("hr", "hr-password-1", &["user", &creator]).await;
    let hr = app.login("hr", "hr-password-1").await;
    let body = json!({"username": "sock", "password": "sock-password-1", "name": "sock",
        "email": "ceo@corp.example", "verified": true});
    let (status, body) = app.post("/api/v1/users.create", body, Some(&hr)).await;
    assert_eq!(
        (status, body),
        (BAD, meteor_error("error-action-not-allowed", "Only an administrator may mark an e-mail address verified"))
    );
    let unverified = json!({"username": "sock", "password": "sock-password-1", "name": "sock",
        "email": "ceo@corp.example"});
    assert_eq!(app.post("/api/v1/users.create", unverified, Some(&hr)).await.0, OK);
}

/// A leaked SAYMON API token turned into a `sid` session (`POST /node/api/users/session`
/// with `auth-token`) must die with the token: revoking or replacing the token is how its
/// owner (or an administrator) ends a leak, and the session is the same credential renamed.
/// Not fixed here (it needs the session to remember where it came from).
#[tokio::test]
async fn attack_06_a_session_opened_from_an_api_token_dies_with_the_token() {
    let app = spawn_app().await;
    let dave = app.create_user("dave", "dave-password-1", &["user"]).await;
    for replace in [false, true] {
        let token = app.saymon_token(&dave).await;
        let (sid, _) = app.saymon_login(json!({"auth-token": token})).await;
        assert_eq!(app.current_by_sid(&sid).await.0, OK);
        let path = format!("/node/api/users/{dave}/auth-token");
        if replace {
            app.saymon_token(&dave).await;
        } else {
            let (status, _) = app.send_text(app.as_admin(reqwest::Method::DELETE, &path)).await;
            assert_eq!(status, OK);
        }
        assert_eq!(app.current_by_token(&token).await.0, StatusCode::UNAUTHORIZED);
        let (status, body) = app.current_by_sid(&sid).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "replaced={replace}: the derived session survived: {body}");
    }
}
