//! `GET /api/info`, `GET /api/v1/me` (spec §7, §16) and how REST requests authenticate
//! (spec §2): both headers, the token of that very user, nothing else.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn info_reports_the_version_without_authentication() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/api/info")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"version":"7.10.0","success":true}));
}

#[tokio::test]
async fn error_responses_carry_the_security_headers_too() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn me_returns_exactly_the_spec_fields_for_a_user() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (status, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "_id",
        "_updatedAt",
        "active",
        "avatarUrl",
        "emails",
        "isOAuthUser",
        "name",
        "roles",
        "services",
        "settings",
        "status",
        "statusConnection",
        "success",
        "username",
        "utcOffset",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected, "{me}");
    assert_eq!(me["_id"], json!(alice.user_id));
    assert_eq!(me["username"], "alice");
    assert_eq!(me["name"], "alice");
    assert_eq!(me["emails"], json!([{"address": "alice@example.com", "verified": false}]));
    assert_eq!(me["roles"], json!(["user"]));
    assert_eq!(me["active"], true);
    assert_eq!(me["success"], true);
    assert_eq!(me["avatarUrl"], "http://localhost:3000/avatar/alice");
    assert_eq!(me["services"], json!({"password": {"exists": true}}));
    assert_eq!(me["settings"]["profile"], json!({}));
    let prefs = &me["settings"]["preferences"];
    assert_eq!(prefs["enableAutoAway"], true);
    assert_eq!(prefs["idleTimeLimit"], 300);
    assert!(me.get("email").is_none(), "unverified address shown: {me}");
    let text = me.to_string();
    assert!(!text.contains("bcrypt") && !text.contains("$2"), "{text}");
    assert!(!text.contains(&alice.token));
}

#[tokio::test]
async fn me_shows_the_email_only_when_it_is_verified() {
    let app = spawn_app().await;
    let body = json!({
        "username": "vera", "password": "vera-password", "name": "Vera",
        "email": "vera@example.com", "verified": true, "roles": ["user"],
    });
    let (status, created) = app.post("/api/v1/users.create", body, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let vera = app.login("vera", "vera-password").await;
    let (status, me) = app.get("/api/v1/me", Some(&vera)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "vera@example.com");
    assert_eq!(me["emails"], json!([{"address": "vera@example.com", "verified": true}]));
    // The bootstrap admin has no e-mail at all.
    let (_, admin) = app.get("/api/v1/me", Some(&app.admin)).await;
    assert!(admin.get("email").is_none() && admin.get("emails").is_none());
    assert_eq!(admin["roles"], json!(["admin", "user"]));
}

#[tokio::test]
async fn me_refuses_every_way_of_presenting_a_token_but_the_two_headers() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let admin = &app.admin;
    let me = app.url("/api/v1/me");
    let c = &app.client;
    let (uid, tok) = (alice.user_id.as_str(), alice.token.as_str());
    let last = if tok.ends_with('A') { "B" } else { "A" };
    let altered = format!("{}{last}", &tok[..42]);
    let cases = vec![
        ("no headers", c.get(&me)),
        ("only X-User-Id", c.get(&me).header("X-User-Id", uid)),
        ("only X-Auth-Token", c.get(&me).header("X-Auth-Token", tok)),
        ("right token, another user's id", c.get(&me).header("X-User-Id", &admin.user_id).header("X-Auth-Token", tok)),
        ("empty headers", c.get(&me).header("X-User-Id", "").header("X-Auth-Token", "")),
        ("query string", c.get(format!("{me}?X-Auth-Token={tok}&X-User-Id={uid}"))),
        ("authToken in the query", c.get(format!("{me}?authToken={tok}&userId={uid}"))),
        ("access_token in the query", c.get(format!("{me}?access_token={tok}"))),
        ("bearer", c.get(&me).header("Authorization", format!("Bearer {tok}"))),
        ("bearer with X-User-Id", c.get(&me).header("X-User-Id", uid).header("Authorization", format!("Bearer {tok}"))),
        (
            "two X-Auth-Token headers",
            c.get(&me).header("X-User-Id", uid).header("X-Auth-Token", tok).header("X-Auth-Token", &admin.token),
        ),
        (
            "the same token twice",
            c.get(&me).header("X-User-Id", uid).header("X-Auth-Token", tok).header("X-Auth-Token", tok),
        ),
        (
            "two X-User-Id headers",
            c.get(&me).header("X-User-Id", uid).header("X-User-Id", &admin.user_id).header("X-Auth-Token", tok),
        ),
        ("cookies", c.get(&me).header("Cookie", format!("rc_token={tok}; rc_uid={uid}"))),
        ("SQL in the token", c.get(&me).header("X-User-Id", uid).header("X-Auth-Token", "' OR 1=1 --")),
        ("token with its last character changed", c.get(&me).header("X-User-Id", uid).header("X-Auth-Token", altered)),
    ];
    for (what, req) in cases {
        let (status, body) = app.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body, not_logged_in(), "{what}");
    }
    // The control: the same token in the two headers does authenticate.
    assert!(app.authenticates(&alice).await);
}
