//! Bad-input catalogue §6 A, JSON parsing and types (items 1–12): each body gets its exact
//! 400 in the Rocket.Chat envelope, changes nothing and leaves the server healthy.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const LOGIN: &str = "/api/v1/login";
const GENERATE: &str = "/api/v1/users.generatePersonalAccessToken";
const SECRET_PW: &str = "catalogue-A-secret-pw";

fn raw_login(app: &TestApp, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    app.client.post(app.url(LOGIN)).header("Content-Type", "application/json").body(body)
}

fn json_error(message: &str) -> (StatusCode, Value) {
    invalid_params(&format!("Invalid JSON body: {message}"))
}

#[tokio::test]
async fn catalogue_1_2_3_4_5_malformed_or_wrongly_typed_login_bodies_are_400() {
    let app = spawn_app().await;
    app.create_user("alice", SECRET_PW, &["user"]).await;
    let not_object = invalid_params("must be object");
    let user_object = invalid_params("'user' must be an object with one of username, email or id");
    let cases: Vec<(&str, String, (StatusCode, Value))> = vec![
        (
            "1 truncated",
            r#"{"user":"alice","password":"x""#.into(),
            json_error("EOF while parsing an object at line 1 column 30"),
        ),
        ("2 []", "[]".into(), not_object.clone()),
        ("2 string", r#""alice""#.into(), not_object.clone()),
        ("2 null", "null".into(), not_object.clone()),
        ("2 number", "123".into(), not_object.clone()),
        ("2 true", "true".into(), not_object),
        ("3 numeric user", r#"{"user":123,"password":"x"}"#.into(), user_object.clone()),
        (
            "3 numeric password",
            r#"{"user":"alice","password":123}"#.into(),
            invalid_params("'password' must be a string or {digest, algorithm: \"sha-256\"}"),
        ),
        (
            "4 NoSQL operators",
            r#"{"user":{"$ne":null},"password":{"$ne":null}}"#.into(),
            invalid_params("'user' must be an object with exactly one string field"),
        ),
        ("5 array user", format!(r#"{{"user":["alice","admin"],"password":"{SECRET_PW}"}}"#), user_object),
    ];
    for (what, body, expected) in cases {
        refused(&app, &format!("item {what}"), raw_login(&app, body), expected).await;
    }
}

#[tokio::test]
async fn catalogue_6_a_duplicate_key_never_logs_in_through_last_wins() {
    let app = spawn_app().await;
    app.create_user("alice", SECRET_PW, &["user"]).await;
    let body = format!(r#"{{"user":"alice","user":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let expected = json_error("duplicate key 'user' at line 1 column 30");
    refused(&app, "item 6", raw_login(&app, body), expected).await;
}

#[tokio::test]
async fn catalogue_7_ten_thousand_levels_of_nesting_are_400_without_a_stack_overflow() {
    let app = spawn_app().await;
    let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let expected = json_error("recursion limit exceeded at line 1 column 132");
    refused(&app, "item 7", raw_login(&app, deep), expected).await;
}

#[tokio::test]
async fn catalogue_8_extra_fields_in_a_login_body_are_refused_and_assign_nothing() {
    let app = spawn_app().await;
    app.create_user("alice", SECRET_PW, &["user"]).await;
    let body = json!({"user": "alice", "password": SECRET_PW, "roles": ["admin"], "active": true, "_id": "B"});
    // With keys beyond the compatible set the body is Meteor's own form, where `user` is an object.
    let expected = invalid_params("'user' must be an object with one of username, email or id");
    refused(&app, "item 8", raw_login(&app, body.to_string()), expected).await;
}

#[tokio::test]
async fn catalogue_9_a_bypass_flag_that_is_not_a_boolean_creates_no_token() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    for bypass in [json!("true"), json!(1), json!({})] {
        let req = app.client.post(app.url(GENERATE)).header("X-User-Id", &bob.user_id);
        let req = req.header("X-Auth-Token", &bob.token).json(&json!({"tokenName": "t", "bypassTwoFactor": bypass}));
        refused(&app, &format!("item 9 {bypass}"), req, invalid_params("must be boolean")).await;
    }
}

#[tokio::test]
async fn catalogue_10_a_bom_invalid_utf8_or_an_unpaired_surrogate_is_400() {
    let app = spawn_app().await;
    app.create_user("alice", SECRET_PW, &["user"]).await;
    let good = format!(r#"{{"user":"alice","password":"{SECRET_PW}"}}"#);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("BOM", [b"\xef\xbb\xbf".as_slice(), good.as_bytes()].concat(), "expected value at line 1 column 1"),
        ("escaped \\xff", br#"{"user":"alice","password":"\xff\xfe"}"#.to_vec(), "invalid escape at line 1 column 30"),
        (
            "raw \\xff\\xfe",
            b"{\"user\":\"alice\",\"password\":\"\xff\xfe\"}".to_vec(),
            "invalid unicode code point at line 1 column 29",
        ),
        (
            "\\ud800",
            br#"{"user":"alice","password":"\ud800"}"#.to_vec(),
            "unexpected end of hex escape at line 1 column 35",
        ),
    ];
    for (what, body, message) in cases {
        refused(&app, &format!("item 10 {what}"), raw_login(&app, body), json_error(message)).await;
    }
}

#[tokio::test]
async fn catalogue_11_expiry_fields_are_refused_so_no_token_lives_forever_by_wrap_around() {
    let app = spawn_app_with(|c| c.create_tokens_for_users = true).await;
    let bob = app.user_session("bob").await;
    let extra = invalid_params("must NOT have additional properties");
    for (field, value) in [
        ("expiresInDays", "-1"),
        ("expiresInDays", "0"),
        ("expiry", "18446744073709551616"),
        ("expiresInDays", r#""NaN""#),
        ("expiry", "1e309"),
    ] {
        let out_of_range = value == "1e309";
        for (path, name) in [(GENERATE, r#""tokenName":"t","#), ("/api/v1/users.createToken", "")] {
            let body = format!(r#"{{{name}"{field}":{value}}}"#);
            let column = body.len() - 1;
            // users.generatePersonalAccessToken takes `expiresInDays` since issue 17: a
            // lifetime below one day, or one that is not a whole number, is refused.
            let lifetime = path == GENERATE && field == "expiresInDays";
            let expected = if out_of_range {
                json_error(&format!("number out of range at line 1 column {column}"))
            } else if lifetime && value == r#""NaN""# {
                invalid_params("must be integer")
            } else if lifetime {
                let reason = "expiresInDays must be a whole number of days, at least 1";
                let error = format!("{reason} [error-token-lifetime-invalid]");
                let details = json!({"method": "personalAccessTokens:generateToken"});
                let body = json!({"success": false, "error": error, "errorType": "error-token-lifetime-invalid", "details": details});
                (StatusCode::BAD_REQUEST, body)
            } else {
                extra.clone()
            };
            let req = app.client.post(app.url(path)).header("Content-Type", "application/json").body(body.clone());
            let req = req.header("X-User-Id", &bob.user_id).header("X-Auth-Token", &bob.token);
            refused(&app, &format!("item 11 {path} {body}"), req, expected).await;
        }
    }
}

#[tokio::test]
async fn catalogue_12_empty_blank_huge_or_nul_token_names_are_refused() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let required = (StatusCode::BAD_REQUEST, json!({"success": false, "error": "The 'tokenName' param is required"}));
    let mut invalid =
        meteor_error("error-token-name-invalid", "Token names have 1 to 100 characters and no control characters");
    invalid["details"] = json!({"method": "personalAccessTokens:generateToken"});
    let invalid = (StatusCode::BAD_REQUEST, invalid);
    for (name, expected) in [
        (json!(""), required),
        (json!(" "), invalid.clone()),
        (json!("x".repeat(10_000)), invalid.clone()),
        (json!("a\u{0}b"), invalid.clone()),
        (json!("tab\there"), invalid),
        (json!(123), invalid_params("must be string")),
    ] {
        let req = app.client.post(app.url(GENERATE)).header("X-User-Id", &bob.user_id);
        let req = req.header("X-Auth-Token", &bob.token).json(&json!({"tokenName": name}));
        refused(&app, "item 12", req, expected).await;
    }
}

#[tokio::test]
async fn catalogue_section_a_bodies_leave_no_password_or_token_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", SECRET_PW).await;
    let login = || logged.client.post(logged.url(LOGIN)).header("Content-Type", "application/json");
    for body in [
        format!(r#"{{"user":"bob","password":"{SECRET_PW}""#),
        format!(r#"{{"user":"bob","user":"admin","password":"{SECRET_PW}"}}"#),
        format!(r#"{{"user":["bob"],"password":"{SECRET_PW}"}}"#),
        format!(r#"{{"user":"bob","password":"{SECRET_PW}","roles":["admin"]}}"#),
        format!(r#"{{"resume":{{"$ne":"{}"}}}}"#, bob.token),
    ] {
        logged.expect(login().body(body), StatusCode::BAD_REQUEST).await;
    }
    let generate = logged.authed(Method::POST, GENERATE, &bob).json(&json!({"tokenName": "t", "bypassTwoFactor": 1}));
    logged.expect(generate, StatusCode::BAD_REQUEST).await;
    logged.assert_log_free_of(&[SECRET_PW, &bob.token], &["\"POST /api/v1/login\" 400"]);
}
