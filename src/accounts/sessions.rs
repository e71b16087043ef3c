//! Every credential in view (issue 17): a user's own sessions (login tokens and SAYMON
//! sessions, with who minted each) and ending one; an administrator's view of any user's
//! sessions, PATs and SAYMON API token (never a secret) and revoking one or all of them,
//! under the privilege ceiling. Every revocation is audited in its own transaction.

use super::acting::Acting;
use super::{Accounts, ceiling, revoke, saymon as saymon_ops};
use crate::auth::token::TokenHash;
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::audit::{self, AuditEvent};
use crate::db::lifecycle::{self, ApiTokenInfo, SessionKind, SessionRow};
use crate::db::pats::{self, PatRecord};
use crate::db::users::{self, UserRecord};
use crate::error::Result;

/// A session's public id: its kind and row number, e.g. `login-12` or `saymon-3`.
pub fn session_id(kind: SessionKind, id: i64) -> String {
    format!("{}-{id}", kind.as_str())
}

/// The kind and row of a public session id; `None` for anything else.
pub fn parse_session_id(text: &str) -> Option<(SessionKind, i64)> {
    let (kind, id) = text.split_once('-')?;
    let kind = match kind {
        "login" => SessionKind::Login,
        "saymon" => SessionKind::Saymon,
        _ => return None,
    };
    let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
    Some((kind, id)).filter(|_| session_id(kind, id) == text)
}

/// The user's live sessions, newest first (queued last uses written first); `current` marks
/// the one the request came with.
pub async fn list_own(state: &Accounts, user_id: &str, current: Option<TokenHash>) -> Result<Vec<SessionRow>> {
    super::last_use::flush(state).await?;
    let user_id = user_id.to_string();
    state
        .db
        .read(move |c| lifecycle::sessions_of(c, &user_id, now_ms(), current.as_ref().map(|h| h.as_bytes().as_slice())))
        .await
}

fn revoked(user: &UserRecord, kind: &'static str, label: String, detail: &str) -> AuditEvent {
    AuditEvent {
        event: "token.revoked",
        subject_id: Some(user.id.clone()),
        subject: Some(user.username.clone()),
        token_kind: Some(kind),
        token_label: Some(label),
        detail: Some(detail.to_string()),
    }
}

fn audit_kind(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Login => "login",
        SessionKind::Saymon => "session",
    }
}

/// Ends one of the acting user's own sessions; false if they have no such session.
pub async fn end_own(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    session: (SessionKind, i64),
) -> Result<bool> {
    let (actor, user) = (acting.actor.clone(), user.clone());
    state
        .db
        .write(Scope::user(&user.id), move |tx| {
            let (kind, id) = session;
            if !lifecycle::delete_session(tx, &user.id, kind, id)? {
                return Ok(false);
            }
            let event = revoked(&user, audit_kind(kind), session_id(kind, id), "sessions/logout.me");
            audit::record(tx, &actor, &event, now_ms())?;
            Ok(true)
        })
        .await
}

/// One user's credentials as an administrator sees them.
#[derive(Clone, Debug)]
pub struct Inventory {
    pub user: UserRecord,
    pub sessions: Vec<SessionRow>,
    pub pats: Vec<PatRecord>,
    pub api_token: Option<ApiTokenInfo>,
}

/// The credentials of `target_id` (`None`: no such user), under the privilege ceiling: an
/// account holding a permission the caller lacks is not shown to them.
pub async fn inventory_of(state: &Accounts, acting: &Acting, target_id: &str) -> Result<Option<Inventory>> {
    super::last_use::flush(state).await?;
    let (acting, id) = (acting.clone(), target_id.to_string());
    state
        .db
        .read(move |c| {
            let Some(user) = users::find_by_id(c, &id)? else {
                return Ok(None);
            };
            ceiling::may_act_on(c, &acting, &user.id)?;
            let now = now_ms();
            let sessions = lifecycle::sessions_of(c, &user.id, now, None)?;
            let pats = pats::list(c, &user.id, now)?;
            let api_token = lifecycle::api_token_of(c, &user.id)?;
            Ok(Some(Inventory { user, sessions, pats, api_token }))
        })
        .await
}

/// What an administrator revokes of a user.
#[derive(Clone, Debug)]
pub enum Target {
    Session(SessionKind, i64),
    Pat(String),
    SaymonApiToken,
    /// Every credential of the user (as `users.logout` by an administrator).
    All,
}

/// Revokes `what` of the user `target_id` under the privilege ceiling. `None`: no such
/// user; `Some(false)`: no such credential.
pub async fn revoke_for(state: &Accounts, acting: &Acting, target_id: &str, what: Target) -> Result<Option<bool>> {
    match what {
        Target::All => Ok(revoke::log_out_user(state, acting, target_id).await?.then_some(true)),
        Target::SaymonApiToken => saymon_ops::revoke_api_token(state, acting, target_id).await,
        Target::Session(..) | Target::Pat(_) => revoke_one(state, acting, target_id, what).await,
    }
}

async fn revoke_one(state: &Accounts, acting: &Acting, target_id: &str, what: Target) -> Result<Option<bool>> {
    let (acting, id) = (acting.clone(), target_id.to_string());
    state
        .db
        .write(Scope::global_over(&id), move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(None);
            };
            ceiling::may_act_on(tx, &acting, &user.id)?;
            let event = match &what {
                Target::Session(kind, row) if lifecycle::delete_session(tx, &user.id, *kind, *row)? => {
                    revoked(&user, audit_kind(*kind), session_id(*kind, *row), "revoked by an administrator")
                }
                Target::Pat(name) if pats::remove(tx, &user.id, name)? => {
                    revoked(&user, "pat", name.clone(), "revoked by an administrator")
                }
                _ => return Ok(Some(false)),
            };
            audit::record(tx, &acting.actor, &event, now_ms())?;
            Ok(Some(true))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_round_trip_and_nothing_else_parses() {
        assert_eq!(parse_session_id("login-12"), Some((SessionKind::Login, 12)));
        assert_eq!(parse_session_id(&session_id(SessionKind::Saymon, 3)), Some((SessionKind::Saymon, 3)));
        for bad in [
            "",
            "login",
            "login-",
            "login-0",
            "login--1",
            "login-01",
            "pat-1",
            "login-1x",
            "login-99999999999999999999",
        ] {
            assert_eq!(parse_session_id(bad), None, "{bad}");
        }
    }
}
