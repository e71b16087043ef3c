//! Every session in view (issue 17): one's own sessions with who minted each and ending one;
//! last use, coalesced; PAT rotation with an overlap window; an administrator's view and
//! revocation of another user's credentials under the privilege ceiling; the CLI.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const LIST: &str = "/api/v1/sessions/list";
const LOGOUT_ME: &str = "/api/v1/sessions/logout.me";
const USER_TOKENS: &str = "/api/v1/tokend.userTokens";
const REVOKE: &str = "/api/v1/tokend.revokeToken";
const PATS: &str = "/api/v1/users.getPersonalAccessTokens";

async fn sessions(app: &TestApp, who: &Session) -> Vec<Value> {
    let (status, body) = app.get(LIST, Some(who)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], body["sessions"].as_array().unwrap().len());
    body["sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_user_sees_every_session_with_who_made_it_and_ends_any_one() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let bob_id = app.create_user("bob", "bob-password", &["user"]).await;
    let req = app.client.post(app.url("/api/v1/login")).header("User-Agent", "probe/1.0");
    let (status, body) = app.send(req.json(&json!({"user": "bob", "password": "bob-password"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bob = Session { user_id: bob_id.clone(), token: body["data"]["authToken"].as_str().unwrap().into() };
    let (status, minted) = app.post("/api/v1/users.createToken", json!({"userId": bob_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    let minted = Session { user_id: bob_id.clone(), token: minted["data"]["authToken"].as_str().unwrap().into() };
    app.saymon_login(json!({"login": "bob", "password": "bob-password"})).await;

    let listed = sessions(&app, &bob).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let own = listed.iter().find(|s| s["current"] == true).expect("the current session");
    assert_eq!(
        (&own["kind"], &own["userAgent"], &own["ip"]),
        (&json!("login"), &json!("probe/1.0"), &json!("127.0.0.1"))
    );
    assert_eq!(own["createdBy"], Value::Null, "bob's own login names no minter");
    let by_admin = listed.iter().find(|s| s["createdBy"] != Value::Null).expect("the minted one");
    assert_eq!(by_admin["createdBy"], json!({"_id": app.admin.user_id, "username": ADMIN_USERNAME}));
    assert_eq!(by_admin["lastTokenPart"], json!(&minted.token[37..]));
    assert!(listed.iter().any(|s| s["kind"] == "saymon" && s["ip"] == "127.0.0.1"), "the SAYMON session too");
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(&bob.token) && !text.contains(&minted.token), "no token values");

    let id = by_admin["sessionId"].clone();
    let (status, body) = app.post(LOGOUT_ME, json!({"sessionId": id}), Some(&bob)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"sessionId": id, "success": true})));
    assert!(!app.authenticates(&minted).await && app.authenticates(&bob).await);
    assert_eq!(sessions(&app, &bob).await.len(), 2);
    // Unknown, malformed, already-ended or someone else's sessions: the same 400.
    let admin_session = sessions(&app, &app.admin).await[0]["sessionId"].clone();
    for unknown in [id, json!("login-999999"), json!("pat-1"), json!("x"), admin_session] {
        let (status, body) = app.post(LOGOUT_ME, json!({"sessionId": unknown}), Some(&bob)).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, meteor_error("error-invalid-session", "Session not found"))
        );
    }
    assert!(app.authenticates(&app.admin).await);
    let (status, _) = app.post(LOGOUT_ME, json!({"sessionId": 5}), Some(&bob)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let revoked = app.audit("event=token.revoked").await;
    assert!(revoked.iter().any(|e| e["detail"] == "sessions/logout.me" && e["subject"]["username"] == "bob"));
}

#[tokio::test]
async fn last_use_is_recorded_once_a_minute_with_the_address() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, "bob-password", "ci", false).await;
    let (_, before) = app.get(PATS, Some(&bob)).await;
    assert_eq!(before["tokens"][0]["lastUsedAt"], Value::Null, "not used yet");
    assert!(app.authenticates(&pat).await);
    let (_, after) = app.get(PATS, Some(&bob)).await;
    let first = after["tokens"][0]["lastUsedAt"].clone();
    assert!(first.is_string(), "{after}");
    assert_eq!(after["tokens"][0]["lastUsedAddress"], "127.0.0.1");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(app.authenticates(&pat).await);
    let (_, again) = app.get(PATS, Some(&bob)).await;
    assert_eq!(again["tokens"][0]["lastUsedAt"], first, "a second use within the minute writes nothing");
}

