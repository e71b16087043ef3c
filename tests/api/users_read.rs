//! users.info and users.list (spec §9.3, §9.4, §1.5).

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};

const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().expect("object").keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    keys
}

fn usernames(body: &Value) -> Vec<&str> {
    body["users"].as_array().expect("users").iter().map(|u| u["username"].as_str().unwrap()).collect()
}

async fn list(app: &TestApp, pairs: &[(&str, &str)], who: &Session) -> (StatusCode, Value) {
    app.get(&with_query("/api/v1/users.list", pairs), Some(who)).await
}

#[tokio::test]
async fn users_info_finds_a_user_by_id_or_by_username_in_any_case() {
    let app = spawn_app().await;
    let bob_id = app.create_user("bob", "bob-password", &["user"]).await;
    let (status, by_id) = app.get(&format!("/api/v1/users.info?userId={bob_id}"), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{by_id}");
    let expected = json!({"user": {"_id": bob_id, "type": "user", "status": "offline",
        "active": true, "name": "bob", "username": "bob", "utcOffset": 0,
        "emails": [{"address": "bob@example.com", "verified": false}],
        "statusConnection": "offline", "createdAt": by_id["user"]["createdAt"],
        "requirePasswordChange": false, "roles": ["user"], "canViewAllInfo": true},
        "success": true});
    assert_eq!(by_id, expected);
    let by_name = app.get("/api/v1/users.info?username=BOB", Some(&app.admin)).await;
    assert_eq!(by_name, (StatusCode::OK, expected));
}

#[tokio::test]
async fn users_info_shows_a_plain_user_their_own_services_and_only_public_fields_of_others() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, me) = app.get(&format!("/api/v1/users.info?userId={}", bob.user_id), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["services"], json!({"password": true}));
    assert_eq!(me["user"]["canViewAllInfo"], true);
    assert_eq!(me["user"]["roles"], json!(["user"]));
    assert_eq!(me["user"]["emails"][0]["address"], "bob@example.com");
    assert!(me["user"]["lastLogin"].is_string());
    let (status, other) = app.get("/api/v1/users.info?username=admin", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    let public = ["_id", "active", "canViewAllInfo", "name", "status", "type", "username", "utcOffset"];
    assert_eq!(keys(&other["user"]), public);
    assert_eq!(other["user"]["canViewAllInfo"], false);
    assert_eq!(other["success"], true);
}

#[tokio::test]
async fn users_info_refuses_unknown_users_and_queries_without_a_user() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let not_found = (BAD, json!({"success": false, "error": "User not found."}));
    let invalid = (BAD, json!({"success": false, "error": "Invalid search query."}));
    let cases = [
        ("?userId=NoSuchUserId12345".to_string(), &not_found),
        ("?username=nobody".to_string(), &not_found),
        (with_query("", &[("userId", "' OR 1=1 --")]), &not_found),
        (with_query("", &[("username", "%")]), &not_found),
        (format!("?userId={}&username=admin", bob.user_id), &not_found),
        ("".to_string(), &invalid),
        ("?userId=".to_string(), &invalid),
    ];
    for (query, expected) in cases {
        let got = app.get(&format!("/api/v1/users.info{query}"), Some(&bob)).await;
        assert_eq!(&got, expected, "users.info{query}");
    }
    let anonymous = app.get("/api/v1/users.info?username=bob", None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}

