//! `users.setStatus`, `users.getStatus`, `users.getPresence` and `users.info?email=` (8.4+),
//! with the bodies Rocket.Chat's clients send.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const SET: &str = "/api/v1/users.setStatus";

#[tokio::test]
async fn a_user_sets_their_status_and_message_and_reads_them_back() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (_, presence) = app.get("/api/v1/users.getPresence", Some(&bob)).await;
    assert_eq!(presence["presence"], "offline", "never set: offline");
    let body = json!({"message": "In a meeting", "status": "busy"});
    assert_eq!(app.post(SET, body, Some(&bob)).await, (StatusCode::OK, json!({"success": true})));
    let (status, own) = app.get("/api/v1/users.getStatus", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({"_id": bob.user_id, "message": "In a meeting", "connectionStatus": "offline",
        "status": "busy", "success": true});
    assert_eq!(own, expected);
    let (_, presence) = app.get("/api/v1/users.getPresence", Some(&bob)).await;
    assert_eq!((&presence["presence"], &presence["connectionStatus"]), (&json!("busy"), &json!("offline")));
    assert!(presence["lastLogin"].is_string(), "{presence}");
    let mut fields: Vec<&String> = presence.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["connectionStatus", "lastLogin", "presence", "success"], "Rocket.Chat's own-presence body");
    let (_, me) = app.get("/api/v1/me", Some(&bob)).await;
    assert_eq!((&me["status"], &me["statusText"]), (&json!("busy"), &json!("In a meeting")));
    // Others see the status only.
    let path = format!("/api/v1/users.getStatus?userId={}", bob.user_id);
    let expected = json!({"_id": bob.user_id, "status": "busy", "success": true});
    assert_eq!(app.get(&path, Some(&app.admin)).await, (StatusCode::OK, expected));
    let path = "/api/v1/users.getPresence?username=bob";
    assert_eq!(app.get(path, Some(&app.admin)).await, (StatusCode::OK, json!({"presence": "busy", "success": true})));
}

#[tokio::test]
async fn an_unknown_status_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let mut expected =
        meteor_error("error-invalid-status", "Valid status types include online, away, offline, and busy.");
    expected["details"] = json!({"method": "users.setStatus"});
    let body = json!({"status": "invisible-ish", "message": "x"});
    assert_eq!(app.post(SET, body, Some(&bob)).await, (StatusCode::BAD_REQUEST, expected));
    let (_, own) = app.get("/api/v1/users.getStatus", Some(&bob)).await;
    assert_eq!((&own["status"], own.get("message")), (&json!("offline"), None));
    // Rocket.Chat's `check` wants a string status or message (and neither of another type).
    let mismatch = (
        StatusCode::BAD_REQUEST,
        json!({"success": false, "error": "Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation"}),
    );
    for body in [json!({"status": 1}), json!({}), json!({"status": "busy", "message": 7}), json!({"message": null})] {
        assert_eq!(app.post(SET, body.clone(), Some(&bob)).await, mismatch, "{body}");
    }
    let (_, own) = app.get("/api/v1/users.getStatus", Some(&bob)).await;
    assert_eq!(own["status"], "offline");
    assert_eq!(app.post(SET, json!({"message": "only a message"}), Some(&bob)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn setting_someone_elses_status_needs_edit_other_user_info_and_the_ceiling() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let alice = app.create_user("alice", "alice-password", &["user"]).await;
    let body = json!({"userId": alice, "status": "away"});
    let refused = (StatusCode::UNAUTHORIZED, json!({"success": false, "error": "unauthorized"}));
    assert_eq!(app.post(SET, body.clone(), Some(&bob)).await, refused);
    assert_eq!(app.post(SET, body, Some(&app.admin)).await, (StatusCode::OK, json!({"success": true})));
    let (_, status) = app.get(&format!("/api/v1/users.getStatus?userId={alice}"), Some(&bob)).await;
    assert_eq!(status["status"], "away");
    // bob may now edit others, but not the admin, who holds permissions he lacks.
    app.set_permission_roles("edit-other-user-info", &["admin", "user"]).await;
    let (status, body) = app.post(SET, json!({"userId": app.admin.user_id, "status": "busy"}), Some(&bob)).await;
    assert_eq!((status, &body["details"]["guard"]), (StatusCode::BAD_REQUEST, &json!("privilege-ceiling")), "{body}");
}

#[tokio::test]
async fn users_info_finds_by_email_from_8_4_and_only_for_those_who_see_addresses() {
    let app = spawn_app_with(|c| c.rc_version = "8.4.0".into()).await;
    let bob = app.user_session("bob").await;
    app.create_user("alice", "alice-password", &["user"]).await;
    let (status, found) = app.get("/api/v1/users.info?email=bob@example.com", Some(&app.admin)).await;
    assert_eq!((status, &found["user"]["username"]), (StatusCode::OK, &json!("bob")), "{found}");
    let (status, own) = app.get("/api/v1/users.info?email=BOB@example.com", Some(&bob)).await;
    assert_eq!((status, &own["user"]["_id"]), (StatusCode::OK, &json!(bob.user_id)), "{own}");
    let not_found = (StatusCode::BAD_REQUEST, json!({"success": false, "error": "User not found."}));
    assert_eq!(app.get("/api/v1/users.info?email=alice@example.com", Some(&bob)).await, not_found.clone());
    assert_eq!(app.get("/api/v1/users.info?email=nobody@example.com", Some(&app.admin)).await, not_found);
    let older = spawn_app().await;
    let ignored = (StatusCode::BAD_REQUEST, json!({"success": false, "error": "Invalid search query."}));
    older.create_user("alice", "alice-password", &["user"]).await;
    assert_eq!(older.get("/api/v1/users.info?email=alice@example.com", Some(&older.admin)).await, ignored);
}
