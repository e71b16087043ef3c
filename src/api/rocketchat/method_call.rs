//! Rocket.Chat's Meteor-method bridge (spec §10.6): `POST /api/v1/method.call/:method` with
//! `{"message": "<EJSON {msg:'method', id, method, params}>"}`. The answer is always 200
//! `{"message": "<EJSON {msg:'result', id, result | error}>", "success": true}`.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::method_login;
use super::session::ok;
use super::totp::{self, OpError};
use crate::api::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    message: String,
}

#[derive(Deserialize)]
struct MethodMessage {
    #[serde(default)]
    id: Value,
    method: Option<String>,
    #[serde(default)]
    params: Vec<Value>,
}

/// A Meteor error as DDP serialises it.
fn meteor_error(error: Value, reason: &str) -> Value {
    let code = match &error {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let message = if reason.is_empty() { format!("[{code}]") } else { format!("{reason} [{code}]") };
    let mut e = Map::new();
    e.insert("isClientSafe".into(), json!(true));
    e.insert("error".into(), error);
    if !reason.is_empty() {
        e.insert("reason".into(), json!(reason));
    }
    e.insert("message".into(), json!(message));
    e.insert("errorType".into(), json!("Meteor.Error"));
    Value::Object(e)
}

fn first_code(params: &[Value]) -> Option<&str> {
    params.first().and_then(Value::as_str)
}

async fn dispatch(
    state: &AppState,
    caller: Option<&Caller>,
    req: &HttpRequest,
    name: &str,
    params: &[Value],
) -> Result<Value, Value> {
    const TWO_FA: [&str; 5] =
        ["2fa:enable", "2fa:validateTempToken", "2fa:disable", "2fa:regenerateCodes", "2fa:checkCodesRemaining"];
    match name {
        "login" => return method_login::login(state, req, params, meteor_error).await,
        "logout" => return method_login::logout(state, caller, req, meteor_error).await,
        "resetPassword" => return method_login::reset_password(state, req, params, meteor_error).await,
        _ => {}
    }
    if !TWO_FA.contains(&name) {
        return Err(meteor_error(json!(404), &format!("Method '{name}' not found")));
    }
    let Some(caller) = caller else {
        return Err(meteor_error(json!("not-authorized"), ""));
    };
    let missing_code = || meteor_error(json!("invalid-totp"), "");
    let outcome = match name {
        "2fa:enable" => totp::enable(state, caller, req).await,
        "2fa:validateTempToken" => match first_code(params) {
            Some(code) => totp::validate(state, caller, req, code).await,
            None => return Err(missing_code()),
        },
        "2fa:disable" => match first_code(params) {
            Some(code) => totp::disable(state, caller, req, code).await.map(Value::Bool),
            None => return Err(missing_code()),
        },
        "2fa:regenerateCodes" => match first_code(params) {
            Some(code) => totp::regenerate(state, caller, req, code).await,
            None => return Err(missing_code()),
        },
        _ => totp::remaining(state, caller).await,
    };
    outcome.map_err(|e| match e {
        OpError::Meteor(code, reason) => meteor_error(json!(code), reason),
        // A refusal in the REST envelope (the 2FA gate, the budget, a PAT): the same error
        // as a Meteor error, details and all.
        OpError::Rc(e) => match *e {
            RcError::Failure { error, error_type: Some(code), details } => {
                let reason = error.strip_suffix(&format!(" [{code}]")).unwrap_or(&error).to_string();
                let mut e = meteor_error(json!(code), &reason);
                if let (Some(details), Value::Object(map)) = (details, &mut e) {
                    map.insert("details".into(), details);
                }
                e
            }
            e => {
                log::warn!("method {name} failed: {e}");
                meteor_error(json!(500), "Internal server error")
            }
        },
    })
}

async fn call(
    state: &AppState,
    caller: Option<Caller>,
    req: &HttpRequest,
    path: &str,
    body: Envelope,
) -> RcResult<HttpResponse> {
    let message: MethodMessage = serde_json::from_str(&body.message).map_err(|e| {
        RcError::invalid_params(&format!("'message' must be a JSON method call ({{msg, id, method, params}}): {e}"))
    })?;
    let name = message.method.unwrap_or_else(|| path.to_string());
    let mut result = Map::new();
    result.insert("msg".into(), json!("result"));
    result.insert("id".into(), message.id);
    match dispatch(state, caller.as_ref(), req, &name, &message.params).await {
        // A method that returns nothing (`logout`): EJSON leaves `result` out.
        Ok(Value::Null) => None,
        Ok(value) => result.insert("result".into(), value),
        Err(error) => result.insert("error".into(), error),
    };
    Ok(ok(json!({"message": Value::Object(result).to_string()})))
}

/// `POST /api/v1/method.call/:method` (authenticated).
pub async fn method_call(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    RcBody(body): RcBody<Envelope>,
) -> RcResult<HttpResponse> {
    call(&state, Some(caller), &req, &path, body).await
}

/// `POST /api/v1/method.callAnon/:method`: `login` (and a no-op `logout`); the 2FA methods
/// all need a logged-in user.
pub async fn method_call_anon(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    RcBody(body): RcBody<Envelope>,
) -> RcResult<HttpResponse> {
    call(&state, None, &req, &path, body).await
}
