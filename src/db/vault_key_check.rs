//! The stored fingerprint of the vault key (`vault_key_check`, one row at most). The rule
//! that compares it with the key in use is `accounts::vault_key`.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, Transaction};

/// The fingerprint recorded at the store's first start with a fingerprint, if any.
pub fn fingerprint(conn: &Connection) -> Result<Option<Vec<u8>>> {
    Ok(conn.query_row("SELECT fingerprint FROM vault_key_check WHERE id = 1", [], |r| r.get(0)).optional()?)
}

/// Records `fingerprint` unless one is there already (another process may have been first);
/// returns the one the store holds afterwards.
pub fn record_first(tx: &Transaction, fingerprint: &[u8], now: i64) -> Result<Vec<u8>> {
    tx.execute(
        "INSERT INTO vault_key_check (id, fingerprint, recorded_at) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
        rusqlite::params![fingerprint, now],
    )?;
    Ok(tx.query_row("SELECT fingerprint FROM vault_key_check WHERE id = 1", [], |r| r.get(0))?)
}

/// One sealed TOTP seed and the user id it is bound to, if the store holds any: a store
/// from before fingerprints can still prove which key it was used with.
pub fn a_sealed_totp_secret(conn: &Connection) -> Result<Option<(String, Vec<u8>)>> {
    Ok(conn
        .query_row("SELECT user_id, secret FROM totp WHERE secret IS NOT NULL LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}
