//! `POST` and `DELETE /node/api/users/:id/auth-token` (spec/saymon.md §3.3, §3.4).

use super::auth::Principal;
use super::error::{SaymonError, SaymonResult};
use super::extract::user_id;
use super::users::empty;
use crate::accounts::saymon;
use crate::db::roles;
use crate::db::users::{self, UserRecord};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// `manage-users` and an existing target; for minting also the privilege ceiling (no
/// permission on the target that the caller lacks), whose refusals are audited.
async fn target_for_token(state: &AppState, me: &Principal, raw_id: &str, minting: bool) -> SaymonResult<UserRecord> {
    me.require(state, "manage-users").await?;
    let id = user_id(raw_id)?;
    let (caller_id, target_id) = (me.user.id.clone(), id.clone());
    let (target, missing) = state
        .db
        .read(move |c| {
            let Some(target) = users::find_by_id(c, &target_id)? else {
                return Ok((None, None));
            };
            let mine = roles::permissions_of_user(c, &caller_id)?;
            let missing = roles::permissions_of_user(c, &target_id)?.into_iter().find(|p| !mine.contains(p));
            Ok((Some(target), missing))
        })
        .await?;
    let target = target.ok_or_else(|| SaymonError::NotFound(format!("User {id} not found")))?;
    if let (true, Some(p)) = (minting, missing) {
        let reason = format!("the privilege ceiling (target holds '{p}', caller does not)");
        log::warn!("saymon auth-token refused by {reason}: caller {}, target {}", me.user.id, target.id);
        crate::accounts::record_refusal(state, &me.actor(), Some(&target), "saymon", &reason).await?;
        return Err(SaymonError::Forbidden(format!("User {id} holds the permission {p:?}, which you do not")));
    }
    Ok(target)
}

/// §3.3: a new UUID token as a JSON string; it replaces (and kills) the previous one.
pub async fn create(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    let target = target_for_token(&state, &me, &path, true).await?;
    if !target.active {
        return Err(SaymonError::BadRequest(format!("User {} is blocked; unblock it first", target.id)));
    }
    let token = saymon::issue_api_token(&state, &me.actor(), &target).await?;
    log::info!("saymon: {} issued an auth-token for {}", me.user.id, target.id);
    Ok(HttpResponse::Ok().json(token))
}

/// §3.4: revokes the user's token; `authenticationToken` reads `null` afterwards.
pub async fn delete(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    let target = target_for_token(&state, &me, &path, false).await?;
    saymon::revoke_api_token(&state, &me.actor(), &target).await?;
    log::info!("saymon: {} revoked the auth-token of {}", me.user.id, target.id);
    Ok(empty())
}
