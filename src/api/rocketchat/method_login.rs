//! The DDP-over-REST login Rocket.Chat's own web client uses (`method.callAnon/login`,
//! `method.call/logout`): the same login core as `POST /api/v1/login`, answered as Meteor's
//! `login` and `logout` methods answer.

use super::caller::Caller;
use super::error::RcError;
use super::session::log_in;
use crate::accounts::revoke;
use crate::api::state::AppState;
use actix_web::HttpRequest;
use serde_json::{Map, Value, json};

/// Meteor's answer to a wrong user or password when, as in Rocket.Chat, errors are
/// ambiguous: the same for an unknown user and a wrong password.
const AMBIGUOUS: &str = "Something went wrong. Please check your credentials.";

/// `login` with `[ {user, password} | {resume} | {totp: {login, code}} ]`: the result is
/// Meteor's `{id, token, tokenExpires: {$date}, type}`.
pub async fn login(
    state: &AppState,
    req: &HttpRequest,
    params: &[Value],
    error: fn(Value, &str) -> Value,
) -> Result<Value, Value> {
    login_method(state, req, params, error).await
}

async fn login_method(
    state: &AppState,
    req: &HttpRequest,
    params: &[Value],
    error: fn(Value, &str) -> Value,
) -> Result<Value, Value> {
    let Some(request) = params.first() else {
        return Err(error(json!(400), "Match failed"));
    };
    match log_in(state, req, request).await {
        Ok(done) => {
            let mut result = Map::new();
            result.insert("id".into(), json!(done.user.id));
            result.insert("token".into(), json!(done.token));
            if let Some(at) = done.expires_at {
                result.insert("tokenExpires".into(), json!({"$date": at}));
            }
            result.insert("type".into(), json!(if done.resumed { "resume" } else { "password" }));
            Ok(Value::Object(result))
        }
        Err(e) => Err(login_error(e, error)),
    }
}

/// A refused login as the Meteor error the `login` method throws.
fn login_error(e: RcError, error: fn(Value, &str) -> Value) -> Value {
    match e {
        RcError::Login { error: code, .. } if code == "Unauthorized" => error(json!(403), AMBIGUOUS),
        RcError::Login { error: code, message, details } => with_details(error(json!(code), &message), details),
        // A malformed login object fails Meteor's `check`, which DDP sanitises to this.
        RcError::Failure { error_type: Some(code), .. } if code == "invalid-params" => {
            error(json!(400), "Match failed")
        }
        RcError::Failure { error: message, error_type: Some(code), details } => {
            let reason = message.strip_suffix(&format!(" [{code}]")).unwrap_or(&message).to_string();
            with_details(error(json!(code), &reason), details)
        }
        RcError::Failure { error: message, .. } => error(json!(400), &message),
        other => {
            log::warn!("method login failed: {other}");
            error(json!(500), "Internal server error")
        }
    }
}

fn with_details(mut e: Value, details: Option<Value>) -> Value {
    if let (Some(details), Value::Object(map)) = (details, &mut e) {
        map.insert("details".into(), details);
    }
    e
}

/// `logout`: ends the token the request authenticated with; without one there is nothing
/// to end (Meteor answers a logged-out `logout` with success too).
pub async fn logout(
    state: &AppState,
    caller: Option<&Caller>,
    req: &HttpRequest,
    error: fn(Value, &str) -> Value,
) -> Result<Value, Value> {
    if let Some(caller) = caller {
        let acting = caller.acting(req);
        if let Err(e) =
            revoke::revoke_token(state, &acting, caller.user(), caller.token_hash(), caller.owner().kind).await
        {
            log::warn!("method logout failed: {e}");
            return Err(error(json!(500), "Internal server error"));
        }
    }
    Ok(Value::Null)
}

/// `resetPassword` with `[token, newPassword]` (the token from the e-mailed link): sets the
/// password through the core (single-use link, every login token ended), then logs the
/// user in with it as `login` does — a user with a second factor is asked for it there.
/// The new password must be a string: tokend checks the password policy on it, which a
/// client-side digest would hide.
pub async fn reset_password(
    state: &AppState,
    req: &HttpRequest,
    params: &[Value],
    error: fn(Value, &str) -> Value,
) -> Result<Value, Value> {
    use crate::accounts::self_service::{self, ResetError};
    let (token, password) = match (params.first(), params.get(1)) {
        (Some(Value::String(token)), Some(Value::String(password))) => (token, password),
        // Meteor's client sends a digest; tokend needs the text for its length policy.
        (Some(Value::String(_)), Some(Value::Object(_))) => {
            return Err(error(json!("invalid-params"), "resetPassword takes [token, newPassword] as two strings"));
        }
        // Anything else fails Meteor's `check`, which DDP sanitises to this.
        _ => return Err(error(json!(400), "Match failed")),
    };
    let addr = super::gate::client_addr(req);
    match self_service::reset_password(state, token, password.clone(), addr).await {
        Ok(Ok(user)) => {
            log::info!("password reset: user {} chose a new password", user.id);
            let login = json!({"user": {"id": user.id}, "password": password});
            login_method(state, req, &[login], error).await
        }
        Ok(Err(ResetError::InvalidToken)) => Err(error(json!(403), "Token expired")),
        Ok(Err(ResetError::Policy(_))) => Err(error(
            json!("error-password-policy-not-met"),
            "The password provided does not meet the server's password policy.",
        )),
        Err(e) => {
            e.log_and_is_unavailable();
            Err(error(json!(500), "Internal server error"))
        }
    }
}
