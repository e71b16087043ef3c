//! permissions.listAll and permissions.update (spec §11.1–11.3, §11.7).

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};

const LIST: &str = "/api/v1/permissions.listAll";
const UPDATE: &str = "/api/v1/permissions.update";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// The document of permission `id` in a list, with its roles sorted.
fn permission<'a>(docs: &'a Value, id: &str) -> (Value, &'a Value) {
    let doc = docs.as_array().unwrap().iter().find(|p| p["_id"] == id).expect("permission listed");
    let mut roles: Vec<&str> = doc["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    roles.sort_unstable();
    (json!(roles), &doc["_updatedAt"])
}

async fn list_all(app: &TestApp) -> Value {
    let (status, body) = app.get(LIST, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["update"].clone()
}

/// How many permissions the store holds (the seeded set grows with features).
fn permission_rows(app: &TestApp) -> usize {
    let n: i64 = app.store().query_row("SELECT count(*) FROM permissions", params![], |r| r.get(0)).unwrap();
    assert!(n >= 18, "every permission of spec §11.7 is seeded");
    n as usize
}

fn eve() -> Value {
    json!({"username": "eve", "name": "Eve", "email": "eve@example.com", "password": "eve-password"})
}

#[tokio::test]
async fn permissions_list_all_returns_every_permission_with_its_roles() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.get(LIST, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["remove"], &body["success"]), (&json!([]), &json!(true)));
    let update = body["update"].as_array().unwrap();
    assert_eq!(update.len(), permission_rows(&app));
    for doc in update {
        let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["_id", "_updatedAt", "roles"]);
        assert!(doc["_updatedAt"].as_str().unwrap().ends_with('Z'));
    }
    // the defaults of spec §11.7 (tokend has no federated-external role)
    let defaults = [
        ("access-permissions", json!(["admin"])),
        ("api-bypass-rate-limit", json!(["admin", "app", "bot"])),
        ("assign-admin-role", json!(["admin"])),
        ("create-personal-access-tokens", json!(["admin", "user"])),
        ("create-user", json!(["admin"])),
        ("delete-user", json!(["admin"])),
        ("edit-other-user-info", json!(["admin"])),
        ("user-generate-access-token", json!(["admin"])),
        ("view-d-room", json!(["admin", "app", "bot", "guest", "user"])),
        ("view-full-other-user-info", json!(["admin"])),
    ];
    for (id, roles) in defaults {
        assert_eq!(permission(&body["update"], id).0, roles, "{id}");
    }
    let anonymous = app.get(LIST, None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}