#[tokio::test]
async fn users_list_pages_through_users_sorted_by_username() {
    let app = spawn_app().await;
    for name in ["carol", "alice", "bob"] {
        app.create_user(name, &format!("{name}-password"), &["user"]).await;
    }
    let admin = &app.admin;
    let (status, all) = list(&app, &[], admin).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(usernames(&all), ["admin", "alice", "bob", "carol"]);
    assert_eq!(
        (&all["count"], &all["offset"], &all["total"], &all["success"]),
        (&json!(4), &json!(0), &json!(4), &json!(true))
    );
    let (_, page) = list(&app, &[("count", "2"), ("offset", "1")], admin).await;
    assert_eq!(usernames(&page), ["alice", "bob"]);
    assert_eq!((&page["count"], &page["offset"], &page["total"]), (&json!(2), &json!(1), &json!(4)));
    let (_, past_end) = list(&app, &[("offset", "10")], admin).await;
    assert_eq!((usernames(&past_end).len(), &past_end["count"], &past_end["total"]), (0, &json!(0), &json!(4)));
    let (_, everyone) = list(&app, &[("count", "0")], admin).await;
    assert_eq!(everyone["count"], 4);
    let (_, reversed) = list(&app, &[("sort", r#"{"username":-1}"#)], admin).await;
    assert_eq!(usernames(&reversed), ["carol", "bob", "alice", "admin"]);
}

#[tokio::test]
async fn users_list_caps_count_at_100_defaults_to_50_and_count_0_means_all() {
    let app = spawn_app().await;
    for i in 0..120 {
        app.store()
            .execute(
                "INSERT INTO users (id, username, name, email, created_at, updated_at)
                 VALUES (?1, ?2, ?2, ?3, 0, 0)",
                params![format!("seededUser{i:07}"), format!("user{i:03}"), format!("u{i}@example.com")],
            )
            .unwrap();
    }
    for (count, expected) in [(Some("500"), 100), (None, 50), (Some("0"), 121), (Some("7"), 7)] {
        let pairs: Vec<(&str, &str)> = count.map(|c| ("count", c)).into_iter().collect();
        let (status, body) = list(&app, &pairs, &app.admin).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (usernames(&body).len(), &body["count"], &body["total"]),
            (expected, &json!(expected), &json!(121)),
            "count={count:?}"
        );
    }
}

#[tokio::test]
async fn users_list_refuses_bad_sort_count_offset_parameters() {
    let app = spawn_app().await;
    for sort in [r#"{"username":2}"#, "username", r#"["username"]"#] {
        let reason = format!("Invalid sort parameter provided: \"{sort}\"");
        let expected = (BAD, meteor_error("error-invalid-sort", &reason));
        assert_eq!(list(&app, &[("sort", sort)], &app.admin).await, expected);
    }
    for pairs in [[("count", "abc")], [("count", "-1")], [("offset", "x")], [("offset", "-5")]] {
        let (status, body) = list(&app, &pairs, &app.admin).await;
        assert_eq!((status, &body["errorType"]), (BAD, &json!("invalid-params")), "{pairs:?}: {body}");
    }
    assert_eq!(app.user_rows(), 1, "the users table is intact");
}

/// `@rocket.chat/sdk`'s `users.online()` sends exactly this; Rocket.Chat 7.x ignores `query`
/// and `fields` and accepts any sort key (errata 5), so tokend must not answer 400.
#[tokio::test]
async fn users_list_ignores_query_and_fields_and_accepts_any_sort_key() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let online = [("query", r#"{"status":{"$ne":"offline"}}"#), ("fields", r#"{"username":1,"_id":1}"#)];
    let (status, body) = list(&app, &online, &app.admin).await;
    assert_eq!((status, &body["total"]), (StatusCode::OK, &json!(2)), "{body}");
    let injected = r#"{"username; DROP TABLE users; --":1}"#;
    for sort in [r#"{"status":-1}"#, r#"{"password_hash":1}"#, r#"{"nameInsensitive":1}"#, injected] {
        let (status, body) = list(&app, &[("sort", sort)], &app.admin).await;
        assert_eq!((status, &body["total"]), (StatusCode::OK, &json!(2)), "{sort}: {body}");
    }
    assert_eq!(app.user_rows(), 2, "the users table is intact");
}

#[tokio::test]
async fn users_list_shows_plain_users_a_limited_projection() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = list(&app, &[], &bob).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
    for user in body["users"].as_array().unwrap() {
        assert_eq!(keys(user), ["_id", "active", "name", "nameInsensitive", "roles", "status", "type", "username"]);
    }
    let (_, privileged) = list(&app, &[], &app.admin).await;
    let bob_doc = &privileged["users"][1];
    assert_eq!((&bob_doc["username"], &bob_doc["roles"]), (&json!("bob"), &json!(["user"])));
    assert_eq!(bob_doc["emails"], json!([{"address": "bob@example.com", "verified": false}]));
    assert!(bob_doc["lastLogin"].is_string());
    let expected =
        ["_id", "active", "emails", "lastLogin", "name", "nameInsensitive", "roles", "status", "type", "username"];
    assert_eq!(keys(bob_doc), expected, "Rocket.Chat's projection, nothing more");
    assert!(!privileged.to_string().contains("services"));
}

#[tokio::test]
async fn users_list_needs_view_d_room() {
    let app = spawn_app().await;
    let (status, role) = app.post("/api/v1/roles.create", json!({"name": "no-perms"}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["role"]["_id"].as_str().unwrap();
    app.create_user("dave", "dave-password", &[role_id]).await;
    let dave = app.login("dave", "dave-password").await;
    let forbidden = (StatusCode::FORBIDDEN, permission_required());
    assert_eq!(list(&app, &[], &dave).await, forbidden);
    let anonymous = app.get("/api/v1/users.list", None).await;
    assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
}
