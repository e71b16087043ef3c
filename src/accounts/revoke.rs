//! Revoking Rocket.Chat tokens, each revocation audited in its own transaction.

use crate::auth::token::TokenHash;
use crate::clock::now_ms;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::tokens::{self, TokenKind};
use crate::db::users::{self, UserRecord};
use crate::error::Result;
use crate::state::AppState;

/// The audit record of a revocation of `subject`'s tokens of `kind`.
pub(crate) fn revoked(subject: &UserRecord, kind: &'static str, detail: String) -> AuditEvent {
    AuditEvent {
        event: "token.revoked",
        subject_id: Some(subject.id.clone()),
        subject: Some(subject.username.clone()),
        token_kind: Some(kind),
        token_label: None,
        detail: Some(detail),
    }
}

/// Logout: removes the one token that authenticated the request.
pub async fn revoke_token(
    state: &AppState,
    actor: &Actor,
    owner: &UserRecord,
    hash: TokenHash,
    kind: TokenKind,
) -> Result<()> {
    let kind = if kind == TokenKind::Pat { "pat" } else { "login" };
    let event = revoked(owner, kind, "logout".into());
    let (actor, id) = (actor.clone(), owner.id.clone());
    state
        .db
        .write(move |tx| {
            if tokens::delete_by_hash(tx, &id, &hash)? {
                audit::record(tx, &actor, &event, now_ms())?;
            }
            Ok(())
        })
        .await
}

/// Admin `users.logout`: every credential of the user in both dialects, PATs included.
/// False if no such user.
pub async fn revoke_all(state: &AppState, actor: &Actor, user_id: &str, detail: &'static str) -> Result<bool> {
    let (actor, id) = (actor.clone(), user_id.to_string());
    state
        .db
        .write(move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(false);
            };
            let n = users::revoke_everything(tx, &id)?;
            audit::record(tx, &actor, &revoked(&user, "all", format!("{detail}: {n} token(s)")), now_ms())?;
            Ok(true)
        })
        .await
}

/// In the caller's transaction: removes `owner`'s login tokens except `keep` (all of them
/// without one; PATs survive) and audits it as `why`. Returns how many were removed.
pub(crate) fn revoke_other_login_tokens_in(
    tx: &rusqlite::Connection,
    actor: &Actor,
    owner: &UserRecord,
    keep: Option<TokenHash>,
    why: &str,
) -> Result<usize> {
    let n = match keep {
        Some(keep) => tokens::delete_other_login_tokens(tx, &owner.id, &keep)?,
        None => tokens::delete_login_tokens_of(tx, &owner.id)?,
    };
    if n > 0 {
        audit::record(tx, actor, &revoked(owner, "login", format!("{why}: {n} token(s)")), now_ms())?;
    }
    Ok(n)
}

/// The user's login tokens except the one in use (PATs survive).
pub async fn revoke_other_login_tokens(
    state: &AppState,
    actor: &Actor,
    owner: &UserRecord,
    keep: TokenHash,
    detail: &'static str,
) -> Result<usize> {
    let (actor, owner) = (actor.clone(), owner.clone());
    state.db.write(move |tx| revoke_other_login_tokens_in(tx, &actor, &owner, Some(keep), detail)).await
}
