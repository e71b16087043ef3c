//! `POST /api/v1/users.createToken` (spec §8; DESIGN decisions 1 and 2): an admin mints a
//! login token for a user. The wire refusal is always Rocket.Chat's `error-not-authorized`;
//! the log and the audit record say which guard refused.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::session::ok;
use super::target::{self, UserParams};
use crate::accounts::{self, Acting, Refusal, UserRecord};
use crate::api::state::AppState;
use crate::error::Error;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateTokenBody {
    user_id: Option<String>,
    username: Option<String>,
    user: Option<String>,
    /// 8.x mode: must equal `CREATE_TOKENS_FOR_USERS_SECRET`. 7.x mode: accepted, ignored.
    secret: Option<String>,
}

fn not_authorized() -> RcError {
    RcError::meteor("error-not-authorized", "Not authorized")
}

/// Logs and audits which guard of this route refused, then answers the uniform refusal.
async fn refuse(state: &AppState, acting: &Acting, target: Option<&UserRecord>, guard: &str) -> RcError {
    log::warn!(
        "users.createToken refused by {guard}: caller {} ({}), target {}",
        acting.user_id().unwrap_or("-"),
        acting.actor.name.escape_debug(),
        target.map_or("-", |t| t.id.as_str())
    );
    if let Err(e) = accounts::record_refusal(state, &acting.actor, target, "login", guard).await {
        return e.into();
    }
    not_authorized()
}

pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<CreateTokenBody>,
) -> RcResult<HttpResponse> {
    let acting = caller.acting(&req);
    let secret_mode = state.config.create_tokens_secret.clone();
    if secret_mode.is_some() {
        // 8.x: body schema {userId, secret} (both non-empty, nothing else), checked by the
        // typed router (`error-invalid-params`, no suffix). 8.x declares no
        // `twoFactorRequired` here: the secret is the guard (errata 2).
        for (value, field) in [(&body.user_id, "userId"), (&body.secret, "secret")] {
            match value.as_deref() {
                None => return Err(RcError::typed_invalid_params(&format!("must have required property '{field}'"))),
                Some("") => return Err(RcError::typed_invalid_params("must NOT have fewer than 1 characters")),
                Some(_) => {}
            }
        }
        if body.username.is_some() || body.user.is_some() {
            return Err(RcError::typed_invalid_params("must NOT have additional properties"));
        }
    }
    let params = UserParams { user_id: body.user_id, username: body.username, user: body.user };
    let target = target::resolve(&state, &params).await?;
    match &secret_mode {
        None if !state.config.create_tokens_for_users => {
            return Err(refuse(
                &state,
                &acting,
                Some(&target),
                "the CREATE_TOKENS_FOR_USERS switch (not 'yes' or 'true')",
            )
            .await);
        }
        Some(expected) => {
            let given = body.secret.unwrap_or_default();
            if !bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
                return Err(refuse(
                    &state,
                    &acting,
                    Some(&target),
                    "the CREATE_TOKENS_FOR_USERS_SECRET check (secret mismatch)",
                )
                .await);
            }
        }
        None => {}
    }
    if target.id != caller.id() && !caller.has(&state, "user-generate-access-token").await? {
        return Err(refuse(&state, &acting, Some(&target), "the user-generate-access-token permission").await);
    }
    // The core applies (and audits) the rest: no PAT mints for itself, the privilege
    // ceiling for anyone else, no token for a deactivated user.
    let (token, _) = match accounts::mint_login_token(&state, &acting, &target, "createToken").await {
        Ok(minted) => minted,
        Err(Error::Refused(Refusal::TargetInactive)) => return Err(Refusal::TargetInactive.into()),
        Err(Error::Refused(_)) => return Err(not_authorized()),
        Err(e) => return Err(e.into()),
    };
    log::info!("users.createToken: {} minted a login token for {}", caller.id(), target.id);
    Ok(ok(json!({"data": {"userId": target.id, "authToken": token.expose()}})))
}
