//! Per-token 2FA state: after a passed challenge, the token is trusted from the same
//! client (user agent + address fingerprint) until a deadline.

use super::sql::{Sql, params};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;

/// The trusted-until deadline and client fingerprint of a token, if a check was passed.
pub fn remembered(conn: &dyn Sql, hash: &TokenHash) -> Result<Option<(Millis, Vec<u8>)>> {
    let row: Option<(Option<Millis>, Option<Vec<u8>>)> = conn.query_opt(
        "SELECT two_factor_until, two_factor_fingerprint FROM tokens WHERE token_hash = ?1",
        params![hash.as_bytes()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match row {
        Some((Some(until), Some(fp))) => Some((until, fp)),
        _ => None,
    })
}

pub fn remember(conn: &dyn Sql, hash: &TokenHash, until: Millis, fingerprint: &[u8]) -> Result<()> {
    conn.exec(
        "UPDATE tokens SET two_factor_until = ?2, two_factor_fingerprint = ?3 WHERE token_hash = ?1",
        params![hash.as_bytes(), until, fingerprint],
    )?;
    Ok(())
}
