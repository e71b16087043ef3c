//! Personal access tokens: generate, regenerate, remove, list — each change audited in
//! the same transaction as the change itself.

use super::Accounts;
use super::acting::Acting;
use super::lifetime::{self, LifetimeRequest, Scope};
use super::two_factor::Passed;
use crate::auth::token::{PlainToken, TokenHash};
use crate::clock::{Millis, iso, now_ms};
use crate::db::Scope as LockScope;
use crate::db::audit::{self, AuditEvent};
use crate::db::pats::{self, PatRecord};
use crate::db::users::UserRecord;
use crate::error::Result;

/// Longest accepted token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, PartialEq, Eq)]
pub enum PatError {
    AlreadyExists,
    DoesNotExist,
    TooMany {
        max: u32,
    },
    /// The requested lifetime is refused (the reason, for the client).
    BadLifetime(String),
}

/// A usable name: 1..=100 characters, no control characters, not only spaces.
pub fn is_valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= MAX_NAME_CHARS && !name.chars().any(char::is_control)
}

fn event(kind: &'static str, user: &UserRecord, name: &str, detail: &str) -> AuditEvent {
    AuditEvent {
        event: kind,
        subject_id: Some(user.id.clone()),
        subject: Some(user.username.clone()),
        token_kind: Some("pat"),
        token_label: Some(name.to_string()),
        detail: Some(detail.to_string()),
    }
}

/// What a new PAT may be asked to be, beyond its name.
#[derive(Clone, Debug, Default)]
pub struct PatOptions {
    pub bypass_2fa: bool,
    pub scope: Scope,
    pub lifetime: LifetimeRequest,
}

/// Creates a PAT named `name` for the acting user. Duplicate names and the per-user cap are
/// checked inside the write transaction, so concurrent requests cannot both pass.
pub async fn generate(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    name: &str,
    options: &PatOptions,
    _gate: &Passed,
) -> Result<Result<PlainToken, PatError>> {
    acting.require_session()?;
    let now = now_ms();
    let expires_at = match lifetime::expiry(&options.lifetime, state.config.max_token_lifetime_days, now) {
        Ok(at) => at,
        Err(why) => return Ok(Err(PatError::BadLifetime(why))),
    };
    let token = PlainToken::generate();
    let (hash, max) = (token.hash(), state.config.max_personal_access_tokens);
    let pat = PatRecord {
        name: name.to_string(),
        created_at: now,
        last_part: token.last_part(),
        bypass_2fa: options.bypass_2fa,
        expires_at,
        scope: options.scope.as_str().to_string(),
        ..PatRecord::default()
    };
    let (actor, user) = (acting.actor.clone(), user.clone());
    let detail = format!("generatePersonalAccessToken ({})", describe(&pat));
    let outcome = state
        .db
        .write(LockScope::user(&user.id), move |tx| {
            if pats::find(tx, &user.id, &pat.name, now)?.is_some() {
                return Ok(Err(PatError::AlreadyExists));
            }
            if pats::count(tx, &user.id)? >= i64::from(max) {
                return Ok(Err(PatError::TooMany { max }));
            }
            pats::insert(tx, &user.id, &pat, &hash)?;
            audit::record(tx, &actor, &event("token.created", &user, &pat.name, &detail), pat.created_at)?;
            Ok(Ok(()))
        })
        .await?;
    Ok(outcome.map(|()| token))
}

/// Scope and expiry, for the audit log.
fn describe(pat: &PatRecord) -> String {
    format!("scope {}, expires {}", pat.scope, pat.expires_at.map_or_else(|| "never".to_string(), iso))
}

