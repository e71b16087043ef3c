//! users.create, users.update, users.setActiveStatus, users.delete (spec §9.2, §9.5–9.7).

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE: &str = "/api/v1/users.create";
const UPDATE: &str = "/api/v1/users.update";
const SET_ACTIVE: &str = "/api/v1/users.setActiveStatus";
const DELETE: &str = "/api/v1/users.delete";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// A valid users.create body for `username`, with `key` set to `value` (or added).
fn new_user_with(username: &str, key: &str, value: Value) -> Value {
    let mut body = json!({"username": username, "name": "Some Name",
        "email": format!("{username}@example.com"), "password": "long-enough-pw"});
    body[key] = value;
    body
}

fn new_user(username: &str) -> Value {
    new_user_with(username, "name", json!("Some Name"))
}

fn update(user_id: &str, data: Value) -> Value {
    json!({"userId": user_id, "data": data})
}

/// A refusal of Rocket.Chat's `validateUserData`/`validateUserEditing`, with its details.
fn action_not_allowed(reason: &str, action: &str) -> Value {
    save_user_error("error-action-not-allowed", reason, json!({"action": action}))
}

/// A `insertOrUpdateUser` validation error: `details` holds the method and `extra`.
fn save_user_error(code: &str, reason: &str, extra: Value) -> Value {
    let mut body = meteor_error(code, reason);
    let mut details = json!({"method": "insertOrUpdateUser"});
    details.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body["details"] = details;
    body
}

fn last_admin() -> Value {
    meteor_error("error-admin-required", "You need to have at least one admin")
}

fn login_refused() -> Value {
    json!({"success":false,"error":"Unauthorized","status":"error","message":"Unauthorized"})
}

#[tokio::test]
async fn users_create_returns_the_new_user_without_secrets_and_the_user_can_log_in() {
    let app = spawn_app().await;
    let body = json!({"username":"bob","name":"Bob","email":"bob@example.com",
        "password":"bob-password","nickname":"bobby","roles":[]});
    let (status, body) = app.post(CREATE, body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = &body["user"];
    let id = user["_id"].as_str().unwrap();
    assert_eq!(id.len(), 17);
    let expected = json!({"_id": id, "createdAt": user["createdAt"], "username": "bob",
        "emails": [{"address":"bob@example.com","verified":false}], "type": "user",
        "status": "offline", "active": true, "_updatedAt": user["_updatedAt"],
        "roles": ["user"], "name": "Bob", "nickname": "bobby"});
    assert_eq!(body, json!({"user": expected, "success": true}));
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    let text = body.to_string();
    assert!(!text.contains("$2") && !text.contains("services") && !text.contains("password"));
    assert_eq!(app.login("bob", "bob-password").await.user_id, id);
}

#[tokio::test]
async fn users_create_validates_its_body_like_rocket_chat() {
    let app = spawn_app().await;
    let admin = Some(&app.admin);
    let cases = [
        (json!({}), "must have required property 'email'"),
        (json!({"email": "a@example.com"}), "must have required property 'name'"),
        (new_user_with("eve", "isAdmin", json!(true)), "must NOT have additional properties"),
    ];
    for (body, message) in cases {
        let expected = (BAD, meteor_error("invalid-params", message));
        assert_eq!(app.post(CREATE, body, admin).await, expected);
    }
    let (status, body) = app.post(CREATE, new_user_with("eve", "active", json!("true")), admin).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("invalid-params")), "{body}");
    for (field, label) in [("name", "Name"), ("username", "Username"), ("password", "Password")] {
        let reason = format!("The field {label} is required");
        let expected = (BAD, save_user_error("error-the-field-is-required", &reason, json!({"field": label})));
        assert_eq!(app.post(CREATE, new_user_with("eve", field, json!("")), admin).await, expected);
    }
    assert_eq!(app.user_rows(), 1);
}

