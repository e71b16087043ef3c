//! TOTP for a user: enrolment (a pending seed confirmed by its first code), verification
//! with replay protection, backup codes, disabling. Seeds are sealed in the vault.

use super::Accounts;
use super::acting::Acting;
use super::budget::{self, AccountKey};
use super::revocation::{self, Current, Event};
use super::two_factor::{self, Method, Passed, Verdict};
use crate::auth::totp::{self, BACKUP_CODE_LENGTH};
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::totp as store;
use crate::db::users::UserRecord;
use crate::error::Result;

#[derive(Debug, PartialEq, Eq)]
pub enum TotpError {
    AlreadyEnabled,
    NotEnabled,
    InvalidCode,
    /// Too many failed secret checks: the code was not looked at.
    Blocked(super::Blocked),
}

pub struct Enrolment {
    pub secret: String,
    pub url: String,
}

fn now_secs() -> u64 {
    (now_ms() / 1000).max(0) as u64
}

fn backup_hash(state: &Accounts, user_id: &str, code: &str) -> [u8; 32] {
    state.vault.keyed_hash(&[b"totp-backup", user_id.as_bytes(), code.as_bytes()])
}

/// `2fa:enable`: a new pending seed and its otpauth URL. Enabled TOTP must be disabled first.
/// Gated (`Passed`): otherwise a stolen login token could enrol the thief's own seed.
pub async fn start_enrolment(
    state: &Accounts,
    user: &UserRecord,
    _gate: &Passed,
) -> Result<std::result::Result<Enrolment, TotpError>> {
    let secret = totp::generate_secret();
    let sealed = state.vault.seal(&secret, user.id.as_bytes());
    let id = user.id.clone();
    let started = state
        .db
        .write(Scope::user(&id), move |tx| {
            if store::is_enabled(tx, &id)? {
                return Ok(false);
            }
            store::set_pending(tx, &id, &sealed, now_ms())?;
            Ok(true)
        })
        .await?;
    if !started {
        return Ok(Err(TotpError::AlreadyEnabled));
    }
    let url = totp::otpauth_url("Rocket.Chat", &user.username, &secret);
    Ok(Ok(Enrolment { secret: totp::base32(&secret), url }))
}

/// `2fa:validateTempToken`: the first code confirms the enrolment. Returns the backup codes
/// (shown once). Revocation: `Event::SecondFactorEnrolled` (the credential in use survives).
pub async fn confirm_enrolment(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    current: Current,
    code: &str,
    _gate: &Passed,
) -> Result<std::result::Result<Vec<String>, TotpError>> {
    let id = user.id.clone();
    let row = state.db.read(move |c| store::get(c, &id)).await?.unwrap_or_default();
    let seed = row.pending_secret.and_then(|s| state.vault.open(&s, user.id.as_bytes()));
    let (false, Some(seed)) = (row.enabled, seed) else {
        return Ok(Err(if row.enabled { TotpError::AlreadyEnabled } else { TotpError::InvalidCode }));
    };
    let attempt = match budget::begin(state, AccountKey::User(&user.id), acting.client_addr()).await? {
        Ok(attempt) => attempt,
        Err(by) => return Ok(Err(TotpError::Blocked(by))),
    };
    let Some(step) = totp::matching_step(&seed, code.trim(), now_secs(), state.config.totp_window) else {
        attempt.failed().await?;
        crate::metrics::METRICS.second_factor_failure(Method::Totp.name());
        return Ok(Err(TotpError::InvalidCode));
    };
    attempt.passed().await?;
    let codes = totp::generate_backup_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| backup_hash(state, &user.id, c)).collect();
    let (actor, user) = (acting.actor.clone(), user.clone());
    state
        .db
        .write(Scope::user(&user.id), move |tx| {
            let now = now_ms();
            store::enable(tx, &user.id, step as i64, now)?;
            store::replace_backup_codes(tx, &user.id, &hashes)?;
            revocation::apply_in(tx, &actor, &user, Event::SecondFactorEnrolled, current, Some("TOTP enabled"))
        })
        .await?;
    Ok(Ok(codes))
}