/// Replaces the PAT named `name` with a new secret, keeping its `bypassTwoFactor` and scope.
/// Without a requested lifetime the new value lives as long as the old one was meant to (under
/// the instance maximum). The old value stays valid for `grace_ms` (0: it dies now).
pub async fn regenerate(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    name: &str,
    lifetime: &LifetimeRequest,
    grace_ms: Millis,
    _gate: &Passed,
) -> Result<Result<PlainToken, PatError>> {
    acting.require_session()?;
    let token = PlainToken::generate();
    let hash = token.hash();
    let last_part = token.last_part();
    let (actor, user, name, lifetime) = (acting.actor.clone(), user.clone(), name.to_string(), lifetime.clone());
    let max_days = state.config.max_token_lifetime_days;
    let outcome = state
        .db
        .write(LockScope::user(&user.id), move |tx| {
            let now = now_ms();
            let Some(old) = pats::find(tx, &user.id, &name, now)? else {
                return Ok(Err(PatError::DoesNotExist));
            };
            let expires_at = match (lifetime.is_empty(), old.expires_at) {
                (true, Some(old_end)) => {
                    let cap = max_days.map_or(Millis::MAX, |d| Millis::from(d) * 86_400_000);
                    Some(now + (old_end - old.created_at).clamp(0, cap))
                }
                _ => match lifetime::expiry(&lifetime, max_days, now) {
                    Ok(at) => at,
                    Err(why) => return Ok(Err(PatError::BadLifetime(why))),
                },
            };
            if grace_ms > 0 {
                pats::retire(tx, &user.id, &name, now + grace_ms)?;
            } else {
                pats::remove_current(tx, &user.id, &name)?;
            }
            let pat = PatRecord { name: name.clone(), created_at: now, last_part, expires_at, ..old };
            pats::insert(tx, &user.id, &pat, &hash)?;
            let revoked = match grace_ms {
                0 => "regeneratePersonalAccessToken".to_string(),
                ms => format!("regeneratePersonalAccessToken (old value valid until {})", iso(now + ms)),
            };
            audit::record(tx, &actor, &event("token.revoked", &user, &name, &revoked), now)?;
            let created = format!("regeneratePersonalAccessToken ({})", describe(&pat));
            audit::record(tx, &actor, &event("token.created", &user, &name, &created), now)?;
            Ok(Ok(()))
        })
        .await?;
    Ok(outcome.map(|()| token))
}

/// Removes the PAT named `name`. A session may remove any of the user's PATs; a PAT only
/// itself (`presented` is the credential the request used): self-revocation cannot take
/// an account over, and Rocket.Chat and GitLab allow it.
pub async fn remove(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    name: &str,
    presented: &TokenHash,
    _gate: &Passed,
) -> Result<Result<(), PatError>> {
    let only_itself = match acting.require_session() {
        Ok(()) => None,
        Err(_) => Some(*presented),
    };
    let (actor, user, name) = (acting.actor.clone(), user.clone(), name.to_string());
    state
        .db
        .write(LockScope::user(&user.id), move |tx| {
            let removed = match &only_itself {
                None => pats::remove(tx, &user.id, &name)?,
                Some(hash) => {
                    if !pats::remove_presented(tx, &user.id, &name, hash)? {
                        return Err(super::Refusal::LoginTokenRequired.into());
                    }
                    true
                }
            };
            if !removed {
                return Ok(Err(PatError::DoesNotExist));
            }
            audit::record(tx, &actor, &event("token.revoked", &user, &name, "removePersonalAccessToken"), now_ms())?;
            Ok(Ok(()))
        })
        .await
}

/// The user's PATs with their last use (queued uses are written first).
pub async fn list(state: &Accounts, user_id: &str) -> Result<Vec<PatRecord>> {
    super::last_use::flush(state).await?;
    let user_id = user_id.to_string();
    state.db.read(move |c| pats::list(c, &user_id, now_ms())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_visible_short_and_free_of_control_characters() {
        assert!(is_valid_name("ci-bot"));
        assert!(is_valid_name("x'); DROP TABLE tokens; --"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("   "));
        assert!(!is_valid_name("a\u{0}b"));
        assert!(!is_valid_name(&"x".repeat(101)));
    }
}
