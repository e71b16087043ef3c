//! SAYMON credentials: the per-user API token (a UUIDv4, as SAYMON issues) and cookie
//! sessions. Both are stored by SHA-256 and every mint and revocation is audited.

use super::Accounts;
use super::acting::Acting;
use super::cache::AuthEntry;
use super::ceiling;
use super::lifetime::{LifetimeRequest, Scope};
use super::refusal::Refusal;
use super::revocation::{self, Current, Event};
use crate::auth::token::{PlainToken, TokenHash};
use crate::clock::{Millis, iso, now_ms};
use crate::db::Scope as LockScope;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::lifecycle::UseOf;
use crate::db::saymon::ApiTokenOwner;
use crate::db::users::UserRecord;
use crate::db::{saymon, users};
use crate::error::Result;
use std::sync::Arc;

fn event(kind: &'static str, what: &'static str, user: &UserRecord, label: Option<String>, detail: &str) -> AuditEvent {
    AuditEvent {
        event: what,
        subject_id: Some(user.id.clone()),
        subject: Some(user.username.clone()),
        token_kind: Some(kind),
        token_label: label,
        detail: Some(detail.to_string()),
    }
}

/// True for the canonical lowercase-or-uppercase hyphenated UUID form SAYMON uses.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// Mints the API token of the user `target_id` for `acting` (under the privilege ceiling;
/// never for a deactivated user), replacing (and killing) the previous one. `None` if
/// there is no such user. A refusal is audited.
/// With `scope` and a requested lifetime (under `TOKEND_MAX_TOKEN_LIFETIME_DAYS`); a refused
/// lifetime is `Ok(Err(reason))`.
pub async fn issue_api_token(
    state: &Accounts,
    acting: &Acting,
    target_id: &str,
    scope: Scope,
    lifetime: &LifetimeRequest,
) -> Result<std::result::Result<Option<(UserRecord, String)>, String>> {
    let now = now_ms();
    let expires_at = match super::lifetime::expiry(lifetime, state.config.max_token_lifetime_days, now) {
        Ok(at) => at,
        Err(why) => return Ok(Err(why)),
    };
    let token = uuid::Uuid::new_v4().to_string();
    let hash = TokenHash::of(&token);
    let last_part = token[token.len() - 4..].to_string();
    let new = saymon::NewApiToken { last_part: last_part.clone(), created_at: now, expires_at, scope: scope.as_str() };
    let detail = format!("auth-token (scope {}, expires {})", scope.as_str(), expires_at.map_or("never".into(), iso));
    let (guard, id, label) = (acting.clone(), target_id.to_string(), last_part);
    // Under the privilege ceiling (and it replaces the target's token): serialised with
    // grant changes and with the target's own writes.
    let issued = state
        .db
        .write(LockScope::global_over(&id), move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(None);
            };
            ceiling::may_act_on(tx, &guard, &user.id)?;
            if !user.active {
                return Err(Refusal::TargetInactive.into());
            }
            let (actor, now) = (&guard.actor, now_ms());
            if saymon::replace_api_token(tx, &user.id, &hash, &new)? {
                let revoked = event("saymon", "token.revoked", &user, None, "replaced by a new auth-token");
                audit::record(tx, actor, &revoked, now)?;
                revocation::apply_in(tx, actor, &user, Event::SaymonApiTokenEnded, Current::None, None)?;
            }
            audit::record(tx, actor, &event("saymon", "token.created", &user, Some(label), &detail), now)?;
            Ok(Some(user))
        })
        .await;
    // The target is read again only to name it in the audit record of a refusal.
    let target = match &issued {
        Err(crate::error::Error::Refused(_)) => find(state, target_id).await?,
        _ => None,
    };
    let issued = super::tokens::audit_refusal(state, acting, target.as_ref(), "saymon", issued).await?;
    Ok(Ok(issued.map(|user| (user, token))))
}

