//! Bad-input catalogue §6 D, SQL injection strings (items 31–35): parameterised queries make
//! them ordinary unknown names, unknown tokens or literal names. Items 31 and 33 (logins) are
//! in login.rs, item 32's header form in request_auth.rs.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn catalogue_32_an_injection_string_as_api_token_is_an_invalid_api_token() {
    let app = spawn_app().await;
    app.saymon_token(&app.admin.user_id).await;
    for value in ["' OR ''='", "' OR 1=1 --", "%", "_"] {
        let path = with_query("/node/api/users/current", &[("api-token", value)]);
        let expected = (StatusCode::UNAUTHORIZED, saymon_401("Unauthorized", "Invalid API token."));
        let expected = (expected.0, expected.1.as_str());
        refused_text(&app, &format!("item 32 {value}"), app.saymon(Method::GET, &path), expected).await;
    }
}

#[tokio::test]
async fn catalogue_34_a_token_name_of_sql_is_stored_literally_and_the_table_survives() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let name = "x'); DROP TABLE tokens; --";
    let pat = app.generate_pat(&bob, "bob-password", name, false).await;
    let (status, listed) = app.get("/api/v1/users.getPersonalAccessTokens", Some(&bob)).await;
    assert_eq!((status, &listed["tokens"][0]["name"]), (StatusCode::OK, &json!(name)), "{listed}");
    assert!(app.authenticates(&pat).await && app.authenticates(&app.admin).await);
    assert_eq!(app.login_token_rows(&bob.user_id), 1, "the tokens table is intact");
}

#[tokio::test]
async fn catalogue_35_an_injection_string_as_user_id_is_an_invalid_user() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let invalid = meteor_error(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    );
    for body in [json!({"userId": "A\" OR \"1\"=\"1"}), json!({"username": "' OR '1'='1"}), json!({"userId": "%"})] {
        let req = app.client.post(app.url("/api/v1/users.createToken")).json(&body);
        let req = req.header("X-User-Id", &app.admin.user_id).header("X-Auth-Token", &app.admin.token);
        refused(&app, &format!("item 35 {body}"), req, (StatusCode::BAD_REQUEST, invalid.clone())).await;
    }
}

#[tokio::test]
async fn catalogue_section_d_requests_leave_no_token_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", "catalogue-D-secret-pw").await;
    let injected = format!("{}' OR 1=1 --", bob.token);
    let req = logged.client.get(logged.url("/api/v1/me")).header("X-User-Id", &bob.user_id);
    logged.expect(req.header("X-Auth-Token", &injected), StatusCode::UNAUTHORIZED).await;
    let req = logged.client.get(logged.url(&with_query("/node/api/users/current", &[("api-token", &injected)])));
    logged.expect(req, StatusCode::UNAUTHORIZED).await;
    let body = json!({"user": "' OR '1'='1", "password": "catalogue-D-secret-pw"});
    logged.expect(logged.client.post(logged.url("/api/v1/login")).json(&body), StatusCode::UNAUTHORIZED).await;
    logged.assert_log_free_of(&["catalogue-D-secret-pw", &bob.token], &["\"GET /node/api/users/current\" 401"]);
}