#[tokio::test]
async fn permissions_list_all_returns_only_permissions_updated_since_a_date() {
    let app = spawn_app().await;
    let seeded = list_all(&app).await;
    let newest =
        seeded.as_array().unwrap().iter().map(|p| p["_updatedAt"].as_str().unwrap()).max().unwrap().to_string();
    let since = |date: &str| with_query(LIST, &[("updatedSince", date)]);
    let expected = (StatusCode::OK, json!({"update": [], "remove": [], "success": true}));
    assert_eq!(app.get(&since("2999-01-01T00:00:00.000Z"), Some(&app.admin)).await, expected);
    app.set_permission_roles("delete-user", &["admin", "bot"]).await;
    let (status, body) = app.get(&since(&newest), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&Value> = body["update"].as_array().unwrap().iter().map(|p| &p["_id"]).collect();
    assert_eq!(ids, [&json!("delete-user")]);
    // any ISO form, a bare date, or an empty value (no filter at all) lists everything
    for date in ["2000-01-01T00:00:00+02:00", "2000-01-01", ""] {
        let (_, everything) = app.get(&since(date), Some(&app.admin)).await;
        assert_eq!(everything["update"].as_array().unwrap().len(), permission_rows(&app), "{date:?}");
    }
    let invalid =
        meteor_error("error-roomId-param-invalid", "The \"updatedSince\" query parameter must be a valid date.");
    for garbage in ["yesterday", "2024-13-45T00:00:00Z", "2024-13-45"] {
        assert_eq!(app.get(&since(garbage), Some(&app.admin)).await, (BAD, invalid.clone()), "{garbage:?}");
    }
}

#[tokio::test]
async fn permissions_update_sets_exactly_the_given_roles_and_returns_every_permission() {
    let app = spawn_app().await;
    let before = list_all(&app).await;
    let body = json!({"permissions": [{"_id": "create-user", "roles": ["bot", "admin"]},
        {"_id": "view-d-room", "roles": []}]});
    let (status, body) = app.post(UPDATE, body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["permissions"].as_array().unwrap().len(), permission_rows(&app));
    let (roles, updated_at) = permission(&body["permissions"], "create-user");
    assert_eq!(roles, json!(["admin", "bot"]));
    assert_ne!(updated_at, permission(&before, "create-user").1);
    assert_eq!(permission(&body["permissions"], "view-d-room").0, json!([]));
    assert_eq!(permission(&list_all(&app).await, "create-user").0, json!(["admin", "bot"]));
}

#[tokio::test]
async fn permissions_update_refuses_non_admins_bad_bodies_unknown_ids_and_changes_nothing() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let grant = json!({"permissions": [{"_id": "create-user", "roles": ["admin", "user"]}]});
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.post(UPDATE, grant.clone(), Some(&bob)).await, forbidden);
    assert_eq!(app.post(UPDATE, grant, None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let before = list_all(&app).await;
    let invalid_body =
        json!({"success": false, "error": "Invalid body params", "errorType": "error-invalid-body-params"});
    let bad_bodies = [
        json!({}),
        json!({"permissions": "create-user"}),
        json!({"permissions": [{"_id": "create-user"}]}),
        json!({"permissions": [{"_id": "create-user", "roles": "admin"}]}),
        json!({"permissions": [{"_id": "create-user", "roles": ["admin", "admin"]}]}),
        json!({"permissions": [{"_id": "create-user", "roles": ["admin"], "x": 1}]}),
        json!({"permissions": [], "extra": true}),
    ];
    for body in bad_bodies {
        assert_eq!(app.post(UPDATE, body.clone(), Some(&app.admin)).await, (BAD, invalid_body.clone()), "{body}");
    }
    let invalid_permission =
        json!({"success": false, "error": "Invalid permission", "errorType": "error-invalid-permission"});
    let invalid_role = json!({"success": false, "error": "Invalid role", "errorType": "error-invalid-role"});
    let valid_first = json!({"_id": "create-user", "roles": ["admin", "user"]});
    let refusals = [
        (json!([valid_first, {"_id": "no-such-permission", "roles": []}]), invalid_permission),
        (json!([valid_first, {"_id": "delete-user", "roles": ["admin", "ghost"]}]), invalid_role.clone()),
        (json!([{"_id": "create-user", "roles": ["Admin"]}]), invalid_role),
    ];
    for (permissions, expected) in refusals {
        let body = json!({"permissions": permissions});
        assert_eq!(app.post(UPDATE, body, Some(&app.admin)).await, (BAD, expected));
    }
    assert_eq!(list_all(&app).await, before, "a refused update changes nothing");
    let (status, _) = app.post("/api/v1/users.create", eve(), Some(&bob)).await;
    assert_eq!(status, BAD);
}

#[tokio::test]
async fn granting_and_revoking_a_permission_takes_effect_at_once_on_existing_tokens() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let mut refused = meteor_error("error-action-not-allowed", "Adding user is not allowed");
    refused["details"] = json!({"method": "insertOrUpdateUser", "action": "Adding_user"});
    let refused = (BAD, refused);
    assert_eq!(app.post("/api/v1/users.create", eve(), Some(&bob)).await, refused);
    app.set_permission_roles("create-user", &["admin", "user"]).await;
    let (status, body) = app.post("/api/v1/users.create", eve(), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.set_permission_roles("create-user", &["admin"]).await;
    let mallory = json!({"username": "mallory", "name": "M", "email": "m@example.com", "password": "mallory-password"});
    assert_eq!(app.post("/api/v1/users.create", mallory, Some(&bob)).await, refused);
    // revoking view-d-room from `user` shuts bob out of users.list as well
    app.set_permission_roles("view-d-room", &["admin"]).await;
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(app.get("/api/v1/users.list", Some(&bob)).await, forbidden);
    assert_eq!(app.user_rows(), 3);
}
