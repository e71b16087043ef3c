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
    let bob =
        Session { user_id: result["id"].as_str().unwrap().into(), token: result["token"].as_str().unwrap().into() };
    assert!(app.authenticates(&bob).await);
    // Resume with the token, as the client does after a reload.
    let resumed = call(&app, None, "login", json!([{"resume": bob.token}])).await;
    assert_eq!((&resumed["result"]["token"], &resumed["result"]["type"]), (&json!(bob.token), &json!("resume")));
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
    assert_eq!(wrong["error"], unknown["error"]);
    assert_eq!(wrong["error"]["error"], 403);
    assert_eq!(wrong["error"]["reason"], "Something went wrong. Please check your credentials.");
    assert!(wrong.get("result").is_none());
    let malformed = call(&app, None, "login", json!([{"user": {"username": "bob"}, "password": 5}])).await;
    assert_eq!(malformed["error"]["error"], "invalid-params", "{malformed}");
}

#[tokio::test]
async fn a_totp_user_is_challenged_and_logs_in_with_the_totp_wrapper() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (secret, _) = enrol(&app, &alice).await;
    let challenged = call(&app, None, "login", json!([digest_login("alice", "alice-password")])).await;
    let error = &challenged["error"];
    assert_eq!((&error["error"], &error["reason"]), (&json!("totp-required"), &json!("TOTP Required")), "{challenged}");
    assert_eq!(error["details"]["method"], "totp");
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
    let error = &answer["error"];
    assert_eq!(
        (&error["error"], &error["reason"]),
        (&json!("error-user-is-not-activated"), &json!("User is not activated"))
    );
    assert_eq!(error["details"], json!({"function": "Accounts.validateLoginAttempt"}));
}