#[tokio::test]
async fn a_regenerated_pat_keeps_its_old_value_for_the_grace_period_only() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let old = app.generate_pat(&bob, "bob-password", "deploy", false).await;
    let code = two_factor_code("bob-password");
    let headers = [("x-2fa-code", code.as_str()), ("x-2fa-method", "password")];
    let body = json!({"tokenName": "deploy", "graceSeconds": 2});
    let (status, body) = app.post_with("/api/v1/users.regeneratePersonalAccessToken", body, &bob, &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = Session { user_id: bob.user_id.clone(), token: body["token"].as_str().unwrap().into() };
    assert!(app.authenticates(&old).await && app.authenticates(&new).await, "both work during the overlap");
    let (_, listed) = app.get(PATS, Some(&bob)).await;
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1, "one PAT, not two: {listed}");
    assert!(listed["tokens"][0]["previousValueValidUntil"].is_string(), "{listed}");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert!(!app.authenticates(&old).await, "the old value ends with its grace period");
    assert!(app.authenticates(&new).await);
    // Without a grace period the old value dies at once, as in Rocket.Chat.
    let (status, body) = app
        .post_with("/api/v1/users.regeneratePersonalAccessToken", json!({"tokenName": "deploy"}), &bob, &headers)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&new).await);
}

#[tokio::test]
async fn an_admin_sees_and_revokes_another_users_credentials_under_the_ceiling() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, "bob-password", "ci", false).await;
    let api_token = app.saymon_token(&bob.user_id).await;
    let query = with_query(USER_TOKENS, &[("username", "bob")]);
    let (status, view) = app.get(&query, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["user"], json!({"_id": bob.user_id, "username": "bob"}));
    assert_eq!(view["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(view["personalAccessTokens"][0]["name"], "ci");
    assert_eq!(view["saymonApiToken"]["lastTokenPart"], json!(&api_token[32..]));
    let text = view.to_string();
    for secret in [&bob.token, &pat.token, &api_token] {
        assert!(!text.contains(secret.as_str()), "a value leaked: {text}");
    }
    // Without the permission: refused; with it but below the target: the privilege ceiling.
    let admin_query = with_query(USER_TOKENS, &[("userId", &app.admin.user_id)]);
    assert_eq!(app.get(&admin_query, Some(&bob)).await, (StatusCode::FORBIDDEN, permission_required()));
    let (status, role) = app.post("/api/v1/roles.create", json!({"name": "helper"}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["role"]["_id"].as_str().unwrap();
    app.set_permission_roles("logout-other-user", &["admin", role_id]).await;
    app.create_user("carol", "carol-password", &["user", role_id]).await;
    let carol = app.login("carol", "carol-password").await;
    let (status, body) = app.get(&admin_query, Some(&carol)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["details"]["guard"], "privilege-ceiling", "{body}");
    let body = json!({"userId": app.admin.user_id, "all": true});
    let (status, answer) = app.post(REVOKE, body, Some(&carol)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(app.authenticates(&app.admin).await, "the ceiling held");
    assert_eq!(app.get(&query, Some(&carol)).await.0, StatusCode::OK, "carol may see bob's");

    // The admin revokes bob's PAT, then his session, then his SAYMON token.
    let session_id = view["sessions"][0]["sessionId"].clone();
    for what in [json!({"tokenName": "ci"}), json!({"sessionId": session_id}), json!({"saymonApiToken": true})] {
        let mut body = what.clone();
        body["username"] = json!("bob");
        assert_eq!(app.post(REVOKE, body.clone(), Some(&app.admin)).await, (StatusCode::OK, json!({"success": true})));
        let (status, again) = app.post(REVOKE, body, Some(&app.admin)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "twice: {again}");
    }
    assert!(!app.authenticates(&pat).await && !app.authenticates(&bob).await);
    assert_eq!(app.saymon_current(&api_token).await.0, StatusCode::UNAUTHORIZED);
    for bad in [
        json!({"username": "bob"}),
        json!({"username": "bob", "all": true, "tokenName": "x"}),
        json!({"username": "nobody", "all": true}),
    ] {
        let (status, answer) = app.post(REVOKE, bad.clone(), Some(&app.admin)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
    }
    let revoked = app.audit("event=token.revoked&user=bob").await;
    assert!(revoked.iter().filter(|e| e["actor"]["username"] == ADMIN_USERNAME).count() >= 3, "{revoked:?}");
}

#[tokio::test]
async fn the_cli_lists_session_ids_and_revokes_one() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let other = app.login("bob", "bob-password").await;
    let run = |args: &[&str]| {
        let mut full = vec!["admin"];
        full.extend_from_slice(args);
        tokend_command(app.data_dir.path(), &full)
            .envs(crate::helpers_store::store_env(&app.config))
            .output()
            .expect("run tokend admin")
    };
    let out = run(&["list-tokens", "--user", "bob"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let row = stdout.lines().find(|l| l.contains(&other.token[37..])).expect("the second session");
    let id = row.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.starts_with("login-"), "{stdout}");
    let out = run(&["revoke-token", "--user", "bob", "--session", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.settle().await;
    assert!(!app.authenticates(&other).await && app.authenticates(&bob).await);
    let out = run(&["revoke-token", "--user", "bob", "--session", &id]);
    assert!(!out.status.success(), "a second revocation names no token");
}
