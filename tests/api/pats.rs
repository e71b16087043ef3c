//! Personal access tokens (spec §3.2, §9.1; DESIGN decisions 3, 5, 6): the four routes'
//! bodies and errors verbatim, and the life of a PAT used by a second client.

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};

const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const REGENERATE: &str = "/api/v1/users.regeneratePersonalAccessToken";
const REMOVE: &str = "/api/v1/users.removePersonalAccessToken";
const LIST: &str = "/api/v1/users.getPersonalAccessTokens";
const BAD: StatusCode = StatusCode::BAD_REQUEST;
const PASSWORD: &str = "bob-password";

fn method_error(code: &str, reason: &str, operation: &str) -> Value {
    let mut body = meteor_error(code, reason);
    body["details"] = json!({"method": format!("personalAccessTokens:{operation}")});
    body
}

fn pat_rows(app: &TestApp, user_id: &str) -> i64 {
    app.store()
        .query_row("SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'pat'", params![user_id], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn generate_returns_the_token_once_and_the_list_shows_only_its_public_fields() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let (status, body) = app.post(GENERATE, json!({"tokenName": "ci-bot"}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"token": token, "success": true}));
    assert_eq!(token.len(), 43);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{token}");
    let bypass = app.generate_pat(&bob, PASSWORD, "deploy", true).await;
    let (status, listed) = app.get(LIST, Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let items = listed["tokens"].as_array().unwrap();
    let created: Vec<Value> = items.iter().map(|t| t["createdAt"].clone()).collect();
    for at in &created {
        let at = at.as_str().unwrap();
        assert!(at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T', "not ISO with ms: {at}");
    }
    // Rocket.Chat's four fields, then tokend's lifecycle fields (issue 17): none of these
    // tokens has an expiry or has been used yet.
    let tokend = |v: Value| {
        let mut v = v;
        let extra = json!({"scope": "full", "expiresAt": null, "lastUsedAt": null, "lastUsedAddress": null,
                           "previousValueValidUntil": null});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let expected = json!({"tokens": [
        tokend(json!({"name": "ci-bot", "createdAt": created[0], "lastTokenPart": &token[37..], "bypassTwoFactor": false})),
        tokend(json!({"name": "deploy", "createdAt": created[1], "lastTokenPart": &bypass.token[37..], "bypassTwoFactor": true})),
    ], "success": true});
    assert_eq!(listed, expected);
    // The admin's list is its own: bob's PATs and everyone's login tokens are not in it.
    assert_eq!(app.get(LIST, Some(&app.admin)).await, (StatusCode::OK, json!({"tokens": [], "success": true})));
}

#[tokio::test]
async fn pat_errors_are_verbatim_and_name_the_operation() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let name_required = json!({"success": false, "error": "The 'tokenName' param is required"});
    for path in [GENERATE, REGENERATE, REMOVE] {
        for body in [json!({}), json!({"tokenName": ""})] {
            assert_eq!(app.post(path, body, Some(&bob)).await, (BAD, name_required.clone()), "{path}");
        }
        let anonymous = app.post(path, json!({"tokenName": "x"}), None).await;
        assert_eq!(anonymous, (StatusCode::UNAUTHORIZED, not_logged_in()));
    }
    assert_eq!(app.get(LIST, None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    app.generate_pat(&bob, PASSWORD, "ci", false).await;
    let exists = method_error("error-token-already-exists", "A token with this name already exists", "generateToken");
    assert_eq!(app.post(GENERATE, json!({"tokenName": "ci"}), Some(&bob)).await, (BAD, exists));
    for (path, operation) in [(REGENERATE, "regenerateToken"), (REMOVE, "removeToken")] {
        let missing = method_error("error-token-does-not-exists", "Token does not exist", operation);
        assert_eq!(app.post(path, json!({"tokenName": "nope"}), Some(&bob)).await, (BAD, missing));
    }
    assert_eq!(
        app.post(REMOVE, json!({"tokenName": "ci"}), Some(&bob)).await,
        (StatusCode::OK, json!({"success": true}))
    );
    assert_eq!(pat_rows(&app, &bob.user_id), 0);
}

#[tokio::test]
async fn without_the_permission_every_route_refuses_before_looking_at_the_name() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    app.generate_pat(&bob, PASSWORD, "ci", false).await;
    app.set_permission_roles("create-personal-access-tokens", &["admin"]).await;
    for (path, operation) in [(GENERATE, "generateToken"), (REGENERATE, "regenerateToken"), (REMOVE, "removeToken")] {
        let refused = method_error("not-authorized", "Not Authorized", operation);
        // "ci" exists: a duplicate for generate, a valid name for the others.
        assert_eq!(app.post(path, json!({"tokenName": "ci"}), Some(&bob)).await, (BAD, refused), "{path}");
    }
    assert_eq!(app.get(LIST, Some(&bob)).await, (StatusCode::FORBIDDEN, permission_required()));
    assert_eq!(pat_rows(&app, &bob.user_id), 1);
}

#[tokio::test]
async fn a_bypass_flag_that_is_not_a_boolean_is_refused_and_creates_nothing() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    for bypass in [json!("true"), json!(1), json!({})] {
        let (status, body) =
            app.post(GENERATE, json!({"tokenName": "ci", "bypassTwoFactor": bypass}), Some(&bob)).await;
        assert_eq!((status, &body["errorType"]), (BAD, &json!("invalid-params")), "{body}");
    }
    assert_eq!(pat_rows(&app, &bob.user_id), 0);
}

#[tokio::test]
async fn a_pat_authenticates_its_owner_in_headers_and_as_a_resume_login() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, PASSWORD, "ci", false).await;
    let (status, me) = app.get("/api/v1/me", Some(&pat)).await;
    assert_eq!((status, &me["username"]), (StatusCode::OK, &json!("bob")), "{me}");
    let carol = app.user_session("carol").await;
    let wrong_owner = Session { user_id: carol.user_id, token: pat.token.clone() };
    assert_eq!(app.get("/api/v1/me", Some(&wrong_owner)).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let (status, login) = app.post("/api/v1/login", json!({"resume": pat.token}), None).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!((&login["data"]["userId"], &login["data"]["authToken"]), (&json!(bob.user_id), &json!(pat.token)));
}

#[tokio::test]
async fn a_pat_never_expires_and_does_not_count_toward_the_login_cap() {
    let app = spawn_app_with(|c| c.max_login_tokens = 2).await;
    let bob = app.user_session("bob").await;
    let pats = [app.generate_pat(&bob, PASSWORD, "a", false).await, app.generate_pat(&bob, PASSWORD, "b", false).await];
    for _ in 0..4 {
        app.login("bob", PASSWORD).await;
    }
    assert_eq!(app.login_token_rows(&bob.user_id), 2);
    let expiring: i64 = app
        .store()
        .query_row("SELECT count(*) FROM tokens WHERE kind = 'pat' AND expires_at IS NOT NULL", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(expiring, 0);
    for pat in &pats {
        assert!(app.authenticates(pat).await);
    }
}

#[tokio::test]
async fn a_pat_survives_logout_other_clients_and_a_password_change() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let other = app.login("bob", PASSWORD).await;
    let pat = app.generate_pat(&bob, PASSWORD, "ci", false).await;
    let (status, body) = app.post("/api/v1/users.logoutOtherClients", json!({}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&other).await);
    assert!(app.authenticates(&pat).await);
    let change = json!({"userId": bob.user_id, "data": {"password": "bob-new-password"}});
    let (status, body) = app.post("/api/v1/users.update", change, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&bob).await);
    assert!(app.authenticates(&pat).await);
}