#[tokio::test]
async fn users_create_needs_login_create_user_known_roles_and_assign_admin_role_for_admins() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let refused = (BAD, action_not_allowed("Adding user is not allowed", "Adding_user"));
    assert_eq!(app.post(CREATE, new_user("eve"), Some(&bob)).await, refused);
    let anonymous = app.post(CREATE, new_user("eve"), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let body = new_user_with("eve", "roles", json!(["user", "no-such-role"]));
    let refused = (BAD, action_not_allowed("The field Roles consist invalid role id", "Assign_role"));
    assert_eq!(app.post(CREATE, body, Some(&app.admin)).await, refused);
    app.set_permission_roles("create-user", &["admin", "user"]).await;
    let body = new_user_with("eve", "roles", json!(["admin"]));
    let refused = (BAD, action_not_allowed("Assigning admin is not allowed", "Assign_admin"));
    assert_eq!(app.post(CREATE, body, Some(&bob)).await, refused);
    assert_eq!(app.user_rows(), 2);
    let (status, body) = app.post(CREATE, new_user("eve"), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // bob lacks view-full-other-user-info, so he gets the limited projection
    assert_eq!(body["user"]["username"], "eve");
    assert!(body["user"].get("roles").is_none() && body["user"].get("emails").is_none());
}

#[tokio::test]
async fn users_create_refuses_bad_usernames_names_and_emails() {
    let app = spawn_app().await;
    let admin = Some(&app.admin);
    // Cyrillic а (U+0430), SQL, NUL: none is a valid username, none is stored.
    for name in ["bob smith", "\u{430}dmin", "admin' --", "' OR '1'='1", "%", "bob\u{0}admin"] {
        let reason = format!("{name} is not a valid username");
        let details = json!({"input": name, "field": "Username"});
        let expected = (BAD, save_user_error("error-input-is-not-a-valid-field", &reason, details));
        assert_eq!(app.post(CREATE, new_user(name), admin).await, expected);
    }
    let bad_name = json!({"success":false,"error":"Name contains invalid characters"});
    let body = new_user_with("eve", "name", json!("<script>"));
    assert_eq!(app.post(CREATE, body, admin).await, (BAD, bad_name));
    let body = new_user_with("eve", "email", json!("x"));
    let expected = (BAD, save_user_error("error-invalid-email", "Invalid email x", json!({"email": "x"})));
    assert_eq!(app.post(CREATE, body, admin).await, expected);
    assert_eq!(app.user_rows(), 1);
}

#[tokio::test]
async fn users_create_refuses_usernames_and_emails_already_in_use_whatever_their_case() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let taken = |reason: &str, field: &str| save_user_error("error-field-unavailable", reason, json!({"field": field}));
    let expected = (BAD, taken("BOB is already in use :(", "BOB"));
    assert_eq!(app.post(CREATE, new_user("BOB"), Some(&app.admin)).await, expected);
    let body = new_user_with("carol", "email", json!("Bob@Example.COM"));
    let reason = "Bob@Example.COM is already in use :(";
    let expected = (BAD, taken(reason, "Bob@Example.COM"));
    assert_eq!(app.post(CREATE, body, Some(&app.admin)).await, expected);
    assert_eq!(app.user_rows(), 2);
}

