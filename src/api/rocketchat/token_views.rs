//! Every credential in view (issue 17, beyond Rocket.Chat's free edition):
//! - `GET sessions/list` and `POST sessions/logout.me`: Rocket.Chat's device-management route
//!   names (an enterprise feature there): one's own login sessions and SAYMON sessions, with
//!   who minted each, and ending one of them.
//! - `GET tokend.userTokens` and `POST tokend.revokeToken`: an administrator's view of any
//!   user's sessions, PATs and SAYMON API token (never a secret) and their revocation, with
//!   `logout-other-user` for other accounts and under the privilege ceiling.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{RcBody, RcQuery};
use super::session::ok;
use super::target::{self, UserParams};
use super::users::pagination;
use crate::accounts::sessions::{self, Inventory, Target, parse_session_id, session_id};
use crate::accounts::{PatRecord, SessionRow};
use crate::api::state::AppState;
use crate::clock::iso;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// The permission to see and revoke another user's credentials (Rocket.Chat's permission
/// for logging another user out, which is what revoking amounts to).
const ADMIN_PERMISSION: &str = "logout-other-user";

pub fn session_document(user_id: &str, s: &SessionRow) -> Value {
    let id = session_id(s.kind, s.id);
    json!({
        "_id": id, "sessionId": id, "userId": user_id, "kind": s.kind.as_str(),
        "loginAt": iso(s.created_at), "expiresAt": s.expires_at.map(iso),
        "lastUsedAt": s.last_used_at.map(iso), "ip": s.last_used_addr, "userAgent": s.user_agent,
        "createdBy": s.created_by.as_ref().map(|name| json!({"_id": s.created_by_id, "username": name})),
        "lastTokenPart": s.last_part, "current": s.current,
    })
}

pub fn pat_document(p: &PatRecord) -> Value {
    json!({
        "name": p.name, "createdAt": iso(p.created_at), "lastTokenPart": p.last_part,
        "bypassTwoFactor": p.bypass_2fa, "scope": p.scope, "expiresAt": p.expires_at.map(iso),
        "lastUsedAt": p.last_used_at.map(iso), "lastUsedAddress": p.last_used_addr,
        "previousValueValidUntil": p.previous_valid_until.map(iso),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    count: Option<String>,
    offset: Option<String>,
}

/// `GET /api/v1/sessions/list`: the caller's sessions, newest first, paginated like
/// Rocket.Chat's (`count`, `offset`; `total`).
pub async fn list_mine(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<PageQuery>,
) -> RcResult<HttpResponse> {
    let (offset, limit) = pagination(q.count.as_deref(), q.offset.as_deref())?;
    let all = sessions::list_own(&state, caller.id(), Some(caller.token_hash())).await?;
    let total = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)))
        .map(|s| session_document(caller.id(), s))
        .collect();
    Ok(ok(json!({"sessions": page, "count": page.len(), "offset": offset, "total": total})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionBody {
    session_id: String,
}

fn unknown_session() -> RcError {
    RcError::meteor("error-invalid-session", "Session not found")
}

/// `POST /api/v1/sessions/logout.me {sessionId}`: ends one of the caller's own sessions
/// (the current one too, as a logout).
pub async fn logout_mine(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<SessionBody>,
) -> RcResult<HttpResponse> {
    let session = parse_session_id(&body.session_id).ok_or_else(unknown_session)?;
    if !sessions::end_own(&state, &caller.acting(&req), caller.user(), session).await? {
        return Err(unknown_session());
    }
    Ok(ok(json!({"sessionId": body.session_id})))
}

async fn require_admin_unless_self(state: &AppState, caller: &Caller, target_id: &str) -> RcResult<()> {
    if target_id == caller.id() { Ok(()) } else { caller.require(state, ADMIN_PERMISSION).await }
}

fn inventory_document(inv: &Inventory) -> Value {
    let api_token = inv.api_token.as_ref().map(|t| {
        json!({
            "lastTokenPart": t.last_part, "createdAt": iso(t.created_at), "expiresAt": t.expires_at.map(iso),
            "scope": t.scope, "lastUsedAt": t.last_used_at.map(iso), "lastUsedAddress": t.last_used_addr,
        })
    });
    json!({
        "user": {"_id": inv.user.id, "username": inv.user.username},
        "sessions": inv.sessions.iter().map(|s| session_document(&inv.user.id, s)).collect::<Vec<_>>(),
        "personalAccessTokens": inv.pats.iter().map(pat_document).collect::<Vec<_>>(),
        "saymonApiToken": api_token,
    })
}

/// `GET /api/v1/tokend.userTokens?userId=|username=`: one user's credentials.
pub async fn user_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcQuery(params): RcQuery<UserParams>,
) -> RcResult<HttpResponse> {
    let target = target::resolve(&state, &params).await?;
    require_admin_unless_self(&state, &caller, &target.id).await?;
    let inventory =
        sessions::inventory_of(&state, &caller.acting(&req), &target.id).await?.ok_or_else(target::user_not_found)?;
    Ok(ok(inventory_document(&inventory)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RevokeBody {
    user_id: Option<String>,
    username: Option<String>,
    session_id: Option<String>,
    token_name: Option<String>,
    saymon_api_token: Option<bool>,
    all: Option<bool>,
}

/// `POST /api/v1/tokend.revokeToken`: revokes exactly one of a session (`sessionId`), a PAT
/// (`tokenName`), the SAYMON API token (`saymonApiToken: true`) or everything (`all: true`).
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<RevokeBody>,
) -> RcResult<HttpResponse> {
    let params = UserParams { user_id: body.user_id, username: body.username, user: None };
    let what = match (body.session_id, body.token_name, body.saymon_api_token, body.all) {
        (Some(id), None, None | Some(false), None | Some(false)) => {
            let (kind, row) = parse_session_id(&id).ok_or_else(unknown_session)?;
            Target::Session(kind, row)
        }
        (None, Some(name), None | Some(false), None | Some(false)) if !name.is_empty() => Target::Pat(name),
        (None, None, Some(true), None | Some(false)) => Target::SaymonApiToken,
        (None, None, None | Some(false), Some(true)) => Target::All,
        _ => {
            return Err(RcError::invalid_params(
                "Give exactly one of sessionId, tokenName, saymonApiToken: true or all: true",
            ));
        }
    };
    let target = target::resolve(&state, &params).await?;
    require_admin_unless_self(&state, &caller, &target.id).await?;
    match sessions::revoke_for(&state, &caller.acting(&req), &target.id, what).await? {
        None => Err(target::user_not_found()),
        Some(false) => Err(RcError::meteor("error-token-does-not-exists", "Token does not exist")),
        Some(true) => {
            log::info!("tokend.revokeToken: {} revoked a credential of {}", caller.id(), target.id);
            Ok(ok(json!({})))
        }
    }
}
