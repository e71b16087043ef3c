//! Ending sessions: `users.logout`, `users.logoutOtherClients`, `users.removeOtherTokens`
//! (spec §6.2, §6.3).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::session::ok;
use crate::accounts::{TokenKind, revoke};
use crate::api::state::AppState;
use crate::clock::iso;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutBody {
    user_id: Option<String>,
}

/// §6.2: removes every token of the target, PATs included. Others need `logout-other-user`
/// (and the core's privilege ceiling).
pub async fn logout_user(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<LogoutBody>,
) -> RcResult<HttpResponse> {
    let target = body.user_id.filter(|id| !id.is_empty()).unwrap_or_else(|| caller.id().to_string());
    if target != caller.id() && !caller.has(&state, "logout-other-user").await? {
        return Err(RcError::Unauthorized(StatusCode::FORBIDDEN));
    }
    if !revoke::log_out_user(&state, &caller.acting(&req), &target).await? {
        return Err(RcError::meteor("error-invalid-user-id", "Invalid user id"));
    }
    log::info!("users.logout: {} logged out user {target}", caller.id());
    Ok(ok(json!({"message": format!("User {target} has been logged out!")})))
}

/// Signs the caller's other clients out (the core's policy: other login tokens and SAYMON
/// sessions end, PATs survive), keeping the token in use.
async fn remove_other_login_tokens(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    detail: &'static str,
) -> RcResult<()> {
    let removed = revoke::sign_out_others(state, &caller.acting(req), caller.user(), caller.current(), detail).await?;
    log::info!("user {} removed {removed} other login tokens", caller.id());
    Ok(())
}

/// §6.3: answers with the current token and its expiry (`""` for a PAT).
pub async fn logout_other_clients(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> RcResult<HttpResponse> {
    remove_other_login_tokens(&state, &caller, &req, "users.logoutOtherClients").await?;
    let expires = match (caller.owner().kind, caller.owner().expires_at) {
        (TokenKind::Login, Some(at)) => iso(at),
        _ => String::new(),
    };
    Ok(ok(json!({"token": caller.token.expose(), "tokenExpires": expires})))
}

/// §6.3: `{"success": true}`.
pub async fn remove_other_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> RcResult<HttpResponse> {
    remove_other_login_tokens(&state, &caller, &req, "users.removeOtherTokens").await?;
    Ok(ok(json!({})))
}
