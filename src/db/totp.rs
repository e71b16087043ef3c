//! TOTP enrolment state and backup codes. Seeds arrive sealed; this module never sees one
//! in the clear.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;

#[derive(Clone, Debug, Default)]
pub struct TotpRow {
    pub secret: Option<Vec<u8>>,
    pub pending_secret: Option<Vec<u8>>,
    pub enabled: bool,
    pub last_step: Option<i64>,
}

pub fn get(conn: &dyn Sql, user_id: &str) -> Result<Option<TotpRow>> {
    conn.query_opt(
        "SELECT secret, pending_secret, enabled, last_step FROM totp WHERE user_id = ?1",
        params![user_id],
        |r| Ok(TotpRow { secret: r.get(0)?, pending_secret: r.get(1)?, enabled: r.get(2)?, last_step: r.get(3)? }),
    )
}

pub fn is_enabled(conn: &dyn Sql, user_id: &str) -> Result<bool> {
    Ok(get(conn, user_id)?.is_some_and(|t| t.enabled))
}

/// Starts (or restarts) an enrolment; an enabled TOTP is left untouched by the caller.
pub fn set_pending(conn: &dyn Sql, user_id: &str, sealed: &[u8], now: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO totp (user_id, pending_secret, enabled, updated_at) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (user_id) DO UPDATE SET pending_secret = ?2, updated_at = ?3",
        params![user_id, sealed, now],
    )?;
    Ok(())
}

/// Confirms the enrolment: the pending seed becomes the seed, `step` is marked used.
pub fn enable(conn: &dyn Sql, user_id: &str, step: i64, now: Millis) -> Result<()> {
    conn.exec(
        "UPDATE totp SET secret = pending_secret, pending_secret = NULL, enabled = 1, last_step = ?2, updated_at = ?3
         WHERE user_id = ?1",
        params![user_id, step, now],
    )?;
    Ok(())
}

pub fn disable(conn: &dyn Sql, user_id: &str) -> Result<bool> {
    conn.exec("DELETE FROM totp_backup_codes WHERE user_id = ?1", params![user_id])?;
    Ok(conn.exec("DELETE FROM totp WHERE user_id = ?1", params![user_id])? == 1)
}

/// Marks `step` used if it is later than every step used before. False means replay: the
/// check and the write are one statement, so two requests with one code cannot both pass.
pub fn consume_step(conn: &dyn Sql, user_id: &str, step: i64) -> Result<bool> {
    let n = conn.exec(
        "UPDATE totp SET last_step = ?2 WHERE user_id = ?1 AND enabled = 1 AND (last_step IS NULL OR last_step < ?2)",
        params![user_id, step],
    )?;
    Ok(n == 1)
}

pub fn replace_backup_codes(conn: &dyn Sql, user_id: &str, hashes: &[[u8; 32]]) -> Result<()> {
    conn.exec("DELETE FROM totp_backup_codes WHERE user_id = ?1", params![user_id])?;
    for h in hashes {
        conn.exec(
            "INSERT INTO totp_backup_codes (user_id, code_hash) VALUES (?1, ?2)",
            params![user_id, h.as_slice()],
        )?;
    }
    Ok(())
}

/// Uses up a backup code; false if it is not (or no longer) one of the user's.
pub fn consume_backup_code(conn: &dyn Sql, user_id: &str, hash: &[u8; 32]) -> Result<bool> {
    let n = conn.exec(
        "DELETE FROM totp_backup_codes WHERE user_id = ?1 AND code_hash = ?2",
        params![user_id, hash.as_slice()],
    )?;
    Ok(n == 1)
}

pub fn backup_codes_remaining(conn: &dyn Sql, user_id: &str) -> Result<i64> {
    conn.query_one("SELECT count(*) FROM totp_backup_codes WHERE user_id = ?1", params![user_id], |r| r.get(0))
}