#[tokio::test]
async fn a_pat_dies_on_removal_admin_logout_and_deactivation() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let removed = app.generate_pat(&bob, PASSWORD, "removed", false).await;
    let kept = app.generate_pat(&bob, PASSWORD, "kept", false).await;
    let (status, _) = app.post(REMOVE, json!({"tokenName": "removed"}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!app.authenticates(&removed).await);
    assert!(app.authenticates(&kept).await);
    let (status, body) = app.post("/api/v1/users.logout", json!({"userId": bob.user_id}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&kept).await);
    assert!(!app.authenticates(&bob).await);
    let bob = app.login("bob", PASSWORD).await;
    let doomed = app.generate_pat(&bob, PASSWORD, "doomed", false).await;
    let status_of = |active: bool| json!({"userId": bob.user_id, "activeStatus": active});
    let (status, _) = app.post("/api/v1/users.setActiveStatus", status_of(false), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!app.authenticates(&doomed).await);
    let (status, _) = app.post("/api/v1/users.setActiveStatus", status_of(true), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!app.authenticates(&doomed).await);
    assert_eq!(pat_rows(&app, &bob.user_id), 0);
}

#[tokio::test]
async fn regenerate_replaces_the_secret_and_keeps_the_bypass_flag() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let old = app.generate_pat(&bob, PASSWORD, "bot", true).await;
    let (status, body) = app.post(REGENERATE, json!({"tokenName": "bot"}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = Session { user_id: bob.user_id.clone(), token: body["token"].as_str().unwrap().to_string() };
    assert_eq!(body, json!({"token": new.token, "success": true}));
    assert_ne!(new.token, old.token);
    assert!(!app.authenticates(&old).await);
    assert!(app.authenticates(&new).await);
    let (_, listed) = app.get(LIST, Some(&bob)).await;
    let item = &listed["tokens"][0];
    assert_eq!((&item["name"], &item["bypassTwoFactor"]), (&json!("bot"), &json!(true)));
    assert_eq!(item["lastTokenPart"], json!(&new.token[37..]));
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_per_user_pat_cap_is_a_clear_error() {
    let app = spawn_app_with(|c| c.max_personal_access_tokens = 3).await;
    let bob = app.user_session("bob").await;
    for name in ["a", "b", "c"] {
        app.generate_pat(&bob, PASSWORD, name, false).await;
    }
    let (status, body) = app.post(GENERATE, json!({"tokenName": "d"}), Some(&bob)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-token-limit-reached")), "{body}");
    assert_eq!(body["details"], json!({"method": "personalAccessTokens:generateToken"}));
    let error = body["error"].as_str().unwrap();
    assert!(error.contains('3') && error.ends_with(" [error-token-limit-reached]"), "{error}");
    assert_eq!(pat_rows(&app, &bob.user_id), 3);
    let carol = app.user_session("carol").await;
    app.generate_pat(&carol, "carol-password", "d", false).await;
    app.post(REMOVE, json!({"tokenName": "a"}), Some(&bob)).await;
    app.generate_pat(&bob, PASSWORD, "d", false).await;
}

#[tokio::test]
async fn two_hundred_concurrent_generates_with_one_name_create_exactly_one_token() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let req = app
            .client
            .post(app.url(GENERATE))
            .header("X-User-Id", &bob.user_id)
            .header("X-Auth-Token", &bob.token)
            .json(&json!({"tokenName": "race"}));
        tasks.spawn(async move {
            let resp = req.send().await.expect("request");
            (resp.status(), resp.json::<Value>().await.expect("json"))
        });
    }
    let exists = method_error("error-token-already-exists", "A token with this name already exists", "generateToken");
    let mut created = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (StatusCode::OK, _) => created += 1,
            (status, body) => assert_eq!((status, body), (BAD, exists.clone())),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(pat_rows(&app, &bob.user_id), 1);
}
