//! TOTP for a user: enrolment (a pending seed confirmed by its first code), verification
//! with replay protection, backup codes, disabling. Seeds are sealed in the vault.

use crate::auth::token::TokenHash;
use crate::auth::totp::{self, BACKUP_CODE_LENGTH};
use crate::clock::now_ms;
use crate::db::audit::Actor;
use crate::db::totp as store;
use crate::db::users::UserRecord;
use crate::error::Result;
use crate::state::AppState;

#[derive(Debug, PartialEq, Eq)]
pub enum TotpError {
    AlreadyEnabled,
    NotEnabled,
    InvalidCode,
}

pub struct Enrolment {
    pub secret: String,
    pub url: String,
}

fn now_secs() -> u64 {
    (now_ms() / 1000).max(0) as u64
}

fn backup_hash(state: &AppState, user_id: &str, code: &str) -> [u8; 32] {
    state.vault.keyed_hash(&[b"totp-backup", user_id.as_bytes(), code.as_bytes()])
}

/// `2fa:enable`: a new pending seed and its otpauth URL. Enabled TOTP must be disabled first.
pub async fn start_enrolment(state: &AppState, user: &UserRecord) -> Result<std::result::Result<Enrolment, TotpError>> {
    let secret = totp::generate_secret();
    let sealed = state.vault.seal(&secret, user.id.as_bytes());
    let id = user.id.clone();
    let started = state
        .db
        .write(move |tx| {
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
/// (shown once). The user's other login tokens are revoked; `keep` and PATs survive.
pub async fn confirm_enrolment(
    state: &AppState,
    actor: &Actor,
    user: &UserRecord,
    keep: Option<TokenHash>,
    code: &str,
) -> Result<std::result::Result<Vec<String>, TotpError>> {
    let id = user.id.clone();
    let row = state.db.read(move |c| store::get(c, &id)).await?.unwrap_or_default();
    let seed = row.pending_secret.and_then(|s| state.vault.open(&s, user.id.as_bytes()));
    let (false, Some(seed)) = (row.enabled, seed) else {
        return Ok(Err(if row.enabled { TotpError::AlreadyEnabled } else { TotpError::InvalidCode }));
    };
    let Some(step) = totp::matching_step(&seed, code.trim(), now_secs(), state.config.totp_window) else {
        return Ok(Err(TotpError::InvalidCode));
    };
    let codes = totp::generate_backup_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| backup_hash(state, &user.id, c)).collect();
    let (actor, user) = (actor.clone(), user.clone());
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            store::enable(tx, &user.id, step as i64, now)?;
            store::replace_backup_codes(tx, &user.id, &hashes)?;
            super::revoke::revoke_other_login_tokens_in(tx, &actor, &user, keep, "TOTP enabled")
        })
        .await?;
    Ok(Ok(codes))
}

/// True when `code` is a current TOTP code (not replayed) or an unused backup code
/// (8 characters), which is then used up.
pub async fn verify(state: &AppState, user_id: &str, code: &str) -> Result<bool> {
    let code = code.trim().to_string();
    let id = user_id.to_string();
    if code.chars().count() == BACKUP_CODE_LENGTH {
        let hash = backup_hash(state, user_id, &code);
        return state.db.write(move |tx| store::consume_backup_code(tx, &id, &hash)).await;
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
    state.db.write(move |tx| store::consume_step(tx, &id, step as i64)).await
}

pub async fn is_enabled(state: &AppState, user_id: &str) -> Result<bool> {
    let id = user_id.to_string();
    state.db.read(move |c| store::is_enabled(c, &id)).await
}

/// `2fa:disable`: needs a valid code (TOTP or backup).
pub async fn disable(state: &AppState, user: &UserRecord, code: &str) -> Result<std::result::Result<(), TotpError>> {
    if !is_enabled(state, &user.id).await? {
        return Ok(Err(TotpError::NotEnabled));
    }
    if !verify(state, &user.id, code).await? {
        return Ok(Err(TotpError::InvalidCode));
    }
    let id = user.id.clone();
    state.db.write(move |tx| store::disable(tx, &id)).await?;
    Ok(Ok(()))
}

/// `2fa:regenerateCodes`: twelve new backup codes for a valid code; the old ones die.
pub async fn regenerate_codes(
    state: &AppState,
    user: &UserRecord,
    code: &str,
) -> Result<std::result::Result<Vec<String>, TotpError>> {
    if !is_enabled(state, &user.id).await? {
        return Ok(Err(TotpError::NotEnabled));
    }
    if !verify(state, &user.id, code).await? {
        return Ok(Err(TotpError::InvalidCode));
    }
    let codes = totp::generate_backup_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| backup_hash(state, &user.id, c)).collect();
    let id = user.id.clone();
    state.db.write(move |tx| store::replace_backup_codes(tx, &id, &hashes)).await?;
    Ok(Ok(codes))
}

pub async fn backup_codes_remaining(state: &AppState, user_id: &str) -> Result<i64> {
    let id = user_id.to_string();
    state.db.read(move |c| store::backup_codes_remaining(c, &id)).await
}

/// `users.resetTOTP`: turns TOTP off without a code (an admin's, or the user's own reset).
pub async fn reset(state: &AppState, user_id: &str) -> Result<bool> {
    let id = user_id.to_string();
    state.db.write(move |tx| store::disable(tx, &id)).await
}
