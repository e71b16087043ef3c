//! Account operations shared by every dialect and the command line: checking passwords,
//! issuing and resolving tokens, creating users and changing passwords. Dialect handlers
//! decide *who may* do these things and how refusals look on the wire.

pub mod cache;
pub mod email_2fa;
pub mod login_guard;
pub mod pats;
pub mod revoke;
pub mod saymon;
pub mod totp;
pub mod users;

pub use users::{CreateUserError, MAX_PASSWORD_CHARS, PolicyViolation, UserDraft, check_password_policy, create_user};

use crate::auth::password::PasswordDigest;
use crate::auth::token::{self, PlainToken, TokenHash};
use crate::clock::{Millis, now_ms};
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::users::UserRecord;
use crate::db::{tokens, users as user_rows};
use crate::error::Result;
use crate::state::AppState;
use cache::AuthEntry;
use login_guard::Blocked;
use std::sync::Arc;

/// How a client names the account it logs in to.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(String),
    Email(String),
    Id(String),
}

impl LoginName {
    /// The name as the client submitted it.
    pub fn text(&self) -> &str {
        match self {
            LoginName::Username(s) | LoginName::Email(s) | LoginName::Id(s) => s,
        }
    }
}

#[derive(Debug)]
pub enum PasswordCheck {
    Valid(UserRecord),
    /// Right password, deactivated account.
    Inactive(UserRecord),
    /// Unknown user or wrong password: indistinguishable by design.
    Failed,
    /// Too many failures since the last success (§13); the password was not even checked.
    Blocked(Blocked),
}

/// Verifies a password from a client at `client_addr`. An unknown user costs one bcrypt
/// verify, like a wrong password. Failures are counted for failed-login blocking; the caller
/// reports a completed login with `login_succeeded` (after any second factor).
pub async fn check_password(
    state: &AppState,
    who: LoginName,
    digest: PasswordDigest,
    client_addr: Option<&str>,
) -> Result<PasswordCheck> {
    let submitted = who.text().to_string();
    let found = state
        .db
        .read(move |conn| {
            let user = match &who {
                LoginName::Username(name) => user_rows::find_by_username(conn, name)?,
                LoginName::Email(email) => user_rows::find_by_email(conn, email)?,
                LoginName::Id(id) => user_rows::find_by_id(conn, id)?,
            };
            match user {
                Some(user) => {
                    let hash = user_rows::password_hash(conn, &user.id)?;
                    Ok((Some(user), hash))
                }
                None => Ok((None, None)),
            }
        })
        .await?;
    let (user, hash) = found;
    let key = login_guard::account_key(user.as_ref().map(|u| u.id.as_str()), &submitted);
    if let Some(blocked) = state.login_guard.check(&key, client_addr, now_ms()) {
        log::warn!("login refused: too many failed logins ({blocked:?})");
        return Ok(PasswordCheck::Blocked(blocked));
    }
    let matches = state.passwords.verify(digest, hash).await?;
    let outcome = match (user, matches) {
        (Some(user), true) if user.active => PasswordCheck::Valid(user),
        (Some(user), true) => PasswordCheck::Inactive(user),
        _ => PasswordCheck::Failed,
    };
    if !matches!(outcome, PasswordCheck::Valid(_)) {
        state.login_guard.failed(&key, client_addr, now_ms());
    }
    Ok(outcome)
}

/// A login completed (password and any second factor): the failure counts start over.
pub fn login_succeeded(state: &AppState, user_id: &str, client_addr: Option<&str>) {
    state.login_guard.succeeded(&login_guard::account_key(Some(user_id), ""), client_addr);
}

/// A login failed after the password (e.g. a wrong or missing second factor).
pub fn login_failed(state: &AppState, user_id: &str, client_addr: Option<&str>) {
    state.login_guard.failed(&login_guard::account_key(Some(user_id), ""), client_addr, now_ms());
}

/// Whether `user_id` holds `permission` through a role or a direct grant.
pub async fn has_permission(state: &AppState, user_id: &str, permission: &'static str) -> Result<bool> {
    let id = user_id.to_string();
    state.db.read(move |c| crate::db::roles::user_has_permission(c, &id, permission)).await
}

/// Resolves a presented token to its active owner; `user_id`, when given, must match.
pub async fn authenticate_token(
    state: &AppState,
    user_id: Option<String>,
    presented: &str,
) -> Result<Option<Arc<AuthEntry>>> {
    if !token::is_plausible(presented) {
        return Ok(None);
    }
    let hash = TokenHash::of(presented);
    let now = now_ms();
    let usable = |entry: &AuthEntry| {
        user_id.as_deref().is_none_or(|id| id == entry.owner.user.id)
            && entry.owner.expires_at.is_none_or(|at| at > now)
    };
    // Read before the lookup: a write that commits meanwhile makes this entry stale at once.
    let generation = state.db.generation();
    if let Some(entry) = state.auth_cache.get(hash.as_bytes(), generation) {
        return Ok(usable(&entry).then_some(entry));
    }
    // Cached without the user-id condition, which is checked above on every use.
    let owner = state.db.read(move |conn| tokens::authenticate(conn, None, &hash, now)).await?;
    Ok(owner.map(|o| state.auth_cache.put(*hash.as_bytes(), generation, o)).filter(|e| usable(e)))
}

/// Mints a login token for `subject` on behalf of `actor` (a login, `users.createToken`,
/// the command line): stored with the per-user cap applied and audited, in one transaction.
pub async fn mint_login_token(
    state: &AppState,
    actor: &Actor,
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
    let (actor, subject_id, is_login) = (actor.clone(), subject.id.clone(), detail == "login");
    let expires_at = state
        .db
        .write(move |tx| {
            // Stamped inside the write lock, so creation order is commit order and the cap
            // never evicts a token that is newer than the ones it keeps.
            let now = now_ms();
            let expires_at = now + lifetime;
            tokens::insert_login_token(tx, &subject_id, &hash, &last_part, now, expires_at, cap)?;
            if is_login {
                user_rows::touch_last_login(tx, &subject_id, now)?;
            }
            audit::record(tx, &actor, &event, now)?;
            Ok(expires_at)
        })
        .await?;
    Ok((token, expires_at))
}

/// Records a refused attempt to mint a token (the refusal itself is the caller's to answer).
pub async fn record_refusal(
    state: &AppState,
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
    state.db.write(move |tx| audit::record(tx, &actor, &event, now_ms())).await
}
