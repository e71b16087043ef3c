//! The stored fingerprint of the vault key (`vault_key_check`, one row at most). The rule
//! that compares it with the key in use is `accounts::vault_key`.

use super::sql::{Sql, params};
use crate::error::Result;

/// The fingerprint recorded at the store's first start with a fingerprint, if any.
pub fn fingerprint(conn: &dyn Sql) -> Result<Option<Vec<u8>>> {
    conn.query_opt("SELECT fingerprint FROM vault_key_check WHERE id = 1", params![], |r| r.get(0))
}

/// Records `fingerprint` unless one is there already (another process may have been first);
/// returns the one the store holds afterwards.
pub fn record_first(tx: &dyn Sql, fingerprint: &[u8], now: i64) -> Result<Vec<u8>> {
    tx.exec(
        "INSERT INTO vault_key_check (id, fingerprint, recorded_at) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
        params![fingerprint, now],
    )?;
    tx.query_one("SELECT fingerprint FROM vault_key_check WHERE id = 1", params![], |r| r.get(0))
}

/// One sealed TOTP seed and the user id it is bound to, if the store holds any: a store
/// from before fingerprints can still prove which key it was used with.
pub fn a_sealed_totp_secret(conn: &dyn Sql) -> Result<Option<(String, Vec<u8>)>> {
    conn.query_opt("SELECT user_id, secret FROM totp WHERE secret IS NOT NULL LIMIT 1", params![], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}
