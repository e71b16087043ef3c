//! Bad-input catalogue §6 F, token confusion (items 40–47). Items 41, 44, 46 and 47 are in
//! saymon_auth.rs and request_auth.rs (see CATALOGUE.md); here the decision of item 40, the
//! kinds those files do not cross, and item 45.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "bob-password";

/// Item 40's refusal: a PAT may not manage tokens or the owner's credentials.
fn login_token_required(operation: Option<&str>) -> (StatusCode, Value) {
    let reason = "Personal access tokens cannot manage tokens or credentials; log in";
    let mut body = meteor_error("error-login-token-required", reason);
    if let Some(operation) = operation {
        body["details"] = json!({"method": format!("personalAccessTokens:{operation}")});
    }
    (StatusCode::BAD_REQUEST, body)
}

fn post(app: &TestApp, path: &str, who: &Session, body: Value) -> reqwest::RequestBuilder {
    let req = app.client.post(app.url(path)).header("X-User-Id", &who.user_id).header("X-Auth-Token", &who.token);
    req.header("x-2fa-code", two_factor_code(PASSWORD)).header("x-2fa-method", "password").json(&body)
}

#[tokio::test]
async fn catalogue_40_a_pat_even_a_bypass_one_cannot_mint_tokens_or_change_credentials() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, PASSWORD, "bypass", true).await;
    app.generate_pat(&bob, PASSWORD, "other", false).await;
    let refusals = [
        ("/api/v1/users.generatePersonalAccessToken", json!({"tokenName": "more"}), Some("generateToken")),
        ("/api/v1/users.regeneratePersonalAccessToken", json!({"tokenName": "bypass"}), Some("regenerateToken")),
        // Removing *another* PAT is refused; removing itself is allowed (issue 16, tests/api/fidelity.rs).
        ("/api/v1/users.removePersonalAccessToken", json!({"tokenName": "other"}), Some("removeToken")),
        ("/api/v1/users.update", json!({"userId": bob.user_id, "data": {"password": "taken-over-pw"}}), None),
        ("/api/v1/users.update", json!({"userId": bob.user_id, "data": {"email": "evil@example.com"}}), None),
        ("/api/v1/users.enableTotp", json!({}), None),
        ("/api/v1/users.disableTotp", json!({"code": "123456"}), None),
        ("/api/v1/users.resetTOTP", json!({}), None),
        ("/api/v1/users.2fa.enableEmail", json!({}), None),
    ];
    for (path, body, operation) in refusals {
        refused(&app, &format!("item 40 {path} {body}"), post(&app, path, &pat, body), login_token_required(operation))
            .await;
    }
    let refused_mint = meteor_error("error-not-authorized", "Not authorized");
    let req = post(&app, "/api/v1/users.createToken", &pat, json!({"userId": bob.user_id}));
    let (status, body) = app.send(req).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, refused_mint), "item 40 createToken for oneself");
    assert_eq!(app.login_token_rows(&bob.user_id), 1, "no login token was minted");
    // The PAT still does everything else, and the login token still manages tokens.
    assert!(app.authenticates(&pat).await);
    let (status, body) = app
        .send(post(&app, "/api/v1/users.update", &pat, json!({"userId": bob.user_id, "data": {"name": "Bob"}})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.generate_pat(&bob, PASSWORD, "more", false).await;
}

#[tokio::test]
async fn catalogue_42_43_login_tokens_and_pats_are_never_api_tokens_and_never_read_from_the_url() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, PASSWORD, "ci", false).await;
    let invalid = saymon_401("Unauthorized", "Invalid API token.");
    for token in [&bob.token, &pat.token] {
        let path = with_query("/node/api/users/current", &[("api-token", token)]);
        refused_text(&app, "item 42", app.saymon(Method::GET, &path), (StatusCode::UNAUTHORIZED, &invalid)).await;
        let path = with_query("/api/v1/me", &[("resumeToken", token), ("userId", &bob.user_id)]);
        let req = app.client.get(app.url(&path)).header("X-User-Id", &bob.user_id);
        refused(&app, "item 43 ?resumeToken=", req, rc_unauthorized()).await;
    }
}

#[tokio::test]
async fn catalogue_45_resume_with_a_pat_returns_that_pat_which_dies_with_it_and_an_api_token_is_401() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, PASSWORD, "bypass", true).await;
    let (status, body) = app.post("/api/v1/login", json!({"resume": pat.token}), None).await;
    assert_eq!((status, &body["data"]["authToken"]), (StatusCode::OK, &json!(pat.token)), "no new token: {body}");
    let removed = post(&app, "/api/v1/users.removePersonalAccessToken", &bob, json!({"tokenName": "bypass"}));
    assert_eq!(app.send(removed).await.0, StatusCode::OK);
    let resume = |token: &str| app.client.post(app.url("/api/v1/login")).json(&json!({"resume": token}));
    refused(&app, "item 45 removed PAT", resume(&pat.token), login_unauthorized()).await;
    let api_token = app.saymon_token(&bob.user_id).await;
    refused(&app, "item 45 SAYMON token", resume(&api_token), login_unauthorized()).await;
}

#[tokio::test]
async fn catalogue_section_f_requests_leave_no_token_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", "catalogue-F-secret-pw").await;
    let code = two_factor_code("catalogue-F-secret-pw");
    let body = json!({"tokenName": "bypass", "bypassTwoFactor": true});
    let req = logged.authed(Method::POST, "/api/v1/users.generatePersonalAccessToken", &bob).json(&body);
    let resp = req.header("x-2fa-code", &code).header("x-2fa-method", "password").send().await.unwrap();
    let pat = Session {
        user_id: bob.user_id.clone(),
        token: resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().into(),
    };
    let req =
        logged.authed(Method::POST, "/api/v1/users.generatePersonalAccessToken", &pat).json(&json!({"tokenName": "x"}));
    logged.expect(req, StatusCode::BAD_REQUEST).await;
    for token in [&bob.token, &pat.token] {
        let req = logged.client.get(logged.url(&with_query("/node/api/users/current", &[("api-token", token)])));
        logged.expect(req, StatusCode::UNAUTHORIZED).await;
        let req = logged.client.get(logged.url("/api/v1/me")).bearer_auth(token);
        logged.expect(req, StatusCode::UNAUTHORIZED).await;
    }
    logged.assert_log_free_of(&["catalogue-F-secret-pw", &code, &bob.token, &pat.token], &["\"GET /api/v1/me\" 401"]);
}
