//! A user's status: `users.setStatus`, `users.getStatus`, `users.getPresence` (Rocket.Chat
//! `v1/users.ts`). tokend holds no live connections: presence is the status the user chose,
//! and `connectionStatus` is always `offline`.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{self, RcBody, RcQuery};
use super::session::ok;
use super::target::{self, UserParams};
use super::views;
use crate::accounts::presence::{self, STATUSES};
use crate::accounts::{UserRecord, directory};
use crate::api::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetStatusBody {
    status: Option<String>,
    message: Option<String>,
    user_id: Option<String>,
    username: Option<String>,
    user: Option<String>,
}

/// The user a status route is about: the caller when the parameters name nobody else
/// (Rocket.Chat's `isUserFromParams`), else the named user.
async fn subject(state: &AppState, caller: &Caller, params: &UserParams) -> RcResult<Option<UserRecord>> {
    if params.is_empty() {
        return Ok(None);
    }
    let user = target::resolve(state, params).await?;
    Ok(if user.id == caller.id() { None } else { Some(user) })
}

/// Rocket.Chat's `check(bodyParams, Match.OneOf({status?: String, message: String},
/// {status: String, message?: String}))`: a string status or message, neither of another
/// type. A body that fails it gets `check`'s own sentence, with no error code.
fn check_status_body(body: &Value) -> RcResult<()> {
    let string_or_absent = |key: &str| body.get(key).is_none_or(|v| v.is_null() || v.is_string());
    let is_string = |key: &str| body.get(key).is_some_and(Value::is_string);
    let matches =
        string_or_absent("status") && string_or_absent("message") && (is_string("status") || is_string("message"));
    if matches {
        Ok(())
    } else {
        Err(RcError::failure("Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation"))
    }
}

/// `POST users.setStatus {status?, message?, userId?|username?}`: one's own status, or with
/// `edit-other-user-info` (and the privilege ceiling) someone else's.
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    check_status_body(&body)?;
    let body: SetStatusBody = extract::decode(body)?;
    let params = UserParams { user_id: body.user_id, username: body.username, user: body.user };
    let other = subject(&state, &caller, &params).await?;
    if other.is_some() && !caller.has(&state, "edit-other-user-info").await? {
        return Err(RcError::Unauthorized(StatusCode::UNAUTHORIZED));
    }
    let status = match body.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(wanted) => Some(STATUSES.into_iter().find(|s| *s == wanted).ok_or_else(|| {
            RcError::meteor_with_details(
                "error-invalid-status",
                "Valid status types include online, away, offline, and busy.",
                json!({"method": "users.setStatus"}),
            )
        })?),
    };
    let target_id = other.as_ref().map_or(caller.id(), |u| u.id.as_str()).to_string();
    presence::set_status(&state, &caller.acting(&req), &target_id, status, body.message).await?;
    Ok(ok(json!({})))
}

/// `GET users.getStatus`: one's own status with the message and connection, another's status.
pub async fn get_status(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<UserParams>,
) -> RcResult<HttpResponse> {
    Ok(ok(match subject(&state, &caller, &q).await? {
        None => {
            let me = own_record(&state, &caller).await?;
            let mut body = json!({"_id": me.id, "connectionStatus": "offline", "status": views::status(&me)});
            if let Some(text) = &me.status_text {
                body["message"] = json!(text);
            }
            body
        }
        Some(user) => json!({"_id": user.id, "status": views::status(&user)}),
    }))
}

/// `GET users.getPresence`: one's own presence with connection and last login, another's presence.
pub async fn get_presence(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<UserParams>,
) -> RcResult<HttpResponse> {
    Ok(ok(match subject(&state, &caller, &q).await? {
        None => {
            let me = own_record(&state, &caller).await?;
            let mut body = json!({"presence": views::status(&me), "connectionStatus": "offline"});
            if let Some(at) = me.last_login {
                body["lastLogin"] = json!(crate::clock::iso(at));
            }
            body
        }
        Some(user) => json!({"presence": views::status(&user)}),
    }))
}

/// The caller's record as stored now (the cached one may predate a status change made by
/// this very client a moment ago on another worker).
async fn own_record(state: &AppState, caller: &Caller) -> RcResult<UserRecord> {
    let key = directory::UserKey::Id(caller.id().to_string());
    Ok(directory::find(state, key).await?.unwrap_or_else(|| caller.user().clone()))
}
