//! TOTP enrolment over Rocket.Chat's method bridge (spec §10.6): `POST method.call/:method`
//! with an EJSON message, answered 200 with the result or Meteor error inside `message`.

use crate::helpers::*;
use crate::totp::{current_code, forget_used_steps, login, password, totp_login_error};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Calls `method` over `method.call` (or `method.callAnon` without a session); returns the
/// decoded inner message.
async fn call(app: &TestApp, who: Option<&Session>, method: &str, params: Value) -> Value {
    let bridge = if who.is_some() { "method.call" } else { "method.callAnon" };
    let message = json!({"msg": "method", "id": "7", "method": method, "params": params}).to_string();
    let (status, body) = app.post(&format!("/api/v1/{bridge}/{method}"), json!({"message": message}), who).await;
    assert_eq!(status, StatusCode::OK, "{method}: {body}");
    assert_eq!(body["success"], json!(true));
    let inner: Value = serde_json::from_str(body["message"].as_str().unwrap()).unwrap();
    assert_eq!((&inner["msg"], &inner["id"]), (&json!("result"), &json!("7")), "{inner}");
    inner
}

fn meteor(error: Value, reason: Option<&str>) -> Value {
    let code = error.as_str().map(str::to_string).unwrap_or_else(|| error.to_string());
    let mut e = json!({"isClientSafe": true, "error": error, "errorType": "Meteor.Error"});
    match reason {
        Some(r) => {
            e["reason"] = json!(r);
            e["message"] = json!(format!("{r} [{code}]"));
        }
        None => e["message"] = json!(format!("[{code}]")),
    }
    e
}

#[tokio::test]
async fn a_complete_enrolment_over_method_call() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let other = app.login("alice", &password("alice")).await;
    let pat = app.generate_pat(&alice, &password("alice"), "ci", false).await;

    // A pending enrolment may be restarted; only the newest secret counts.
    let first = call(&app, Some(&alice), "2fa:enable", json!([])).await["result"].clone();
    let started = call(&app, Some(&alice), "2fa:enable", json!([])).await["result"].clone();
    let secret = started["secret"].as_str().unwrap().to_string();
    assert_ne!(first["secret"], started["secret"]);
    assert_eq!(started["url"], json!(format!("otpauth://totp/Rocket.Chat%3Aalice?secret={secret}")));

    let wrong = call(&app, Some(&alice), "2fa:validateTempToken", json!(["000000x"])).await;
    assert_eq!(wrong["error"], meteor(json!("invalid-totp"), None));
    let stale = current_code(first["secret"].as_str().unwrap());
    let refused = call(&app, Some(&alice), "2fa:validateTempToken", json!([stale])).await;
    assert_eq!(refused["error"]["error"], json!("invalid-totp"), "the first secret was replaced");
    let done = call(&app, Some(&alice), "2fa:validateTempToken", json!([current_code(&secret)])).await;
    let codes: Vec<String> = serde_json::from_value(done["result"]["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 12);
    assert!(app.authenticates(&alice).await && app.authenticates(&pat).await);
    assert!(!app.authenticates(&other).await);

    let again = call(&app, Some(&alice), "2fa:enable", json!([])).await;
    let already = meteor(json!("error-2fa-already-enabled"), Some("Two-factor authentication is already enabled"));
    assert_eq!(again["error"], already);

    assert_eq!(login(&app, "alice", None).await, totp_login_error("totp-required", "TOTP Required"));
    forget_used_steps(&app, &alice.user_id);
    let code = current_code(&secret);
    let (status, body) = login(&app, "alice", Some(&code)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(login(&app, "alice", Some(&code)).await, totp_login_error("totp-invalid", "TOTP Invalid"));

    let remaining = call(&app, Some(&alice), "2fa:checkCodesRemaining", json!([])).await;
    assert_eq!(remaining["result"], json!({"remaining": 12}));
    forget_used_steps(&app, &alice.user_id);
    let fresh = call(&app, Some(&alice), "2fa:regenerateCodes", json!([current_code(&secret)])).await;
    let fresh: Vec<String> = serde_json::from_value(fresh["result"]["codes"].clone()).unwrap();
    assert!(fresh.len() == 12 && fresh.iter().all(|c| !codes.contains(c)));
    let (status, body) = login(&app, "alice", Some(&fresh[3])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(login(&app, "alice", Some(&fresh[3])).await, totp_login_error("totp-invalid", "TOTP Invalid"));
    let remaining = call(&app, Some(&alice), "2fa:checkCodesRemaining", json!([])).await;
    assert_eq!(remaining["result"], json!({"remaining": 11}));

    let not_disabled = call(&app, Some(&alice), "2fa:disable", json!(["99999999"])).await;
    assert_eq!(not_disabled["result"], json!(false));
    let disabled = call(&app, Some(&alice), "2fa:disable", json!([fresh[0]])).await;
    assert_eq!(disabled["result"], json!(true));
    let (status, body) = login(&app, "alice", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_methods_and_anonymous_calls_fail_inside_the_envelope() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let unknown = call(&app, Some(&alice), "2fa:nonsense", json!([])).await;
    assert_eq!(unknown["error"], meteor(json!(404), Some("Method '2fa:nonsense' not found")));
    let anonymous = call(&app, None, "2fa:enable", json!([])).await;
    assert_eq!(anonymous["error"], meteor(json!("not-authorized"), None));
}