#[tokio::test]
async fn users_create_enforces_the_password_policy() {
    let app = spawn_app().await;
    let policy = |error: &str, message: &str| {
        let reason = "The password provided does not meet the server's password policy.";
        let mut body = meteor_error("error-password-policy-not-met", reason);
        body["details"] = json!([{"error": error, "message": message}]);
        body
    };
    let short = policy(
        "error-password-policy-not-met-minLength",
        "The password does not meet the minimum length password policy.",
    );
    let body = new_user_with("eve", "password", json!("seven77"));
    assert_eq!(app.post(CREATE, body, Some(&app.admin)).await, (BAD, short));
    let long = policy(
        "error-password-policy-not-met-maxLength",
        "The password does not meet the maximum length password policy.",
    );
    let body = new_user_with("eve", "password", json!("x".repeat(257)));
    assert_eq!(app.post(CREATE, body, Some(&app.admin)).await, (BAD, long));
    assert_eq!(app.user_rows(), 1);
    let (status, body) = app.post(CREATE, new_user_with("eve", "password", json!("eight888")), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn users_create_stores_sql_looking_input_literally() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let (name, email, password) = ("Robert'); DROP TABLE users;--", "o'neil+x@example.com", "x' OR '1'='1");
    let body = json!({"username": "b_b", "name": name, "email": email, "password": password});
    let (status, body) = app.post(CREATE, body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["name"], name);
    assert_eq!(body["user"]["emails"][0]["address"], email);
    assert_eq!(app.user_rows(), 3);
    app.login("b_b", password).await;
    let wrong = json!({"user": "b_b", "password": "' OR '1'='1"});
    assert_eq!(app.post("/api/v1/login", wrong, None).await, (StatusCode::UNAUTHORIZED, login_refused()));
}

#[tokio::test]
async fn a_user_can_change_their_own_name_username_email_and_password() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let data = json!({"name":"Alice B","username":"alice.b","email":"ab@example.org","password":"new-password-1"});
    let (status, body) = app.post(UPDATE, update(&alice.user_id, data), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = &body["user"];
    assert_eq!(
        (&user["_id"], &user["username"], &user["name"]),
        (&json!(alice.user_id), &json!("alice.b"), &json!("Alice B"))
    );
    assert_eq!(user["emails"], json!([{"address":"ab@example.org","verified":false}]));
    assert_eq!(body["success"], true);
    assert!(!app.authenticates(&alice).await, "a password change revokes login tokens");
    for (user, password) in [("alice", "alice-password"), ("alice.b", "alice-password")] {
        let attempt = app.post("/api/v1/login", json!({"user": user, "password": password}), None).await;
        assert_eq!(attempt, (StatusCode::UNAUTHORIZED, login_refused()));
    }
    app.login("alice.b", "new-password-1").await;
}

#[tokio::test]
async fn changing_an_email_resets_its_verification() {
    let app = spawn_app().await;
    let body = new_user_with("carol", "verified", json!(true));
    let (_, created) = app.post(CREATE, body, Some(&app.admin)).await;
    let id = created["user"]["_id"].as_str().unwrap().to_string();
    assert_eq!(created["user"]["emails"][0]["verified"], true);
    let steps = [
        (json!({"email": "carol2@example.com"}), false),
        (json!({"verified": true}), true),
        (json!({"email": "carol2@example.com", "name": "Carol"}), true), // same address
    ];
    for (data, verified) in steps {
        let (status, body) = app.post(UPDATE, update(&id, data), Some(&app.admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let expected = json!([{"address": "carol2@example.com", "verified": verified}]);
        assert_eq!(body["user"]["emails"], expected);
    }
}

#[tokio::test]
async fn a_plain_user_can_neither_edit_others_nor_give_themselves_roles() {
    let app = spawn_app().await;
    let alice_id = app.create_user("alice", "alice-password", &["user"]).await;
    let bob = app.user_session("bob").await;
    let attempts = [
        (update(&alice_id, json!({"name": "Hacked"})), "Editing user is not allowed", "Editing_user"),
        (update(&bob.user_id, json!({"roles": ["admin"]})), "Assign roles is not allowed", "Assign_role"),
        (update(&bob.user_id, json!({"roles": ["user", "bot"]})), "Assign roles is not allowed", "Assign_role"),
        (update(&bob.user_id, json!({"active": false})), "Edit user status is not allowed", "Edit_user_status"),
    ];
    for (body, reason, action) in attempts {
        assert_eq!(app.post(UPDATE, body, Some(&bob)).await, (BAD, action_not_allowed(reason, action)));
    }
    let (_, info) = app.get(&format!("/api/v1/users.info?userId={}", bob.user_id), Some(&app.admin)).await;
    assert_eq!(info["user"]["roles"], json!(["user"]));
    let (_, info) = app.get(&format!("/api/v1/users.info?userId={alice_id}"), Some(&app.admin)).await;
    assert_eq!(info["user"]["name"], "alice");
    // bob's token carries no new power
    let delete = app.post(DELETE, json!({"userId": alice_id}), Some(&bob)).await;
    assert_eq!(delete, (StatusCode::FORBIDDEN, permission_required()));
    let anonymous = app.post(UPDATE, update(&alice_id, json!({"name": "X"})), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}

#[tokio::test]
async fn an_admin_can_change_roles_but_never_remove_the_last_admin() {
    let app = spawn_app().await;
    let bob_id = app.create_user("bob", "bob-password", &["user"]).await;
    let (status, body) = app.post(UPDATE, update(&bob_id, json!({"roles": ["user", "bot"]})), Some(&app.admin)).await;
    assert_eq!((status, &body["user"]["roles"]), (StatusCode::OK, &json!(["bot", "user"])), "{body}");
    let demote_self = update(&app.admin.user_id, json!({"roles": ["user"]}));
    assert_eq!(app.post(UPDATE, demote_self.clone(), Some(&app.admin)).await, (BAD, last_admin()));
    let (_, me) = app.get("/api/v1/me", Some(&app.admin)).await;
    assert_eq!(me["roles"], json!(["admin", "user"]));
    // with a second admin the first may step down
    let (status, _) = app.post(UPDATE, update(&bob_id, json!({"roles": ["admin"]})), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(UPDATE, demote_self, Some(&app.admin)).await;
    assert_eq!((status, &body["user"]["roles"]), (StatusCode::OK, &json!(["user"])), "{body}");
}

#[tokio::test]
async fn users_update_refuses_oversized_fields_taken_usernames_and_unknown_users() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password", &["user"]).await;
    let bob = app.user_session("bob").await;
    let me = |data: Value| update(&bob.user_id, data);
    let refusals = [
        (json!({"nickname": "n".repeat(121)}), "error-nickname-size-exceeded", "Nickname size exceeds 120 characters"),
        (json!({"bio": "b".repeat(261)}), "error-bio-size-exceeded", "Bio size exceeds 260 characters"),
    ];
    for (data, code, reason) in refusals {
        assert_eq!(app.post(UPDATE, me(data), Some(&bob)).await, (BAD, meteor_error(code, reason)));
    }
    let taken = save_user_error("error-field-unavailable", "ALICE is already in use :(", json!({"field": "ALICE"}));
    assert_eq!(app.post(UPDATE, me(json!({"username": "ALICE"})), Some(&bob)).await, (BAD, taken));
    let details = json!({"input": "bob smith", "field": "Username"});
    let invalid = save_user_error("error-input-is-not-a-valid-field", "bob smith is not a valid username", details);
    assert_eq!(app.post(UPDATE, me(json!({"username": "bob smith"})), Some(&bob)).await, (BAD, invalid));
    let bad_name = json!({"success": false, "error": "Name contains invalid characters"});
    assert_eq!(app.post(UPDATE, me(json!({"name": "a/b"})), Some(&bob)).await, (BAD, bad_name));
    let (status, body) = app.post(UPDATE, me(json!({"password": "short"})), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-password-policy-not-met")));
    assert!(app.authenticates(&bob).await, "a refused change revokes nothing");
    let (status, body) =
        app.post(UPDATE, me(json!({"nickname": "n".repeat(120), "bio": "b".repeat(260)})), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unknown = app.post(UPDATE, update("NoSuchUserId12345", json!({"name": "X"})), Some(&app.admin)).await;
    assert_eq!(unknown, (BAD, json!({"success": false, "error": "User not found"})));
}

#[tokio::test]
async fn a_deactivated_user_loses_their_tokens_and_cannot_log_in_until_reactivated() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let set = |active: bool| json!({"userId": bob.user_id, "activeStatus": active});
    let expected = json!({"user": {"_id": bob.user_id, "active": false}, "success": true});
    assert_eq!(app.post(SET_ACTIVE, set(false), Some(&app.admin)).await, (StatusCode::OK, expected));
    assert!(!app.authenticates(&bob).await);
    let login = json!({"user": "bob", "password": "bob-password"});
    let not_activated = json!({"success": false, "error": "error-user-is-not-activated",
        "status": "error", "message": "User is not activated", "details": {"function": "Accounts.validateLoginAttempt"}});
    assert_eq!(app.post("/api/v1/login", login, None).await, (StatusCode::UNAUTHORIZED, not_activated));
    let expected = json!({"user": {"_id": bob.user_id, "active": true}, "success": true});
    assert_eq!(app.post(SET_ACTIVE, set(true), Some(&app.admin)).await, (StatusCode::OK, expected));
    assert!(!app.authenticates(&bob).await, "reactivation restores no token");
    app.login("bob", "bob-password").await;
}

#[tokio::test]
async fn only_admins_change_active_status_and_the_last_admin_stays_active() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let set = |id: &str| json!({"userId": id, "activeStatus": false});
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.post(SET_ACTIVE, set(&app.admin.user_id), Some(&bob)).await, forbidden);
    assert_eq!(app.post(SET_ACTIVE, set(&bob.user_id), Some(&bob)).await, forbidden);
    let anonymous = app.post(SET_ACTIVE, set(&bob.user_id), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    assert_eq!(app.post(SET_ACTIVE, set(&app.admin.user_id), Some(&app.admin)).await, (BAD, last_admin()));
    let (status, body) = app.post(SET_ACTIVE, set("NoSuchUserId12345"), Some(&app.admin)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-invalid-user")), "{body}");
    assert!(app.authenticates(&app.admin).await && app.authenticates(&bob).await);
}

#[tokio::test]
async fn users_delete_removes_a_user_by_id_or_username_with_their_tokens() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let carol = app.user_session("carol").await;
    let done = (StatusCode::OK, json!({"success": true}));
    assert_eq!(app.post(DELETE, json!({"userId": bob.user_id}), Some(&app.admin)).await, done);
    assert_eq!(app.post(DELETE, json!({"username": "CAROL"}), Some(&app.admin)).await, done);
    for (session, name) in [(&bob, "bob"), (&carol, "carol")] {
        assert!(!app.authenticates(session).await);
        assert_eq!(app.login_token_rows(&session.user_id), 0);
        let login = json!({"user": name, "password": format!("{name}-password")});
        assert_eq!(app.post("/api/v1/login", login, None).await, (StatusCode::UNAUTHORIZED, login_refused()));
    }
    assert_eq!(app.user_rows(), 1);
}

#[tokio::test]
async fn users_delete_refuses_non_admins_bad_targets_and_the_last_admin() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let carol_id = app.create_user("carol", "carol-password", &["user"]).await;
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.post(DELETE, json!({"userId": carol_id}), Some(&bob)).await, forbidden);
    let anonymous = app.post(DELETE, json!({"userId": carol_id}), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let no_match = meteor_error(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    );
    let refusals = [
        (
            json!({}),
            meteor_error(
                "error-user-param-not-provided",
                "The required \"userId\" or \"username\" param was not provided",
            ),
        ),
        (json!({"username": "nobody"}), no_match.clone()),
        (json!({"userId": bob.user_id, "username": "carol"}), no_match),
        (json!({"userId": app.admin.user_id}), last_admin()),
    ];
    for (body, expected) in refusals {
        assert_eq!(app.post(DELETE, body, Some(&app.admin)).await, (BAD, expected));
    }
    assert_eq!(app.user_rows(), 3);
    assert!(app.authenticates(&bob).await && app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn users_update_asks_an_established_account_for_its_password_as_second_factor() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    // past the fresh-account grace of spec §10.4
    app.store().execute("UPDATE users SET created_at = 0 WHERE id = ?1", params![&bob.user_id]).unwrap();
    let change = update(&bob.user_id, json!({"password": "taken-over-pw"}));
    let challenge = |code: &str, reason: &str| {
        let mut body = meteor_error(code, reason);
        body["details"] = json!({"method": "password", "codeGenerated": false, "availableMethods": []});
        (BAD, body)
    };
    assert_eq!(app.post(UPDATE, change.clone(), Some(&bob)).await, challenge("totp-required", "TOTP Required"));
    let with_code = |password: &str| {
        let code = hex::encode(Sha256::digest(password.as_bytes()));
        let req = app.client.post(app.url(UPDATE)).header("X-User-Id", &bob.user_id);
        req.header("X-Auth-Token", &bob.token).header("x-2fa-code", code).json(&change)
    };
    assert_eq!(app.send(with_code("wrong-password")).await, challenge("totp-invalid", "TOTP Invalid"));
    app.login("bob", "bob-password").await;
    let (status, body) = app.send(with_code("bob-password")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.login("bob", "taken-over-pw").await;
}
