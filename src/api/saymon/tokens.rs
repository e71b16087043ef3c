//! `POST` and `DELETE /node/api/users/:id/auth-token` (spec/saymon.md §3.3, §3.4). Both
//! need `manage-users`; the core applies the privilege ceiling and audits its refusals.

use super::auth::Principal;
use super::error::{SaymonError, SaymonResult};
use super::extract::SaymonBody;
use super::extract::user_id;
use super::users::empty;
use crate::accounts::lifetime::{LifetimeRequest, Scope};
use crate::accounts::saymon;
use crate::api::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

fn not_found(id: &str) -> SaymonError {
    SaymonError::NotFound(format!("User {id} not found"))
}

/// tokend's optional body (SAYMON sends none): the token's scope and lifetime.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenBody {
    scope: Option<String>,
    expires_in_days: Option<i64>,
    expires_at: Option<String>,
}

/// §3.3: a new UUID token as a JSON string; it replaces (and kills) the previous one.
pub async fn create(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<String>,
    SaymonBody(body): SaymonBody<TokenBody>,
) -> SaymonResult<HttpResponse> {
    me.require(&state, "manage-users").await?;
    let id = user_id(&path)?;
    let scope = Scope::parse(body.scope.as_deref()).map_err(SaymonError::BadRequest)?;
    let lifetime = LifetimeRequest { days: body.expires_in_days, at: body.expires_at };
    let (target, token) = saymon::issue_api_token(&state, &me.acting(), &id, scope, &lifetime)
        .await?
        .map_err(SaymonError::BadRequest)?
        .ok_or_else(|| not_found(&id))?;
    log::info!("saymon: {} issued an auth-token for {}", me.user.id, target.id);
    Ok(HttpResponse::Ok().json(token))
}

/// §3.4: revokes the user's token; `authenticationToken` reads `null` afterwards.
pub async fn delete(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    me.require(&state, "manage-users").await?;
    let id = user_id(&path)?;
    saymon::revoke_api_token(&state, &me.acting(), &id).await?.ok_or_else(|| not_found(&id))?;
    log::info!("saymon: {} revoked the auth-token of {id}", me.user.id);
    Ok(empty())
}
