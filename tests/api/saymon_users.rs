//! SAYMON users (spec/saymon.md §4, §5): reading with and without `manage-users`, creating,
//! patching, blocking, deleting and passwords, on tokend's one user store (DESIGN decision 9),
//! plus odd path ids (spec/security.md §6 E) and escalation (§6 H).

use crate::helpers::{TestApp, saymon_error, saymon_unauthorized, spawn_app};
use crate::params;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CURRENT: &str = "/node/api/users/current";
const PASSWORD: &str = "some-password";

fn user_path(id: &str) -> String {
    format!("/node/api/users/{id}")
}

/// `method path` as `login` (password `PASSWORD`) over Basic.
fn as_user(app: &TestApp, login: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.basic(method, path, login, PASSWORD)
}

fn forbidden() -> (StatusCode, Value) {
    (StatusCode::FORBIDDEN, saymon_error("Forbidden", "Permission \"manage-users\" is required"))
}

fn bad_request(message: &str) -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, saymon_error("BadRequest", message))
}

fn sorted_keys(doc: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn permissions(doc: &Value) -> Vec<&str> {
    let mut list: Vec<&str> = doc["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    list.sort_unstable();
    list
}

/// A new user as the admin, with `PASSWORD`; returns the created user object.
async fn create(app: &TestApp, mut body: Value) -> Value {
    body["password"] = json!(PASSWORD);
    let (status, doc) = app.send(app.as_admin(Method::POST, "/node/api/users").json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

async fn patch(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    app.send(app.as_admin(Method::PATCH, &user_path(id)).json(&body)).await
}

#[tokio::test]
async fn the_current_user_has_the_documented_shape() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob", "email": "bob@example.com"})).await;
    let (status, doc) = app.send(as_user(&app, "bob", Method::GET, CURRENT)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc, bob);
    let keys = "authenticationToken contacts displayName email eventFilter group id login permissions status";
    assert_eq!(sorted_keys(&doc), keys.split(' ').collect::<Vec<_>>());
    assert_eq!((doc["login"].as_str(), doc["email"].as_str()), (Some("bob"), Some("bob@example.com")));
    assert_eq!((&doc["group"], &doc["authenticationToken"], &doc["status"]), (&Value::Null, &Value::Null, &json!(2)));
    assert_eq!((&doc["eventFilter"], &doc["contacts"]), (&json!([]), &json!([])));
    assert_eq!(doc["id"].as_str().unwrap().len(), 17);
}

#[tokio::test]
async fn listing_users_gives_full_objects_to_user_managers_and_only_id_and_display_name_to_others() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let (status, all) = app.send(app.as_admin(Method::GET, "/node/api/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(all.as_array().unwrap().contains(&bob), "{all}");
    let (status, limited) = app.send(as_user(&app, "bob", Method::GET, "/node/api/users")).await;
    assert_eq!(status, StatusCode::OK);
    let admin_name =
        &all.as_array().unwrap().iter().find(|u| u["id"] == app.admin.user_id.as_str()).unwrap()["displayName"];
    let expected = [json!({"id": app.admin.user_id, "login": admin_name}), json!({"id": bob["id"], "login": "bo*"})];
    let mut limited = limited.as_array().unwrap().clone();
    limited.sort_by_key(|u| u["id"] != app.admin.user_id.as_str());
    assert_eq!(limited, expected);
}

#[tokio::test]
async fn getting_a_user_by_id_follows_the_same_rule_but_ones_own_id_is_full() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob", "displayName": "Bobby"})).await;
    let bob_id = bob["id"].as_str().unwrap();
    assert_eq!(app.send(app.as_admin(Method::GET, &user_path(bob_id))).await, (StatusCode::OK, bob.clone()));
    assert_eq!(app.send(as_user(&app, "bob", Method::GET, &user_path(bob_id))).await, (StatusCode::OK, bob.clone()));
    let (status, admin) = app.send(as_user(&app, "bob", Method::GET, &user_path(&app.admin.user_id))).await;
    let (_, full) = app.send(app.as_admin(Method::GET, CURRENT)).await;
    assert_eq!((status, admin), (StatusCode::OK, json!({"id": app.admin.user_id, "login": full["displayName"]})));
}

#[tokio::test]
async fn an_unknown_user_id_is_not_found_on_every_route_and_an_unknown_route_is_resource_not_found() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let id = "aaaaaaaaaaaaaaaaa";
    let not_found = (StatusCode::NOT_FOUND, saymon_error("NotFound", &format!("User {id} not found")));
    let routes = [
        (Method::GET, user_path(id), json!(null)),
        (Method::PATCH, user_path(id), json!({"displayName": "X"})),
        (Method::DELETE, user_path(id), json!(null)),
        (Method::POST, format!("{}/auth-token", user_path(id)), json!(null)),
        (Method::DELETE, format!("{}/auth-token", user_path(id)), json!(null)),
        (Method::PUT, format!("{}/password", user_path(id)), json!({"newPassword": "new-password-1"})),
    ];
    for (method, path, body) in routes {
        let req = app.saymon(method.clone(), &format!("{path}?api-token={token}"));
        let req = if body.is_null() { req } else { req.json(&body) };
        assert_eq!(app.send(req).await, not_found, "{method} {path}");
    }
    let no_route = saymon_error("ResourceNotFound", "/node/api/objects does not exist");
    assert_eq!(app.send(app.saymon(Method::GET, "/node/api/objects")).await, (StatusCode::NOT_FOUND, no_route));
}

#[tokio::test]
async fn odd_path_ids_are_refused_with_400_or_404_and_mint_nothing() {
    let app = spawn_app().await;
    let token = app.saymon_token(&app.admin.user_id).await;
    let admin = app.admin.user_id.clone();
    let odd = "..%2F..%2Fadmin %2e%2e * -1 0 999999999999999999999 %7B%22%24ne%22%3Anull%7D admin";
    let mut ids: Vec<String> = odd.split(' ').map(str::to_string).collect();
    ids.extend(["%2F", "%00", ";x=1"].map(|suffix| format!("{admin}{suffix}")).into_iter().chain([String::new()]));
    for id in &ids {
        for (method, suffix) in
            [(Method::GET, ""), (Method::POST, "/auth-token"), (Method::DELETE, ""), (Method::PATCH, "")]
        {
            let path = format!("/node/api/users/{id}{suffix}?api-token={token}");
            let req = app.saymon(method.clone(), &path).json(&json!({}));
            let (status, body) = app.send(req).await;
            assert!(matches!(status.as_u16(), 400 | 404), "{method} {path}: {status} {body}");
            assert!(body["code"].is_string(), "{method} {path}: {body}");
        }
    }
    let rows: i64 = app.store().query_row("SELECT count(*) FROM saymon_tokens", params![], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1, "only the admin's own token");
    assert_eq!(app.saymon_current(&token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn creating_a_user_grants_permissions_and_masks_the_default_display_name() {
    let app = spawn_app().await;
    let doc = create(&app, json!({"login": "example.user", "permissions": ["manage-links"]})).await;
    assert_eq!((doc["login"].as_str(), doc["displayName"].as_str()), (Some("example.user"), Some("exampl******")));
    assert_eq!((&doc["status"], &doc["authenticationToken"]), (&json!(2), &Value::Null));
    assert!(permissions(&doc).contains(&"manage-links") && doc.get("password").is_none(), "{doc}");
    let named = create(&app, json!({"login": "bob", "displayName": "Robert"})).await;
    assert_eq!(named["displayName"], "Robert");
    let from_email = create(&app, json!({"email": "frank@example.com"})).await;
    let (login, email) = (from_email["login"].as_str(), from_email["email"].as_str());
    assert_eq!((login, email), (Some("frank"), Some("frank@example.com")));
    assert_eq!(app.send(as_user(&app, "frank@example.com", Method::GET, CURRENT)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn creating_a_user_refuses_taken_logins_weak_passwords_and_bad_permissions() {
    let app = spawn_app().await;
    create(&app, json!({"login": "bob"})).await;
    let attempt = |body: Value| app.send(app.as_admin(Method::POST, "/node/api/users").json(&body));
    let (status, body) = attempt(json!({"login": "BOB", "password": PASSWORD})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("Conflict")), "{body}");
    let short = bad_request("Password does not match policy: minimum number of characters - 8");
    assert_eq!(attempt(json!({"login": "carol", "password": "short"})).await, short);
    let unknown = bad_request("Unknown permission \"fly\"");
    assert_eq!(attempt(json!({"login": "carol", "password": PASSWORD, "permissions": ["fly"]})).await, unknown);
    let no_password = bad_request("Mandatory \"password\" parameter is absent/empty.");
    assert_eq!(attempt(json!({"login": "carol"})).await, no_password);
    assert_eq!(app.user_rows(), 2);
}

#[tokio::test]
async fn a_user_without_manage_users_cannot_create_patch_or_delete_users() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let id = bob["id"].as_str().unwrap();
    let new = json!({"login": "eve", "password": PASSWORD});
    assert_eq!(app.send(as_user(&app, "bob", Method::POST, "/node/api/users").json(&new)).await, forbidden());
    let escalate = json!({"permissions": ["manage-users"]});
    assert_eq!(app.send(as_user(&app, "bob", Method::PATCH, &user_path(id)).json(&escalate)).await, forbidden());
    assert_eq!(app.send(as_user(&app, "bob", Method::DELETE, &user_path(&app.admin.user_id))).await, forbidden());
    let (_, after) = app.send(as_user(&app, "bob", Method::GET, CURRENT)).await;
    assert_eq!(after, bob);
}

#[tokio::test]
async fn a_user_manager_cannot_grant_a_permission_it_lacks() {
    let app = spawn_app().await;
    let manager = create(&app, json!({"login": "manager", "permissions": ["manage-users"]})).await;
    let body = json!({"login": "eve", "password": PASSWORD, "permissions": ["manage-configuration"]});
    let (status, error) = app.send(as_user(&app, "manager", Method::POST, "/node/api/users").json(&body)).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("Forbidden")), "{error}");
    let own = user_path(manager["id"].as_str().unwrap());
    let grant = json!({"permissions": ["manage-users", "create-user"]});
    assert_eq!(app.send(as_user(&app, "manager", Method::PATCH, &own).json(&grant)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.user_rows(), 2);
}

#[tokio::test]
async fn patch_updates_display_name_permissions_status_and_email() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob", "email": "bob@example.com"})).await;
    let id = bob["id"].as_str().unwrap();
    let change =
        json!({"displayName": "Bobby", "permissions": ["manage-links"], "email": "robert@example.com", "status": 2});
    let (status, doc) = patch(&app, id, change).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!((doc["displayName"].as_str(), doc["email"].as_str()), (Some("Bobby"), Some("robert@example.com")));
    assert!(permissions(&doc).contains(&"manage-links"));
    assert_eq!(app.send(app.as_admin(Method::GET, &user_path(id))).await.1, doc);
    assert_eq!(app.send(as_user(&app, "robert@example.com", Method::GET, CURRENT)).await.1, doc);
    let (_, doc) = patch(&app, id, json!({"permissions": []})).await;
    assert!(!permissions(&doc).contains(&"manage-links"));
}

#[tokio::test]
async fn patch_refuses_unknown_fields_by_name_and_unsupported_statuses() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let id = bob["id"].as_str().unwrap();
    for field in ["activeTo", "objectPermissions", "password", "authenticationToken"] {
        let expected = bad_request(&format!("Field \"{field}\" is not supported by this server."));
        assert_eq!(patch(&app, id, json!({ field: 1 })).await, expected);
    }
    assert_eq!(patch(&app, id, json!({"status": 1})).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.send(app.as_admin(Method::GET, &user_path(id))).await.1, bob);
}

#[tokio::test]
async fn status_3_blocks_a_user_and_kills_its_credentials_and_status_2_unblocks_it() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let id = bob["id"].as_str().unwrap();
    let (token, rc) = (app.saymon_token(id).await, app.login("bob", PASSWORD).await);
    let (sid, _) = app.saymon_login(json!({"login": "bob", "password": PASSWORD})).await;
    assert_eq!(patch(&app, id, json!({"status": 3})).await.1["status"], 3);
    assert_eq!(app.current_by_sid(&sid).await, saymon_unauthorized("Unauthorized", "Session expired."));
    let invalid_token = saymon_unauthorized("Unauthorized", "Invalid API token.");
    assert_eq!(app.current_by_token(&token).await, invalid_token);
    assert!(!app.authenticates(&rc).await);
    let invalid = saymon_unauthorized("InvalidCredentials", "Invalid login or password.");
    assert_eq!(app.send_text(as_user(&app, "bob", Method::GET, CURRENT)).await, invalid);
    let session =
        app.saymon(Method::POST, "/node/api/users/session").json(&json!({"login": "bob", "password": PASSWORD}));
    assert_eq!(app.send_text(session).await, invalid);
    let rc_login = app.post("/api/v1/login", json!({"user": "bob", "password": PASSWORD}), None).await;
    assert_eq!(rc_login.0, StatusCode::UNAUTHORIZED);
    assert_eq!(patch(&app, id, json!({"status": 2})).await.1["status"], 2);
    assert_eq!(app.send(as_user(&app, "bob", Method::GET, CURRENT)).await.0, StatusCode::OK);
    assert_eq!(app.current_by_token(&token).await, invalid_token, "unblocking restores no old token");
}

#[tokio::test]
async fn deleting_a_user_removes_it_with_its_credentials_but_never_the_last_admin() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let id = bob["id"].as_str().unwrap();
    let (sid, _) = app.saymon_login(json!({"login": "bob", "password": PASSWORD})).await;
    let rc = app.login("bob", PASSWORD).await;
    assert_eq!(app.send_text(app.as_admin(Method::DELETE, &user_path(id))).await, (StatusCode::OK, String::new()));
    assert_eq!(app.send(app.as_admin(Method::GET, &user_path(id))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::UNAUTHORIZED);
    assert!(!app.authenticates(&rc).await);
    assert_eq!(app.send(app.as_admin(Method::DELETE, &user_path(id))).await.0, StatusCode::NOT_FOUND);
    let last_admin = bad_request("At least one active admin must remain");
    assert_eq!(app.send(app.as_admin(Method::DELETE, &user_path(&app.admin.user_id))).await, last_admin);
    assert_eq!(patch(&app, &app.admin.user_id, json!({"status": 3})).await, last_admin);
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one_and_keeps_the_api_token() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let id = bob["id"].as_str().unwrap();
    let (token, rc) = (app.saymon_token(id).await, app.login("bob", PASSWORD).await);
    let (sid, _) = app.saymon_login(json!({"login": "bob", "password": PASSWORD})).await;
    let path = format!("{}/password", user_path(id));
    let put = |body: Value| app.send(as_user(&app, "bob", Method::PUT, &path).json(&body));
    let missing = bad_request("Mandatory \"currentPassword\" parameter is absent/empty.");
    assert_eq!(put(json!({"newPassword": "new-password-1"})).await, missing);
    let wrong = bad_request("The current password is not correct");
    assert_eq!(put(json!({"currentPassword": "nope-nope", "newPassword": "new-password-1"})).await, wrong);
    let change = json!({"currentPassword": PASSWORD, "newPassword": "new-password-1"});
    assert_eq!(put(change).await, (StatusCode::OK, Value::Null));
    assert_eq!(app.send(as_user(&app, "bob", Method::GET, CURRENT)).await.0, StatusCode::UNAUTHORIZED);
    let new = app.basic(Method::GET, CURRENT, "bob", "new-password-1");
    assert_eq!(app.send(new).await.0, StatusCode::OK);
    assert!(!app.authenticates(&rc).await, "login tokens die with a password change");
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::UNAUTHORIZED, "sessions die with a password change");
    assert_eq!(app.saymon_current(&token).await.0, StatusCode::OK, "the API token survives");
}

#[tokio::test]
async fn another_users_password_needs_manage_users_but_no_current_password() {
    let app = spawn_app().await;
    let bob = create(&app, json!({"login": "bob"})).await;
    let carol = create(&app, json!({"login": "carol"})).await;
    let carol_path = format!("{}/password", user_path(carol["id"].as_str().unwrap()));
    let body = json!({"currentPassword": PASSWORD, "newPassword": "hijacked-1"});
    assert_eq!(app.send(as_user(&app, "bob", Method::PUT, &carol_path).json(&body)).await, forbidden());
    let bob_path = format!("{}/password", user_path(bob["id"].as_str().unwrap()));
    let short = bad_request("Password does not match policy: minimum number of characters - 8");
    assert_eq!(app.send(app.as_admin(Method::PUT, &bob_path).json(&json!({"newPassword": "short"}))).await, short);
    let reset = app.as_admin(Method::PUT, &bob_path).json(&json!({"newPassword": "reset-password-1"}));
    assert_eq!(app.send_text(reset).await, (StatusCode::OK, String::new()));
    assert_eq!(app.login("bob", "reset-password-1").await.user_id, bob["id"].as_str().unwrap());
    assert_eq!(app.send(as_user(&app, "carol", Method::GET, CURRENT)).await.0, StatusCode::OK);
}
