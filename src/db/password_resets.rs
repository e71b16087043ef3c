//! Password-reset links (`users.forgotPassword`): rows of `password_resets`, keyed by the
//! SHA-256 of the token e-mailed. The token itself is never stored.

use super::sql::{Sql, params};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;

pub fn insert(conn: &dyn Sql, hash: &TokenHash, user_id: &str, now: Millis, expires_at: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![hash.as_bytes(), user_id, now, expires_at],
    )?;
    Ok(())
}

/// Uses up the link whose token hashes to `hash` if it has not expired: returns its user
/// and removes every link of that user, so each works once and the newest ends the rest.
pub fn take(conn: &dyn Sql, hash: &TokenHash, now: Millis) -> Result<Option<String>> {
    let user_id: Option<String> = conn.query_opt(
        "SELECT user_id FROM password_resets WHERE token_hash = ?1 AND expires_at > ?2",
        params![hash.as_bytes(), now],
        |r| r.get(0),
    )?;
    if let Some(id) = &user_id {
        conn.exec("DELETE FROM password_resets WHERE user_id = ?1", params![id])?;
    }
    Ok(user_id)
}

/// Ends every outstanding link of `user_id` (the revocation policy: a password or address
/// change, a deactivation).
pub fn delete_of_user(conn: &dyn Sql, user_id: &str) -> Result<usize> {
    conn.exec("DELETE FROM password_resets WHERE user_id = ?1", params![user_id])
}

pub fn purge_expired(conn: &dyn Sql, now: Millis) -> Result<usize> {
    conn.exec("DELETE FROM password_resets WHERE expires_at <= ?1", params![now])
}