async fn find(state: &Accounts, id: &str) -> Result<Option<UserRecord>> {
    let id = id.to_string();
    state.db.read(move |c| users::find_by_id(c, &id)).await
}

/// Revokes the API token of the user `target_id` (under the privilege ceiling). `None` if
/// there is no such user, else whether a token existed.
pub async fn revoke_api_token(state: &Accounts, acting: &Acting, target_id: &str) -> Result<Option<bool>> {
    let (acting, id) = (acting.clone(), target_id.to_string());
    state
        .db
        .write(LockScope::global_over(&id), move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(None);
            };
            ceiling::may_act_on(tx, &acting, &user.id)?;
            let existed = saymon::delete_api_token(tx, &user.id)?;
            if existed {
                let revoked = event("saymon", "token.revoked", &user, None, "auth-token deleted");
                audit::record(tx, &acting.actor, &revoked, now_ms())?;
                revocation::apply_in(tx, &acting.actor, &user, Event::SaymonApiTokenEnded, Current::None, None)?;
            }
            Ok(Some(existed))
        })
        .await
}

/// The active owner of a presented API token, to open a session with it, and the instant
/// the token expires (`None`: never), which the session must not outlive (`open_session`).
/// Opening a session changes state, so a read-only token is refused: a session would
/// outgrow its scope, as one outliving the token would outgrow its lifetime.
pub async fn user_by_api_token(state: &Accounts, presented: &str) -> Result<Option<(UserRecord, Option<Millis>)>> {
    let Some((entry, _)) = resolve_api_token(state, presented).await? else {
        return Ok(None);
    };
    super::lifetime::admit(entry.owner.read_only, true)?;
    Ok(Some((entry.owner.user.as_ref().clone(), entry.owner.expires_at)))
}

/// The cached entry of a presented API token's active owner: served from memory until the
/// next committed write (which may have revoked the token or deactivated the user), and
/// never past the token's expiry.
pub async fn api_token_entry(state: &Accounts, presented: &str) -> Result<Option<Arc<AuthEntry<ApiTokenOwner>>>> {
    Ok(resolve_api_token(state, presented).await?.map(|(entry, _)| entry))
}

/// A request authenticated by `?api-token=`: resolved, held to its scope on a route that
/// changes state (`lifetime::admit`), its use noted (`last_use`).
pub async fn authenticate_api_token_request(
    state: &Accounts,
    presented: &str,
    route_changes_state: bool,
    addr: impl FnOnce() -> Option<String>,
) -> Result<Option<Arc<AuthEntry<ApiTokenOwner>>>> {
    let Some((entry, hash)) = resolve_api_token(state, presented).await? else {
        return Ok(None);
    };
    super::lifetime::admit(entry.owner.read_only, route_changes_state)?;
    state.last_use.note(UseOf::SaymonApiToken, hash.as_bytes(), addr);
    Ok(Some(entry))
}

async fn resolve_api_token(
    state: &Accounts,
    presented: &str,
) -> Result<Option<(Arc<AuthEntry<ApiTokenOwner>>, TokenHash)>> {
    if !is_uuid(presented) {
        return Ok(None);
    }
    let hash = TokenHash::of(&presented.to_ascii_lowercase());
    let now = now_ms();
    let unexpired = |entry: &AuthEntry<ApiTokenOwner>| entry.owner.expires_at.is_none_or(|at| at > now);
    let trusted = super::cache::trusted(state.db.feed());
    if let Some(entry) = state.saymon_auth_cache.get(hash.as_bytes()).filter(|_| trusted) {
        crate::metrics::METRICS.cache_lookup("saymon", true);
        return Ok(unexpired(&entry).then_some((entry, hash)));
    }
    crate::metrics::METRICS.cache_lookup("saymon", false);
    // Noted before the lookup: an eviction that comes in meanwhile keeps its result uncached.
    let epoch = state.saymon_auth_cache.epoch();
    let lookup = hash;
    let owner = state.db.read(move |c| saymon::user_by_api_token(c, &lookup, now)).await?;
    Ok(owner.map(|owner| {
        let entry = match trusted {
            true => state.saymon_auth_cache.put(*hash.as_bytes(), epoch, owner),
            false => AuthEntry::uncached(owner),
        };
        (entry, hash)
    }))
}

