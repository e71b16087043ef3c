//! `GET /api/v1/tokend.audit`: every mint and revocation of a Rocket.Chat token, with who,
//! for whom, which kind, and from where — never the token itself.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// (event, actor, tokenKind, tokenLabel, detail) of an event, for comparing sequences.
fn summary(e: &Value) -> (String, String, String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    (
        text(&e["event"]),
        text(&e["actor"]["username"]),
        text(&e["tokenKind"]),
        text(&e["tokenLabel"]),
        text(&e["detail"]),
    )
}

fn expect(event: &str, actor: &str, kind: &str, label: &str, detail: &str) -> (String, String, String, String, String) {
    (event.into(), actor.into(), kind.into(), label.into(), detail.into())
}

#[tokio::test]
async fn every_mint_and_revocation_is_audited_with_actor_subject_and_client_address() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let bob = app.user_session("bob").await;
    let (_, minted) = app.post("/api/v1/users.createToken", json!({"userId": bob.user_id}), Some(&app.admin)).await;
    let minted = minted["data"]["authToken"].as_str().unwrap().to_string();
    let pat = app.generate_pat(&bob, "bob-password", "ci", false).await;
    let (_, renewed) =
        app.post("/api/v1/users.regeneratePersonalAccessToken", json!({"tokenName": "ci"}), Some(&bob)).await;
    let renewed = renewed["token"].as_str().unwrap().to_string();
    // A forwarded-for header is not trusted: the address is the TCP peer's.
    let spoofed = [("X-Forwarded-For", "203.0.113.9"), ("X-Real-IP", "203.0.113.9")];
    app.post_with("/api/v1/users.logoutOtherClients", json!({}), &bob, &spoofed).await;
    app.post("/api/v1/users.removePersonalAccessToken", json!({"tokenName": "ci"}), Some(&bob)).await;
    let second = app.login("bob", "bob-password").await;
    let (status, _) = app.get("/api/v1/logout", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post("/api/v1/users.logout", json!({"userId": bob.user_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);

    let mut events = app.audit("user=bob").await;
    events.reverse();
    let seen: Vec<_> = events.iter().map(summary).collect();
    let expected = vec![
        expect("token.created", "bob", "login", &bob.token[37..], "login"),
        expect("token.created", "admin", "login", &minted[37..], "createToken"),
        expect("token.created", "bob", "pat", "ci", "generatePersonalAccessToken (scope full, expires never)"),
        expect("token.revoked", "bob", "pat", "ci", "regeneratePersonalAccessToken"),
        expect("token.created", "bob", "pat", "ci", "regeneratePersonalAccessToken (scope full, expires never)"),
        expect("token.revoked", "bob", "login", "-", "users.logoutOtherClients: 1 token(s)"),
        expect("token.revoked", "bob", "pat", "ci", "removePersonalAccessToken"),
        expect("token.created", "bob", "login", &second.token[37..], "login"),
        expect("token.revoked", "bob", "login", "-", "logout"),
        expect("token.revoked", "admin", "all", "-", "users.logout: 1 token(s)"),
    ];
    assert_eq!(seen, expected);
    for e in &events {
        assert_eq!(e["subject"], json!({"_id": bob.user_id, "username": "bob"}), "{e}");
        assert_eq!(e["clientAddress"], json!("127.0.0.1"), "{e}");
        let actor_id = if e["actor"]["username"] == "admin" { &app.admin.user_id } else { &bob.user_id };
        assert_eq!(e["actor"]["_id"], json!(actor_id), "{e}");
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        let expected_keys =
            ["_id", "at", "event", "actor", "subject", "tokenKind", "tokenLabel", "clientAddress", "detail"];
        assert_eq!(keys, expected_keys, "{e}");
    }
    let log = serde_json::to_string(&app.audit("count=0").await).unwrap();
    for secret in [&bob.token, &minted, &pat.token, &renewed, &second.token, &app.admin.token] {
        assert!(!log.contains(secret.as_str()), "a token reached the audit log");
    }
    assert!(!log.contains("bob-password") && !log.contains(ADMIN_PASSWORD));
}

#[tokio::test]
async fn the_audit_log_filters_by_user_and_event_and_pages_newest_first() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let carol = app.user_session("carol").await;
    for _ in 0..3 {
        app.login("carol", "carol-password").await;
    }
    app.get("/api/v1/logout", Some(&carol)).await;
    app.get("/api/v1/logout", Some(&bob)).await;

    let by_name = app.audit("user=carol").await;
    assert_eq!(by_name.len(), 5);
    assert_eq!(app.audit(&format!("user={}", carol.user_id)).await, by_name);
    assert!(by_name.iter().all(|e| e["subject"]["username"] == "carol"));
    let revoked = app.audit("event=token.revoked").await;
    assert_eq!(revoked.len(), 2);
    assert!(revoked.iter().all(|e| e["event"] == "token.revoked"));
    assert_eq!(app.audit("user=carol&event=token.revoked").await.len(), 1);
    assert_eq!(app.audit("user=nobody").await, Vec::<Value>::new());

    // admin login, bob login, 4 carol logins, 2 logouts.
    let (status, whole) = app.get("/api/v1/tokend.audit", Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&whole["count"], &whole["offset"], &whole["total"], &whole["success"]),
        (&json!(8), &json!(0), &json!(8), &json!(true))
    );
    let ids: Vec<i64> = whole["events"].as_array().unwrap().iter().map(|e| e["_id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let (_, page) = app.get("/api/v1/tokend.audit?count=3&offset=2", Some(&app.admin)).await;
    assert_eq!((&page["count"], &page["offset"], &page["total"]), (&json!(3), &json!(2), &json!(8)));
    assert_eq!(page["events"].as_array().unwrap()[..], whole["events"].as_array().unwrap()[2..5]);
    let (_, past_the_end) = app.get("/api/v1/tokend.audit?count=3&offset=8", Some(&app.admin)).await;
    assert_eq!((&past_the_end["events"], &past_the_end["total"]), (&json!([]), &json!(8)));
}

#[tokio::test]
async fn only_holders_of_view_audit_log_may_read_it() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    assert_eq!(app.get("/api/v1/tokend.audit", Some(&bob)).await, (StatusCode::FORBIDDEN, permission_required()));
    assert_eq!(app.get("/api/v1/tokend.audit", None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    app.set_permission_roles("view-audit-log", &["admin", "user"]).await;
    let (status, body) = app.get("/api/v1/tokend.audit?user=bob", Some(&bob)).await;
    assert_eq!((status, &body["total"]), (StatusCode::OK, &json!(1)), "{body}");
}

#[tokio::test]
async fn a_password_change_and_a_deactivation_are_audited_as_revocations() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let change = json!({"userId": bob.user_id, "data": {"password": "bob-new-password"}});
    let (status, _) = app.post("/api/v1/users.update", change, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    app.login("bob", "bob-new-password").await;
    let deactivate = json!({"userId": bob.user_id, "activeStatus": false});
    let (status, _) = app.post("/api/v1/users.setActiveStatus", deactivate, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    let revoked = app.audit("user=bob&event=token.revoked").await;
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    let detail = |e: &Value| e["detail"].as_str().unwrap_or_default().to_lowercase();
    assert!(detail(&revoked[1]).contains("password"), "{revoked:?}");
    assert!(detail(&revoked[0]).contains("deactivat"), "{revoked:?}");
    assert!(revoked.iter().all(|e| e["actor"]["username"] == "admin" && e["clientAddress"] == "127.0.0.1"));
}

#[tokio::test]
async fn the_user_filter_matches_a_username_in_any_case() {
    let app = spawn_app().await;
    app.user_session("bob").await;
    let exact = app.audit("user=bob").await;
    assert_eq!(exact.len(), 1);
    assert_eq!(app.audit("user=BOB").await, exact);
}
