//! roles.list, roles.create, roles.addUserToRole, roles.removeUserFromRole,
//! roles.getUsersInRole (spec §11.4–11.6).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE: &str = "/api/v1/roles.create";
const ADD: &str = "/api/v1/roles.addUserToRole";
const REMOVE: &str = "/api/v1/roles.removeUserFromRole";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

fn role_doc(id: &str, description: &str) -> Value {
    json!({"_id": id, "name": id, "description": description, "protected": true, "scope": "Users"})
}

fn no_access() -> Value {
    meteor_error("error-action-not-allowed", "Accessing permissions is not allowed")
}

async fn roles_of(app: &TestApp, user_id: &str) -> Value {
    let (_, info) = app.get(&format!("/api/v1/users.info?userId={user_id}"), Some(&app.admin)).await;
    info["user"]["roles"].clone()
}

#[tokio::test]
async fn roles_list_shows_every_role_with_its_public_fields() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.get("/api/v1/roles.list", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = [("admin", "Admin"), ("user", ""), ("bot", "Bot"), ("app", "App"), ("guest", "Guest")];
    let roles: Vec<Value> = expected.iter().map(|(id, d)| role_doc(id, d)).collect();
    assert_eq!(body, json!({"roles": roles, "success": true}));
    let anonymous = app.get("/api/v1/roles.list", None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}

#[tokio::test]
async fn roles_create_adds_a_role_and_refuses_duplicates_bad_bodies_and_non_admins() {
    let app = spawn_app().await;
    let admin = Some(&app.admin);
    let body = json!({"name": "auditor", "description": "Reads logs", "mandatory2fa": true});
    let (status, created) = app.post(CREATE, body, admin).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["role"]["_id"].as_str().unwrap().to_string();
    let expected = json!({"_id": id, "name": "auditor", "description": "Reads logs",
        "mandatory2fa": true, "protected": false, "scope": "Users"});
    assert_eq!(created, json!({"role": expected, "success": true}));
    let (_, listed) = app.get("/api/v1/roles.list", admin).await;
    assert_eq!(listed["roles"].as_array().unwrap().last(), Some(&expected));
    let duplicate = meteor_error("error-duplicate-role-names-not-allowed", "Role name already exists");
    for name in ["auditor", "admin"] {
        assert_eq!(app.post(CREATE, json!({"name": name}), admin).await, (BAD, duplicate.clone()));
    }
    let invalid = meteor_error("error-invalid-role-properties", "The role properties are invalid.");
    let bodies = [
        json!({}),
        json!({"name": ""}),
        json!({"name": 5}),
        json!({"name": "x", "scope": "Rooms"}),
        json!({"name": "x", "extra": 1}),
    ];
    for body in bodies {
        assert_eq!(app.post(CREATE, body.clone(), admin).await, (BAD, invalid.clone()), "{body}");
    }
    let bob = app.user_session("bob").await;
    assert_eq!(app.post(CREATE, json!({"name": "mine"}), Some(&bob)).await, (BAD, no_access()));
    let anonymous = app.post(CREATE, json!({"name": "mine"}), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let (_, listed) = app.get("/api/v1/roles.list", admin).await;
    assert_eq!(listed["roles"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn roles_add_user_to_role_accepts_a_username_or_user_id_and_a_role_id_or_name() {
    let app = spawn_app().await;
    let bob_id = app.create_user("bob", "bob-password", &["user"]).await;
    let (_, auditor) = app.post(CREATE, json!({"name": "auditor"}), Some(&app.admin)).await;
    let auditor = auditor["role"].clone();
    let body = json!({"roleId": auditor["_id"], "username": "bob"});
    assert_eq!(
        app.post(ADD, body, Some(&app.admin)).await,
        (StatusCode::OK, json!({"role": auditor, "success": true}))
    );
    let body = json!({"roleName": "bot", "userId": bob_id});
    assert_eq!(
        app.post(ADD, body, Some(&app.admin)).await,
        (StatusCode::OK, json!({"role": role_doc("bot", "Bot"), "success": true}))
    );
    let mut expected = vec![auditor["_id"].as_str().unwrap(), "bot", "user"];
    expected.sort_unstable();
    assert_eq!(roles_of(&app, &bob_id).await, json!(expected));
    let already = meteor_error("error-user-already-in-role", "User already in role");
    let body = json!({"roleId": "bot", "username": "bob"});
    assert_eq!(app.post(ADD, body, Some(&app.admin)).await, (BAD, already));
}

#[tokio::test]
async fn roles_add_user_to_role_refuses_bad_roles_users_and_callers() {
    let app = spawn_app().await;
    let carol_id = app.create_user("carol", "carol-password", &["user"]).await;
    let bob = app.user_session("bob").await;
    let admin = Some(&app.admin);
    let empty = json!({"success": false, "error": "error-invalid-role-properties"});
    assert_eq!(app.post(ADD, json!({"roleId": "", "username": "carol"}), admin).await, (BAD, empty));
    let missing = json!({"success": false, "error": "error-role-not-found", "errorType": "Role not found"});
    assert_eq!(app.post(ADD, json!({"roleId": "nope", "username": "carol"}), admin).await, (BAD, missing));
    let (status, body) = app.post(ADD, json!({"roleId": "bot", "username": "nobody"}), admin).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-invalid-user")), "{body}");
    // a room-scoped role is never granted server-wide (tokend has no rooms)
    let (_, room_role) = app.post(CREATE, json!({"name": "room-mod", "scope": "Subscriptions"}), admin).await;
    let body = json!({"roleId": room_role["role"]["_id"], "username": "carol"});
    let not_in_room = meteor_error("error-invalid-user", "User is not part of given room");
    assert_eq!(app.post(ADD, body, admin).await, (BAD, not_in_room));
    for role in ["bot", "admin"] {
        let body = json!({"roleId": role, "username": "bob"});
        assert_eq!(app.post(ADD, body, Some(&bob)).await, (BAD, no_access()));
    }
    let anonymous = app.post(ADD, json!({"roleId": "bot", "username": "bob"}), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    // access-permissions without assign-admin-role: any role but admin
    app.set_permission_roles("access-permissions", &["admin", "user"]).await;
    let refused = meteor_error("error-action-not-allowed", "Assigning admin is not allowed");
    assert_eq!(app.post(ADD, json!({"roleId": "admin", "username": "bob"}), Some(&bob)).await, (BAD, refused));
    // The privilege ceiling: `bot` holds api-bypass-rate-limit, which bob lacks; `guest`
    // holds nothing bob lacks.
    let (status, body) = app.post(ADD, json!({"roleId": "bot", "username": "carol"}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-action-not-allowed")), "{body}");
    assert_eq!(body["details"]["permission"], "api-bypass-rate-limit", "{body}");
    let (status, _) = app.post(ADD, json!({"roleId": "guest", "username": "carol"}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles_of(&app, &bob.user_id).await, json!(["user"]));
    assert_eq!(roles_of(&app, &carol_id).await, json!(["guest", "user"]));
}

#[tokio::test]
async fn a_role_added_to_a_user_takes_effect_on_their_existing_token() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let eve = json!({"username": "eve", "name": "Eve", "email": "eve@example.com", "password": "eve-password"});
    let (status, _) = app.post("/api/v1/users.create", eve.clone(), Some(&bob)).await;
    assert_eq!(status, BAD);
    let (status, _) = app.post(ADD, json!({"roleId": "admin", "userId": bob.user_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post("/api/v1/users.create", eve, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, listed) = app.get("/api/v1/users.list", Some(&bob)).await;
    let eve = &listed["users"][2];
    assert_eq!(
        (&eve["username"], &eve["roles"]),
        (&json!("eve"), &json!(["user"])),
        "bob now sees the privileged projection"
    );
}

#[tokio::test]
async fn roles_remove_user_from_role_refuses_bad_input_non_admins_and_the_last_admin() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let admin = Some(&app.admin);
    let refusals = [
        (json!({"roleId": "", "username": "bob"}), json!({"success": false, "error": "error-invalid-role-properties"})),
        (
            json!({"roleId": "user", "username": "nobody"}),
            meteor_error("error-invalid-user", "There is no user with this username"),
        ),
        (
            json!({"roleId": "nope", "username": "bob"}),
            meteor_error("error-invalid-roleId", "This role does not exist"),
        ),
        (
            json!({"roleId": "bot", "username": "bob"}),
            meteor_error("error-user-not-in-role", "User is not in this role"),
        ),
        (
            json!({"roleId": "admin", "username": "admin"}),
            meteor_error("error-admin-required", "You need to have at least one admin"),
        ),
    ];
    for (body, expected) in refusals {
        assert_eq!(app.post(REMOVE, body, admin).await, (BAD, expected));
    }
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.post(REMOVE, json!({"roleId": "user", "username": "bob"}), Some(&bob)).await, forbidden);
    let anonymous = app.post(REMOVE, json!({"roleId": "user", "username": "bob"}), None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    assert_eq!(roles_of(&app, &bob.user_id).await, json!(["user"]));
    let removed = app.post(REMOVE, json!({"roleId": "user", "userId": bob.user_id}), admin).await;
    assert_eq!(removed, (StatusCode::OK, json!({"role": role_doc("user", ""), "success": true})));
    assert_eq!(roles_of(&app, &bob.user_id).await, json!([]));
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_rights_on_their_existing_token_at_once() {
    let app = spawn_app().await;
    app.create_user("second", "second-password", &["admin", "user"]).await;
    let second = app.login("second", "second-password").await;
    let (status, _) = app.get("/api/v1/roles.getUsersInRole?role=admin", Some(&second)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(REMOVE, json!({"roleId": "admin", "username": "second"}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.get("/api/v1/roles.getUsersInRole?role=admin", Some(&second)).await, forbidden);
    let delete = app.post("/api/v1/users.delete", json!({"userId": app.admin.user_id}), Some(&second)).await;
    assert_eq!(delete, forbidden);
    let body = json!({"roleId": "admin", "username": "second"});
    assert_eq!(app.post(ADD, body, Some(&second)).await, (BAD, no_access()));
    assert!(app.authenticates(&second).await, "still logged in, as an ordinary user");
}

#[tokio::test]
async fn roles_get_users_in_role_lists_the_members_of_a_role() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.get("/api/v1/roles.getUsersInRole?role=admin", Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin_doc = &body["users"][0];
    let expected = json!({"_id": app.admin.user_id, "name": admin_doc["name"], "username": "admin",
        "createdAt": admin_doc["createdAt"], "_updatedAt": admin_doc["_updatedAt"]});
    let mut admin_doc = admin_doc.clone();
    admin_doc.as_object_mut().unwrap().remove("emails");
    assert_eq!((admin_doc, &body["total"], &body["success"]), (expected, &json!(1), &json!(true)));
    let (_, users) = app.get("/api/v1/roles.getUsersInRole?role=user&count=1&offset=1", Some(&app.admin)).await;
    assert_eq!((&users["users"][0]["username"], &users["total"]), (&json!("bob"), &json!(2)));
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    let missing = meteor_error("error-param-not-provided", "Query param \"role\" is required");
    assert_eq!(app.get("/api/v1/roles.getUsersInRole", Some(&app.admin)).await, (BAD, missing));
    let unknown = json!({"success": false, "error": "[error-invalid-roleId]", "errorType": "error-invalid-roleId"});
    assert_eq!(app.get("/api/v1/roles.getUsersInRole?role=nope", Some(&app.admin)).await, (BAD, unknown));
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.get("/api/v1/roles.getUsersInRole?role=admin", Some(&bob)).await, forbidden);
    let anonymous = app.get("/api/v1/roles.getUsersInRole?role=admin", None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}
