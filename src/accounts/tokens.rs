//! Token resolution and minting shared by every dialect: the hot path of authenticated
//! requests, and login tokens (logins, `users.createToken`, the command line).

use super::acting::Acting;
use super::cache::{self, AuthEntry};
use super::refusal::Refusal;
use super::{Accounts, ceiling};
use crate::auth::token::{self, PlainToken, TokenHash};
use crate::clock::{Millis, now_ms};
use crate::db::Scope;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::lifecycle::UseOf;
use crate::db::users::UserRecord;
use crate::db::{tokens, users as user_rows};
use crate::error::{Error, Result};
use crate::metrics::METRICS;
use std::sync::Arc;

/// Resolves a presented token to its active owner; `user_id`, when given, must match.
pub async fn authenticate_token(
    state: &Accounts,
    user_id: Option<&str>,
    presented: &str,
) -> Result<Option<Arc<AuthEntry>>> {
    Ok(resolve(state, user_id, presented).await?.map(|(entry, _)| entry))
}

/// A request's credential: resolved as `authenticate_token` does, then held to its scope (a
/// read-only token is refused where the route changes state: `lifetime::admit`) and its use
/// noted (`last_use`, at most once a minute; `addr` is asked for only then).
pub async fn authenticate_request(
    state: &Accounts,
    user_id: Option<&str>,
    presented: &str,
    route_changes_state: bool,
    addr: impl FnOnce() -> Option<String>,
) -> Result<Option<Arc<AuthEntry>>> {
    let Some((entry, hash)) = resolve(state, user_id, presented).await? else {
        return Ok(None);
    };
    super::lifetime::admit(entry.owner.read_only, route_changes_state)?;
    state.last_use.note(UseOf::Token, hash.as_bytes(), addr);
    Ok(Some(entry))
}

/// The cache (never an expired or foreign entry), else the store.
async fn resolve(
    state: &Accounts,
    user_id: Option<&str>,
    presented: &str,
) -> Result<Option<(Arc<AuthEntry>, TokenHash)>> {
    if !token::is_plausible(presented) {
        return Ok(None);
    }
    let hash = TokenHash::of(presented);
    let now = now_ms();
    let usable = |entry: &AuthEntry| {
        user_id.is_none_or(|id| id == entry.owner.user.id) && entry.owner.expires_at.is_none_or(|at| at > now)
    };
    let trusted = cache::trusted(state.db.feed());
    if let Some(entry) = state.auth_cache.get(hash.as_bytes()).filter(|_| trusted) {
        METRICS.cache_lookup("rocketchat", true);
        return Ok(usable(&entry).then_some((entry, hash)));
    }
    METRICS.cache_lookup("rocketchat", false);
    // Noted before the lookup: an eviction that comes in meanwhile keeps its result uncached.
    let epoch = state.auth_cache.epoch();
    // Cached without the user-id condition, which is checked above on every use.
    let lookup = hash;
    let owner = state.db.read(move |conn| tokens::authenticate(conn, None, &lookup, now)).await?;
    let entry = match owner {
        Some(o) if trusted => state.auth_cache.put(*hash.as_bytes(), epoch, o),
        Some(o) => AuthEntry::uncached(o),
        None => return Ok(None),
    };
    Ok(usable(&entry).then_some((entry, hash)))
}

/// Mints a login token for `subject` on behalf of `acting` (a login, `users.createToken`,
/// the command line): for oneself only with a session (never a PAT), for another account
/// only under the privilege ceiling, never for a deactivated account. Stored with the
/// per-user cap applied and audited, in one transaction; a refusal is audited too.
pub async fn mint_login_token(
    state: &Accounts,
    acting: &Acting,
    subject: &UserRecord,
    detail: &'static str,
) -> Result<(PlainToken, Millis)> {
    let token = PlainToken::generate();
    let hash = token.hash();
    let lifetime = state.config.login_token_lifetime().as_millis() as Millis;
    let cap = state.config.max_login_tokens;
    let last_part = token.last_part();
    let event = AuditEvent {
        event: "token.created",
        subject_id: Some(subject.id.clone()),
        subject: Some(subject.username.clone()),
        token_kind: Some("login"),
        token_label: Some(token.last_part()),
        detail: Some(detail.to_string()),
    };
    let (guard, subject_id, is_login) = (acting.clone(), subject.id.clone(), detail == "login");
    // Shown to the owner in their sessions: who minted it and, for their own login, the client.
    let own = acting.acts_on_self(&subject.id);
    let from = tokens::Provenance {
        created_by_id: acting.user_id().map(str::to_string),
        created_by: acting.actor.name.clone(),
        user_agent: acting.user_agent.clone().filter(|_| own),
        client_addr: acting.client_addr().map(str::to_string).filter(|_| own),
    };
    // The cap of login tokens is the subject's own; a mint for someone else also depends on
    // the privilege ceiling, so it is serialised with grant changes too.
    let scope = if own { Scope::user(&subject_id) } else { Scope::global_over(&subject_id) };
    let minted = state
        .db
        .write(scope, move |tx| {
            if guard.acts_on_self(&subject_id) {
                guard.require_session()?;
            } else {
                ceiling::may_act_on(tx, &guard, &subject_id)?;
            }
            if user_rows::find_active_by_id(tx, &subject_id)?.is_none() {
                return Err(Refusal::TargetInactive.into());
            }
            // Stamped inside the write lock. The cap evicts by insertion order, not by this
            // stamp: nodes' clocks differ (`tokens::insert_login_token`).
            let now = now_ms();
            let expires_at = now + lifetime;
            tokens::insert_login_token(tx, &subject_id, &hash, &last_part, now, expires_at, cap, &from)?;
            if is_login {
                user_rows::touch_last_login(tx, &subject_id, now)?;
            }
            audit::record(tx, &guard.actor, &event, now)?;
            Ok(expires_at)
        })
        .await;
    let expires_at = audit_refusal(state, acting, Some(subject), "login", minted).await?;
    Ok((token, expires_at))
}

/// Passes `result` on; when a rule refused a mint, records the refusal and the rule first.
pub async fn audit_refusal<T>(
    state: &Accounts,
    acting: &Acting,
    subject: Option<&UserRecord>,
    kind: &'static str,
    result: Result<T>,
) -> Result<T> {
    if let Err(Error::Refused(refusal)) = &result {
        let rule = refusal.rule();
        log::warn!(
            "token mint refused by {rule}: caller {}, target {}",
            acting.user_id().unwrap_or("-"),
            subject.map_or("-", |s| s.id.as_str())
        );
        record_refusal(state, &acting.actor, subject, kind, &rule).await?;
    }
    result
}

/// Records a refused attempt to mint a token (the refusal itself is the caller's to answer).
pub async fn record_refusal(
    state: &Accounts,
    actor: &Actor,
    subject: Option<&UserRecord>,
    kind: &'static str,
    reason: &str,
) -> Result<()> {
    let event = AuditEvent {
        event: "token.refused",
        subject_id: subject.map(|s| s.id.clone()),
        subject: subject.map(|s| s.username.clone()),
        token_kind: Some(kind),
        token_label: None,
        detail: Some(reason.to_string()),
    };
    let actor = actor.clone();
    state.db.write(Scope::Blind, move |tx| audit::record(tx, &actor, &event, now_ms())).await
}