/// A session just opened: the id for the `sid` cookie and, with CSRF on, the `csrf` value.
pub struct NewSession {
    pub sid: String,
    pub csrf: Option<PlainToken>,
}

/// Opens a session for `user`, remembering the client (address, user agent) for their list.
/// It lives as long as a login token, and never past `not_after` (the expiry of the API
/// token it was opened with: an expiring key must not be traded for a 90-day cookie).
pub async fn open_session(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    how: &'static str,
    not_after: Option<Millis>,
) -> Result<NewSession> {
    let sid = uuid::Uuid::new_v4().to_string();
    let csrf = state.config.saymon_csrf.then(PlainToken::generate);
    let (hash, csrf_hash) = (TokenHash::of(&sid), csrf.as_ref().map(PlainToken::hash));
    let lifetime = state.config.login_token_lifetime().as_millis() as Millis;
    let cap = state.config.max_login_tokens;
    let label = sid[sid.len() - 4..].to_string();
    let (actor, user) = (acting.actor.clone(), user.clone());
    let client = saymon::SessionClient { user_agent: acting.user_agent.clone(), addr: actor.client_addr.clone() };
    state
        .db
        .write(LockScope::user(&user.id), move |tx| {
            // The user's lock orders the inserts, which the cap evicts by (not by this stamp).
            let now = now_ms();
            let ends = not_after.map_or(now + lifetime, |at| at.min(now + lifetime));
            saymon::insert_session(tx, &user.id, &hash, csrf_hash.as_ref(), (now, ends), cap, &client)?;
            audit::record(tx, &actor, &event("session", "token.created", &user, Some(label), how), now)
        })
        .await?;
    Ok(NewSession { sid, csrf })
}

/// A valid session's owner and its CSRF hash.
pub async fn session(state: &Accounts, sid: &str) -> Result<Option<(UserRecord, Option<Vec<u8>>)>> {
    Ok(resolve_session(state, sid).await?.map(|(found, _)| found))
}

/// A request authenticated by the `sid` cookie: its use is noted (`last_use`).
pub async fn authenticate_session_request(
    state: &Accounts,
    sid: &str,
    addr: impl FnOnce() -> Option<String>,
) -> Result<Option<(UserRecord, Option<Vec<u8>>)>> {
    let Some((found, hash)) = resolve_session(state, sid).await? else {
        return Ok(None);
    };
    state.last_use.note(UseOf::SaymonSession, hash.as_bytes(), addr);
    Ok(Some(found))
}

type SessionOwner = (UserRecord, Option<Vec<u8>>);

async fn resolve_session(state: &Accounts, sid: &str) -> Result<Option<(SessionOwner, TokenHash)>> {
    if !is_uuid(sid) {
        return Ok(None);
    }
    let hash = TokenHash::of(&sid.to_ascii_lowercase());
    let lookup = hash;
    let found = state.db.read(move |c| saymon::session(c, &lookup, now_ms())).await?;
    Ok(found.map(|found| (found, hash)))
}

/// Ends a session if it exists (logging out twice is not an error).
pub async fn close_session(state: &Accounts, actor: &Actor, user: &UserRecord, sid: &str) -> Result<()> {
    let hash = TokenHash::of(&sid.to_ascii_lowercase());
    let (actor, user) = (actor.clone(), user.clone());
    state
        .db
        .write(LockScope::user(&user.id), move |tx| {
            if saymon::delete_session(tx, &hash)?.is_some() {
                audit::record(
                    tx,
                    &actor,
                    &event("session", "token.revoked", &user, None, "session deleted"),
                    now_ms(),
                )?;
            }
            Ok(())
        })
        .await
}
