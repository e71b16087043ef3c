//! Ending sessions: `users.logout`, `users.logoutOtherClients`, `users.removeOtherTokens`
//! (spec §6.2, §6.3).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::session::ok;
use crate::clock::iso;
use crate::db::tokens::{self, TokenKind};
use crate::db::users;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutBody {
    user_id: Option<String>,
}

/// §6.2: removes every token of the target, PATs included. Others need `logout-other-user`.
pub async fn logout_user(
    state: web::Data<AppState>,
    caller: Caller,
    RcBody(body): RcBody<LogoutBody>,
) -> RcResult<HttpResponse> {
    let target = body.user_id.filter(|id| !id.is_empty()).unwrap_or_else(|| caller.id().to_string());
    if target != caller.id() && !caller.has(&state, "logout-other-user").await? {
        return Err(RcError::Unauthorized(StatusCode::FORBIDDEN));
    }
    let id = target.clone();
    let found = state
        .db
        .write(move |tx| {
            if users::find_by_id(tx, &id)?.is_none() {
                return Ok(false);
            }
            tokens::delete_all_of(tx, &id)?;
            Ok(true)
        })
        .await?;
    if !found {
        return Err(RcError::meteor("error-invalid-user-id", "Invalid user id"));
    }
    log::info!("users.logout: {} logged out user {target}", caller.id());
    Ok(ok(json!({"message": format!("User {target} has been logged out!")})))
}

/// Removes the caller's other login tokens (PATs survive), keeping the one in use.
async fn remove_other_login_tokens(state: &AppState, caller: &Caller) -> RcResult<()> {
    let id = caller.id().to_string();
    let keep = caller.token_hash();
    let removed = state.db.write(move |tx| tokens::delete_other_login_tokens(tx, &id, &keep)).await?;
    log::info!("user {} removed {removed} other login tokens", caller.id());
    Ok(())
}

/// §6.3: answers with the current token and its expiry (`""` for a PAT).
pub async fn logout_other_clients(state: web::Data<AppState>, caller: Caller) -> RcResult<HttpResponse> {
    remove_other_login_tokens(&state, &caller).await?;
    let expires = match (caller.owner.kind, caller.owner.expires_at) {
        (TokenKind::Login, Some(at)) => iso(at),
        _ => String::new(),
    };
    Ok(ok(json!({"token": caller.token.expose(), "tokenExpires": expires})))
}

/// §6.3: `{"success": true}`.
pub async fn remove_other_tokens(state: web::Data<AppState>, caller: Caller) -> RcResult<HttpResponse> {
    remove_other_login_tokens(&state, &caller).await?;
    Ok(ok(json!({})))
}
