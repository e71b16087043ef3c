//! Personal access tokens: generate, regenerate, remove, list — each change audited in
//! the same transaction as the change itself.

use super::Accounts;
use super::acting::Acting;
use super::two_factor::Passed;
use crate::auth::token::{PlainToken, TokenHash};
use crate::clock::now_ms;
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
    TooMany { max: u32 },
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

/// Creates a PAT named `name` for the acting user. Duplicate names and the per-user cap are
/// checked inside the write transaction, so concurrent requests cannot both pass.
pub async fn generate(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    name: &str,
    bypass_2fa: bool,
    _gate: &Passed,
) -> Result<Result<PlainToken, PatError>> {
    acting.require_session()?;
    let token = PlainToken::generate();
    let (hash, max) = (token.hash(), state.config.max_personal_access_tokens);
    let pat = PatRecord { name: name.to_string(), created_at: now_ms(), last_part: token.last_part(), bypass_2fa };
    let (actor, user) = (acting.actor.clone(), user.clone());
    let outcome = state
        .db
        .write(move |tx| {
            if pats::find(tx, &user.id, &pat.name)?.is_some() {
                return Ok(Err(PatError::AlreadyExists));
            }
            if pats::count(tx, &user.id)? >= i64::from(max) {
                return Ok(Err(PatError::TooMany { max }));
            }
            pats::insert(tx, &user.id, &pat, &hash)?;
            audit::record(
                tx,
                &actor,
                &event("token.created", &user, &pat.name, "generatePersonalAccessToken"),
                pat.created_at,
            )?;
            Ok(Ok(()))
        })
        .await?;
    Ok(outcome.map(|()| token))
}

/// Replaces the PAT named `name` with a new secret, keeping its `bypassTwoFactor`.
pub async fn regenerate(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    name: &str,
    _gate: &Passed,
) -> Result<Result<PlainToken, PatError>> {
    acting.require_session()?;
    let token = PlainToken::generate();
    let hash = token.hash();
    let last_part = token.last_part();
    let (actor, user, name) = (acting.actor.clone(), user.clone(), name.to_string());
    let outcome = state
        .db
        .write(move |tx| {
            let Some(old) = pats::find(tx, &user.id, &name)? else {
                return Ok(Err(PatError::DoesNotExist));
            };
            pats::remove(tx, &user.id, &name)?;
            let now = now_ms();
            let pat = PatRecord { name: name.clone(), created_at: now, last_part, bypass_2fa: old.bypass_2fa };
            pats::insert(tx, &user.id, &pat, &hash)?;
            audit::record(tx, &actor, &event("token.revoked", &user, &name, "regeneratePersonalAccessToken"), now)?;
            audit::record(tx, &actor, &event("token.created", &user, &name, "regeneratePersonalAccessToken"), now)?;
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
        .write(move |tx| {
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

pub async fn list(state: &Accounts, user_id: &str) -> Result<Vec<PatRecord>> {
    let user_id = user_id.to_string();
    state.db.read(move |c| pats::list(c, &user_id)).await
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
