//! `method.callAnon/login` and `method.call/logout`: the DDP-over-REST login of Rocket.Chat's
//! web client, with the messages that client sends, through the same core as `/api/v1/login`.

use crate::helpers::*;
use crate::totp::{current_code, enrol, forget_used_steps};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends `method` with `params` over `method.callAnon` (or `method.call` as `who`); returns
/// the decoded inner DDP message.
async fn call(app: &TestApp, who: Option<&Session>, method: &str, params: Value) -> Value {
    let bridge = if who.is_some() { "method.call" } else { "method.callAnon" };
    let message = json!({"msg": "method", "id": "3", "method": method, "params": params}).to_string();
    let (status, body) = app.post(&format!("/api/v1/{bridge}/{method}"), json!({"message": message}), who).await;
    assert_eq!(status, StatusCode::OK, "{method}: {body}");
    serde_json::from_str(body["message"].as_str().unwrap()).unwrap()
}

/// A Meteor error as DDP sends it to the client (`isClientSafe`, `errorType: "Meteor.Error"`).
fn ddp_error(error: Value, reason: &str) -> Value {
    let code = error.as_str().map_or_else(|| error.to_string(), str::to_string);
    json!({"isClientSafe": true, "error": error, "reason": reason, "message": format!("{reason} [{code}]"),
        "errorType": "Meteor.Error"})
}

fn digest_login(username: &str, password: &str) -> Value {
    json!({"user": {"username": username}, "password": {"digest": two_factor_code(password), "algorithm": "sha-256"}})
}

#[tokio::test]
async fn the_web_clients_digest_login_returns_a_working_token_and_logout_ends_it() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let answer = call(&app, None, "login", json!([digest_login("bob", "bob-password")])).await;
    let result = &answer["result"];
    assert_eq!((&answer["msg"], &answer["id"], &result["type"]), (&json!("result"), &json!("3"), &json!("password")));
    assert!(result["tokenExpires"]["$date"].is_i64(), "{answer}");
    let mut fields: Vec<&String> = result.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["id", "token", "tokenExpires", "type"], "Meteor's login result, nothing more");
    let bob =
        Session { user_id: result["id"].as_str().unwrap().into(), token: result["token"].as_str().unwrap().into() };
    assert!(app.authenticates(&bob).await);
    // Resume with the token, as the client does after a reload.
    let resumed = call(&app, None, "login", json!([{"resume": bob.token}])).await;
    assert_eq!((&resumed["result"]["token"], &resumed["result"]["type"]), (&json!(bob.token), &json!("resume")));
    // A plain-text password (older clients) and an e-mail address as the user work too.
    let plain = json!([{"user": {"email": "bob@example.com"}, "password": "bob-password"}]);
    let answer = call(&app, None, "login", plain).await;
    assert_eq!((&answer["result"]["id"], &answer["result"]["type"]), (&json!(bob.user_id), &json!("password")));
    let other = app.login("bob", "bob-password").await;
    let out = call(&app, Some(&bob), "logout", json!([])).await;
    assert_eq!(out, json!({"msg": "result", "id": "3"}));
    assert!(!app.authenticates(&bob).await, "logout ends the token used");
    assert!(app.authenticates(&other).await, "and only that one");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_meteor_error() {
    let app = spawn_app().await;
    app.create_user("bob", "bob-password", &["user"]).await;
    let wrong = call(&app, None, "login", json!([digest_login("bob", "not-the-password")])).await;
    let unknown = call(&app, None, "login", json!([digest_login("nobody", "bob-password")])).await;
    // Rocket.Chat sets Meteor's ambiguous errors: the same 403 for both.
    let refused = json!({"msg": "result", "id": "3",
        "error": ddp_error(json!(403), "Something went wrong. Please check your credentials.")});
    assert_eq!((wrong, unknown), (refused.clone(), refused));
    // A login object Meteor's `check` refuses: DDP's sanitised 400.
    let malformed = call(&app, None, "login", json!([{"user": {"username": "bob"}, "password": 5}])).await;
    assert_eq!(malformed, json!({"msg": "result", "id": "3", "error": ddp_error(json!(400), "Match failed")}));
    let empty = call(&app, None, "login", json!([])).await;
    assert_eq!(empty, malformed);
}

#[tokio::test]
async fn a_totp_user_is_challenged_and_logs_in_with_the_totp_wrapper() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (secret, _) = enrol(&app, &alice).await;
    let challenged = call(&app, None, "login", json!([digest_login("alice", "alice-password")])).await;
    let mut required = ddp_error(json!("totp-required"), "TOTP Required");
    required["details"] = json!({"method": "totp", "codeGenerated": false, "availableMethods": ["totp"]});
    assert_eq!(challenged, json!({"msg": "result", "id": "3", "error": required}));
    forget_used_steps(&app, &alice.user_id); // the enrolment used this step's code
    let code = current_code(&secret);
    let wrapped = json!([{"totp": {"login": digest_login("alice", "alice-password"), "code": code}}]);
    let answer = call(&app, None, "login", wrapped).await;
    assert_eq!(answer["result"]["id"], json!(alice.user_id), "{answer}");
}

#[tokio::test]
async fn a_deactivated_user_gets_rocket_chats_error_with_details() {
    let app = spawn_app().await;
    let id = app.create_user("bob", "bob-password", &["user"]).await;
    let body = json!({"userId": id, "activeStatus": false});
    assert_eq!(app.post("/api/v1/users.setActiveStatus", body, Some(&app.admin)).await.0, StatusCode::OK);
    let answer = call(&app, None, "login", json!([digest_login("bob", "bob-password")])).await;
    let mut not_activated = ddp_error(json!("error-user-is-not-activated"), "User is not activated");
    not_activated["details"] = json!({"function": "Accounts.validateLoginAttempt"});
    assert_eq!(answer, json!({"msg": "result", "id": "3", "error": not_activated}));
}
