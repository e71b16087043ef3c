//! Per-token 2FA state: after a passed challenge, the token is trusted from the same
//! client (user agent + address fingerprint) until a deadline.

use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// The trusted-until deadline and client fingerprint of a token, if a check was passed.
pub fn remembered(conn: &Connection, hash: &TokenHash) -> Result<Option<(Millis, Vec<u8>)>> {
    let row: Option<(Option<Millis>, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT two_factor_until, two_factor_fingerprint FROM tokens WHERE token_hash = ?1")?
        .query_row([hash.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((Some(until), Some(fp))) => Some((until, fp)),
        _ => None,
    })
}

pub fn remember(conn: &Connection, hash: &TokenHash, until: Millis, fingerprint: &[u8]) -> Result<()> {
    conn.execute(
        "UPDATE tokens SET two_factor_until = ?2, two_factor_fingerprint = ?3 WHERE token_hash = ?1",
        params![hash.as_bytes(), until, fingerprint],
    )?;
    Ok(())
}