/// True when `code` is a current TOTP code (not replayed) or an unused backup code
/// (8 characters), which is then used up. Unbudgeted: callers go through
/// `two_factor::verify`, which reserves the attempt first.
pub(super) async fn verify(state: &Accounts, user_id: &str, code: &str) -> Result<bool> {
    let code = code.trim().to_string();
    let id = user_id.to_string();
    if code.chars().count() == BACKUP_CODE_LENGTH {
        let hash = backup_hash(state, user_id, &code);
        return state.db.write(Scope::user(&id), move |tx| store::consume_backup_code(tx, &id, &hash)).await;
    }
    let row = state.db.read(move |c| store::get(c, &id)).await?;
    let Some(seed) =
        row.filter(|r| r.enabled).and_then(|r| r.secret).and_then(|s| state.vault.open(&s, user_id.as_bytes()))
    else {
        return Ok(false);
    };
    let Some(step) = totp::matching_step(&seed, &code, now_secs(), state.config.totp_window) else {
        return Ok(false);
    };
    let id = user_id.to_string();
    state.db.write(Scope::user(&id), move |tx| store::consume_step(tx, &id, step as i64)).await
}

pub async fn is_enabled(state: &Accounts, user_id: &str) -> Result<bool> {
    let id = user_id.to_string();
    state.db.read(move |c| store::is_enabled(c, &id)).await
}

/// A TOTP or backup code of `user`, checked against the budget.
async fn check_code(
    state: &Accounts,
    user: &UserRecord,
    code: &str,
    client_addr: Option<&str>,
) -> Result<std::result::Result<(), TotpError>> {
    if !is_enabled(state, &user.id).await? {
        return Ok(Err(TotpError::NotEnabled));
    }
    Ok(match two_factor::verify(state, user, Method::Totp, code, client_addr).await? {
        Verdict::Valid => Ok(()),
        Verdict::Blocked(by) => Err(TotpError::Blocked(by)),
        Verdict::Invalid | Verdict::TooManyAttempts => Err(TotpError::InvalidCode),
    })
}

/// `2fa:disable`: needs a valid code (TOTP or backup).
pub async fn disable(
    state: &Accounts,
    user: &UserRecord,
    code: &str,
    client_addr: Option<&str>,
) -> Result<std::result::Result<(), TotpError>> {
    if let Err(e) = check_code(state, user, code, client_addr).await? {
        return Ok(Err(e));
    }
    let id = user.id.clone();
    state.db.write(Scope::user(&id), move |tx| store::disable(tx, &id)).await?;
    Ok(Ok(()))
}

/// `2fa:regenerateCodes`: twelve new backup codes for a valid code; the old ones die.
pub async fn regenerate_codes(
    state: &Accounts,
    user: &UserRecord,
    code: &str,
    client_addr: Option<&str>,
) -> Result<std::result::Result<Vec<String>, TotpError>> {
    if let Err(e) = check_code(state, user, code, client_addr).await? {
        return Ok(Err(e));
    }
    let codes = totp::generate_backup_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| backup_hash(state, &user.id, c)).collect();
    let id = user.id.clone();
    state.db.write(Scope::user(&id), move |tx| store::replace_backup_codes(tx, &id, &hashes)).await?;
    Ok(Ok(codes))
}

pub async fn backup_codes_remaining(state: &Accounts, user_id: &str) -> Result<i64> {
    let id = user_id.to_string();
    state.db.read(move |c| store::backup_codes_remaining(c, &id)).await
}

/// `users.resetTOTP`: turns TOTP off without a code — the user's own reset, or an admin's
/// under the privilege ceiling. Gated (`Passed`).
pub async fn reset(state: &Accounts, acting: &Acting, user_id: &str, _gate: &Passed) -> Result<bool> {
    let (id, acting) = (user_id.to_string(), acting.clone());
    // Someone else's reset depends on the privilege ceiling: serialised with grant changes.
    let scope = if acting.acts_on_self(&id) { Scope::user(&id) } else { Scope::global_over(&id) };
    state
        .db
        .write(scope, move |tx| {
            super::ceiling::may_act_on(tx, &acting, &id)?;
            store::disable(tx, &id)
        })
        .await
}
