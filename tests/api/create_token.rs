//! `POST /api/v1/users.createToken` (spec §8; DESIGN decisions 1, 2 and 5): the switch and
//! the 8.x secret, who may mint for whom, what the minted token is, and legible refusals.

use crate::helpers::*;
use crate::params;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokend::config::Secret;

const CREATE: &str = "/api/v1/users.createToken";
const BAD: StatusCode = StatusCode::BAD_REQUEST;

fn not_authorized() -> Value {
    json!({"success":false,"error":"Not authorized [error-not-authorized]","errorType":"error-not-authorized"})
}

async fn switched_on() -> TestApp {
    spawn_app_with(|c| c.create_tokens_for_users = true).await
}

/// The `detail` of every `token.refused` event, newest first.
async fn refusals(app: &TestApp) -> Vec<String> {
    let events = app.audit("event=token.refused").await;
    events.iter().map(|e| e["detail"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn with_the_switch_off_create_token_is_not_authorized_and_the_refusal_names_the_switch() {
    let app = spawn_app().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let body = json!({"userId": bob, "secret": "anything"});
    assert_eq!(app.post(CREATE, body, Some(&app.admin)).await, (BAD, not_authorized()));
    assert_eq!(app.login_token_rows(&bob), 0);
    let events = app.audit("event=token.refused").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], json!({"_id": app.admin.user_id, "username": "admin"}));
    assert_eq!(events[0]["subject"], json!({"_id": bob, "username": "bob"}));
    assert!(events[0]["detail"].as_str().unwrap().contains("CREATE_TOKENS_FOR_USERS switch"), "{events:?}");
    let (status, _) = app.get(&format!("{CREATE}?userId={bob}"), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn with_the_switch_on_the_admin_mints_a_token_that_authenticates_as_the_target() {
    let app = switched_on().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    for body in
        [json!({"userId": bob, "secret": "ignored in 7.x mode"}), json!({"username": "bob"}), json!({"user": "bob"})]
    {
        let (status, minted) = app.post(CREATE, body.clone(), Some(&app.admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}: {minted}");
        let token = minted["data"]["authToken"].as_str().unwrap().to_string();
        assert_eq!(minted, json!({"data": {"userId": bob, "authToken": token}, "success": true}));
        assert_eq!(token.len(), 43);
        let session = Session { user_id: bob.clone(), token };
        let (status, me) = app.get("/api/v1/me", Some(&session)).await;
        assert_eq!((status, &me["username"]), (StatusCode::OK, &json!("bob")), "{me}");
    }
    assert_eq!(app.login_token_rows(&bob), 3);
    assert!(app.authenticates(&app.admin).await);
}

#[tokio::test]
async fn a_minted_token_carries_the_targets_rights_not_the_admins() {
    let app = switched_on().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let (_, minted) = app.post(CREATE, json!({"userId": bob}), Some(&app.admin)).await;
    let session = Session { user_id: bob, token: minted["data"]["authToken"].as_str().unwrap().into() };
    let eve = json!({"username": "eve", "name": "Eve", "email": "eve@example.com", "password": "eve-password"});
    let mut refused = meteor_error("error-action-not-allowed", "Adding user is not allowed");
    refused["details"] = json!({"method": "insertOrUpdateUser", "action": "Adding_user"});
    assert_eq!(app.post("/api/v1/users.create", eve, Some(&session)).await, (BAD, refused));
    let (status, _) = app.get("/api/v1/tokend.audit", Some(&session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_minted_token_expires_like_a_login_token_and_dies_with_logout() {
    let app = switched_on().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let (_, minted) = app.post(CREATE, json!({"userId": bob}), Some(&app.admin)).await;
        sessions.push(Session { user_id: bob.clone(), token: minted["data"]["authToken"].as_str().unwrap().into() });
    }
    let stored: i64 = app
        .store()
        .query_row(
            "SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'login' AND expires_at > 0",
            params![&bob],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 2, "createToken stores ordinary, expiring login tokens");
    app.backdate_token(&sessions[0].token).await;
    assert_eq!(app.get("/api/v1/me", Some(&sessions[0])).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
    let (status, body) = app.post("/api/v1/logout", json!({}), Some(&sessions[1])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!app.authenticates(&sessions[1]).await);
}

/// 200 concurrent mints for bob with a cap of 5: no failure, 5 rows left. Returns the
/// last parts of the tokens that still work and the audit's `token.created` events.
async fn mint_200_concurrently() -> (Vec<String>, Vec<Value>) {
    let app = spawn_app_with(|c| {
        c.create_tokens_for_users = true;
        c.max_login_tokens = 5;
    })
    .await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let req = app.client.post(app.url(CREATE)).json(&json!({"userId": bob}));
        let req = req.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token);
        tasks.spawn(async move {
            let resp = req.send().await.expect("request");
            (resp.status(), resp.json::<Value>().await.expect("json"))
        });
    }
    let mut working = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        working.push(Session { user_id: bob.clone(), token: body["data"]["authToken"].as_str().unwrap().into() });
    }
    assert_eq!(app.login_token_rows(&bob), 5);
    let mut survivors = Vec::new();
    for session in working {
        if app.authenticates(&session).await {
            survivors.push(session.token[37..].to_string());
        }
    }
    survivors.sort();
    let minted = app.audit("user=bob&event=token.created&count=0").await;
    assert_eq!(minted.len(), 200);
    (survivors, minted)
}

fn labels(events: &[Value]) -> Vec<String> {
    let mut labels: Vec<String> = events.iter().map(|e| e["tokenLabel"].as_str().unwrap().to_string()).collect();
    labels.sort();
    labels
}

#[tokio::test]
async fn two_hundred_concurrent_mints_keep_exactly_the_newest_tokens_up_to_the_cap() {
    let (survivors, mut minted) = mint_200_concurrently().await;
    // The five newest by creation stamp (ties: the later stored), as the audit records them.
    minted.sort_by_key(|e| (e["at"].as_str().unwrap().to_string(), e["_id"].as_i64().unwrap()));
    assert_eq!(survivors, labels(&minted[195..]));
}

#[tokio::test]
async fn concurrent_mints_leave_the_last_five_tokens_stored_so_none_is_dead_on_arrival() {
    let (survivors, minted) = mint_200_concurrently().await;
    // The audit log is written in the minting transaction: its newest five are the last stored.
    assert_eq!(survivors, labels(&minted[..5]));
}

#[tokio::test]
async fn a_plain_user_mints_for_itself_but_not_for_another_user() {
    let app = switched_on().await;
    let bob = app.user_session("bob").await;
    let carol = app.create_user("carol", "carol-password", &["user"]).await;
    let (status, minted) = app.post(CREATE, json!({"userId": bob.user_id}), Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    assert_eq!(minted["data"]["userId"], json!(bob.user_id));
    assert_eq!(app.post(CREATE, json!({"userId": carol}), Some(&bob)).await, (BAD, not_authorized()));
    assert_eq!(app.login_token_rows(&carol), 0);
    assert!(refusals(&app).await[0].contains("user-generate-access-token permission"));
}

#[tokio::test]
async fn a_delegated_minter_may_mint_for_plain_users_but_not_above_its_own_rights() {
    let app = switched_on().await;
    let (status, role) = app.post("/api/v1/roles.create", json!({"name": "minter"}), Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let role_id = role["role"]["_id"].as_str().unwrap().to_string();
    app.set_permission_roles("user-generate-access-token", &["admin", &role_id]).await;
    let minter = app.user_session("minter").await;
    let add = json!({"roleId": role_id, "userId": minter.user_id});
    let (status, body) = app.post("/api/v1/roles.addUserToRole", add, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let (status, minted) = app.post(CREATE, json!({"userId": bob}), Some(&minter)).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    let admin_rows = app.login_token_rows(&app.admin.user_id);
    let body = json!({"userId": app.admin.user_id});
    assert_eq!(app.post(CREATE, body, Some(&minter)).await, (BAD, not_authorized()));
    assert_eq!(app.login_token_rows(&app.admin.user_id), admin_rows);
    let refused = refusals(&app).await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("privilege ceiling"), "{refused:?}");
}

#[tokio::test]
async fn a_deactivated_target_gets_a_clear_error_and_no_token() {
    let app = switched_on().await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let deactivate = json!({"userId": bob, "activeStatus": false});
    let (status, _) = app.post("/api/v1/users.setActiveStatus", deactivate, Some(&app.admin)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(CREATE, json!({"userId": bob}), Some(&app.admin)).await;
    assert_eq!((status, &body["errorType"]), (BAD, &json!("error-user-is-not-activated")), "{body}");
    assert!(body["error"].as_str().unwrap().ends_with("[error-user-is-not-activated]"), "{body}");
    assert_eq!(app.login_token_rows(&bob), 0);
}

#[tokio::test]
async fn an_unknown_or_missing_target_gets_the_get_user_from_params_errors() {
    let app = switched_on().await;
    let missing =
        meteor_error("error-user-param-not-provided", "The required \"userId\" or \"username\" param was not provided");
    let unknown = meteor_error(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    );
    let admin = Some(&app.admin);
    assert_eq!(app.post(CREATE, json!({}), admin).await, (BAD, missing.clone()));
    assert_eq!(app.post(CREATE, json!({"userId": "  "}), admin).await, (BAD, missing));
    assert_eq!(app.post(CREATE, json!({"userId": "nope"}), admin).await, (BAD, unknown.clone()));
    assert_eq!(app.post(CREATE, json!({"username": "nobody"}), admin).await, (BAD, unknown));
    assert_eq!(app.post(CREATE, json!({"userId": "x"}), None).await, (StatusCode::UNAUTHORIZED, not_logged_in()));
}

/// The 400 of Rocket.Chat 8.x's typed router for a body its schema refuses (errata 3).
fn typed_invalid(message: &str) -> Value {
    json!({"success": false, "error": message, "errorType": "error-invalid-params"})
}

#[tokio::test]
async fn secret_mode_needs_the_secret_but_no_second_factor_and_never_audits_the_secret() {
    // Rocket.Chat 8.x declares no `twoFactorRequired` on users.createToken (errata 2): an
    // admin account past its 2FA grace mints with the secret alone.
    let app = spawn_app_with(|c| {
        c.create_tokens_secret = Some(Secret::new("s3cret"));
        c.two_factor_remember = Duration::ZERO;
    })
    .await;
    let bob = app.create_user_past_2fa("bob", "bob-password", &["user"]).await;
    let admin = &app.admin;
    app.age_account(&admin.user_id, Duration::from_secs(3600)).await;
    let required = typed_invalid("must have required property 'secret'");
    assert_eq!(app.post(CREATE, json!({"userId": bob}), Some(admin)).await, (BAD, required));
    let wrong = json!({"userId": bob, "secret": "not-the-s3cret"});
    assert_eq!(app.post(CREATE, wrong, Some(admin)).await, (BAD, not_authorized()));
    assert_eq!(app.login_token_rows(&bob), 0);
    let right = json!({"userId": bob, "secret": "s3cret"});
    let (status, minted) = app.post(CREATE, right, Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    let session = Session { user_id: bob, token: minted["data"]["authToken"].as_str().unwrap().into() };
    assert!(app.authenticates(&session).await);
    let refused = app.audit("event=token.refused").await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0]["detail"].as_str().unwrap().contains("SECRET check"), "{refused:?}");
    let everything = serde_json::to_string(&app.audit("count=0").await).unwrap();
    assert!(!everything.contains("s3cret"), "a secret reached the audit log: {everything}");
}

#[tokio::test]
async fn in_secret_mode_the_body_holds_only_user_id_and_secret() {
    let app = spawn_app_with(|c| c.create_tokens_secret = Some(Secret::new("s3cret"))).await;
    let bob = app.create_user("bob", "bob-password", &["user"]).await;
    let admin = Some(&app.admin);
    let missing = typed_invalid("must have required property 'userId'");
    assert_eq!(app.post(CREATE, json!({"username": "bob", "secret": "s3cret"}), admin).await, (BAD, missing));
    let extra = typed_invalid("must NOT have additional properties");
    let body = json!({"userId": bob, "secret": "s3cret", "username": "bob"});
    assert_eq!(app.post(CREATE, body, admin).await, (BAD, extra));
    assert_eq!(app.login_token_rows(&bob), 0);
}

#[tokio::test]
async fn the_binary_enables_create_token_only_for_exactly_yes_or_true() {
    for (value, enabled) in [("TRUE", false), ("1", false), ("yes", true)] {
        let server =
            ServerProcess::start(&[("CREATE_TOKENS_FOR_USERS", value), ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD)]);
        let client = reqwest::Client::new();
        let login = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
        let resp = client.post(server.url("/api/v1/login")).json(&login).send().await.unwrap();
        let body: Value = resp.json().await.unwrap();
        let (id, token) = (body["data"]["userId"].as_str().unwrap(), body["data"]["authToken"].as_str().unwrap());
        let resp = client
            .post(server.url(CREATE))
            .header("X-User-Id", id)
            .header("X-Auth-Token", token)
            .json(&json!({"userId": id}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        if enabled {
            assert_eq!(status, StatusCode::OK, "{value}: {body}");
        } else {
            assert_eq!((status, body), (BAD, not_authorized()), "{value}");
        }
    }
}
