//! `POST /api/v1/users.createToken` (spec §8; DESIGN decisions 1 and 2): an admin mints a
//! login token for a user. The wire refusal is always Rocket.Chat's `error-not-authorized`;
//! the log and the audit record say which guard refused.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::{actor, require_two_factor};
use super::session::ok;
use super::target::{self, UserParams};
use crate::accounts;
use crate::auth::two_factor::Options;
use crate::db::audit::Actor;
use crate::db::roles;
use crate::db::users::UserRecord;
use crate::state::AppState;
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

/// Logs and audits which guard refused, then answers the uniform refusal.
async fn refuse(state: &AppState, actor: &Actor, target: Option<&UserRecord>, guard: &str) -> RcError {
    log::warn!(
        "users.createToken refused by {guard}: caller {} ({}), target {}",
        actor.id.as_deref().unwrap_or("-"),
        actor.name.escape_debug(),
        target.map_or("-", |t| t.id.as_str())
    );
    if let Err(e) = accounts::record_refusal(state, actor, target, "login", guard).await {
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
    let actor = actor(&caller, &req);
    let secret_mode = state.config.create_tokens_secret.clone();
    if secret_mode.is_some() {
        // 8.x: body schema {userId, secret} (both non-empty, nothing else), then the 2FA gate.
        for (value, field) in [(&body.user_id, "userId"), (&body.secret, "secret")] {
            match value.as_deref() {
                None => {
                    return Err(RcError::invalid_params(&format!("must have required property '{field}'")));
                }
                Some("") => {
                    return Err(RcError::invalid_params("must NOT have fewer than 1 characters"));
                }
                Some(_) => {}
            }
        }
        if body.username.is_some() || body.user.is_some() {
            return Err(RcError::invalid_params("must NOT have additional properties"));
        }
        require_two_factor(&state, &caller, &req, Options::default()).await?;
    }
    let params = UserParams { user_id: body.user_id, username: body.username, user: body.user };
    let target = target::resolve(&state, &params).await?;
    match &secret_mode {
        None if !state.config.create_tokens_for_users => {
            return Err(refuse(
                &state,
                &actor,
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
                    &actor,
                    Some(&target),
                    "the CREATE_TOKENS_FOR_USERS_SECRET check (secret mismatch)",
                )
                .await);
            }
        }
        None => {}
    }
    let for_self = target.id == caller.id();
    if for_self && caller.is_pat() {
        // A login token minted with a PAT would outlive the PAT's removal (§6 item 40).
        return Err(refuse(&state, &actor, Some(&target), "a personal access token cannot mint a login token").await);
    }
    if !for_self && !caller.has(&state, "user-generate-access-token").await? {
        return Err(refuse(&state, &actor, Some(&target), "the user-generate-access-token permission").await);
    }
    if !for_self {
        if let Some(missing) = permission_above_caller(&state, caller.id(), &target.id).await? {
            let guard = format!("the privilege ceiling (target holds '{missing}', caller does not)");
            return Err(refuse(&state, &actor, Some(&target), &guard).await);
        }
    }
    if !target.active {
        accounts::record_refusal(&state, &actor, Some(&target), "login", "target is deactivated").await?;
        return Err(RcError::meteor(
            "error-user-is-not-activated",
            "User is not activated; reactivate it before minting a token",
        ));
    }
    let (token, _) = accounts::mint_login_token(&state, &actor, &target, "createToken").await?;
    log::info!("users.createToken: {} minted a login token for {}", caller.id(), target.id);
    Ok(ok(json!({"data": {"userId": target.id, "authToken": token.expose()}})))
}

/// DESIGN decision 2: the first permission the target holds that the caller lacks.
async fn permission_above_caller(state: &AppState, caller_id: &str, target_id: &str) -> RcResult<Option<String>> {
    let (caller_id, target_id) = (caller_id.to_string(), target_id.to_string());
    Ok(state
        .db
        .read(move |c| {
            let mine = roles::permissions_of_user(c, &caller_id)?;
            let theirs = roles::permissions_of_user(c, &target_id)?;
            Ok(theirs.into_iter().find(|p| !mine.contains(p)))
        })
        .await?)
}
