//! Personal access tokens: rows of `tokens` with kind `pat` and a per-user unique name,
//! optionally an expiry and the read-only scope. Stored by SHA-256; only the last six
//! characters are kept readable. A regenerated PAT's old value may live on for a grace
//! period: its row loses the name (kept in `replaced_name`) and gets the shorter expiry.

use super::sql::{Row, Sql, params};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;

#[derive(Clone, Debug, Default)]
pub struct PatRecord {
    pub name: String,
    pub created_at: Millis,
    pub last_part: String,
    pub bypass_2fa: bool,
    pub expires_at: Option<Millis>,
    /// `full` or `read-only`.
    pub scope: String,
    pub last_used_at: Option<Millis>,
    pub last_used_addr: Option<String>,
    /// While a regenerated PAT's old value is still valid: until when (the latest one).
    pub previous_valid_until: Option<Millis>,
}

const COLUMNS: &str = "t.name, t.created_at, t.last_part, t.bypass_2fa, t.expires_at, t.scope, t.last_used_at,
     t.last_used_addr, (SELECT max(o.expires_at) FROM tokens o
                        WHERE o.user_id = t.user_id AND o.kind = 'pat' AND o.replaced_name = t.name AND o.expires_at > ?2)";

fn from_row(r: &Row<'_>) -> Result<PatRecord> {
    Ok(PatRecord {
        name: r.get(0)?,
        created_at: r.get(1)?,
        last_part: r.get(2)?,
        bypass_2fa: r.get(3)?,
        expires_at: r.get(4)?,
        scope: r.get(5)?,
        last_used_at: r.get(6)?,
        last_used_addr: r.get(7)?,
        previous_valid_until: r.get(8)?,
    })
}

/// The user's PATs (current values; expired ones too, until the purge, so that their owner
/// sees what stopped working).
pub fn list(conn: &dyn Sql, user_id: &str, now: Millis) -> Result<Vec<PatRecord>> {
    let rows = conn.query(
        &format!(
            "SELECT {COLUMNS} FROM tokens t
         WHERE t.user_id = ?1 AND t.kind = 'pat' AND t.name IS NOT NULL ORDER BY t.created_at, t.id"
        ),
        params![user_id, now],
        from_row,
    )?;
    Ok(rows)
}

pub fn find(conn: &dyn Sql, user_id: &str, name: &str, now: Millis) -> Result<Option<PatRecord>> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM tokens t WHERE t.user_id = ?1 AND t.kind = 'pat' AND t.name = ?3"),
        params![user_id, now, name],
        from_row,
    )
}

/// PATs counted against the per-user cap: current values, not old ones in their grace period.
pub fn count(conn: &dyn Sql, user_id: &str) -> Result<i64> {
    conn.query_one(
        "SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name IS NOT NULL",
        params![user_id],
        |r| r.get(0),
    )
}

pub fn insert(conn: &dyn Sql, user_id: &str, pat: &PatRecord, hash: &TokenHash) -> Result<()> {
    conn.exec(
        "INSERT INTO tokens (user_id, token_hash, kind, name, last_part, bypass_2fa, created_at, expires_at, scope)
         VALUES (?1, ?2, 'pat', ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user_id,
            hash.as_bytes(),
            pat.name,
            pat.last_part,
            pat.bypass_2fa,
            pat.created_at,
            pat.expires_at,
            pat.scope
        ],
    )?;
    Ok(())
}

/// Removes the PAT named `name`, and any old value of it still in its grace period.
pub fn remove(conn: &dyn Sql, user_id: &str, name: &str) -> Result<bool> {
    let n =
        conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name = ?2", params![user_id, name])?;
    conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND replaced_name = ?2", params![user_id, name])?;
    Ok(n == 1)
}

/// Keeps the current value of the PAT `name` valid until `until` (or its own expiry, if
/// sooner) as an unnamed old value, freeing the name for its successor.
pub fn retire(conn: &dyn Sql, user_id: &str, name: &str, until: Millis) -> Result<bool> {
    let n = conn.exec(
        "UPDATE tokens SET replaced_name = name, name = NULL,
                expires_at = CASE WHEN expires_at IS NULL OR expires_at > ?3 THEN ?3 ELSE expires_at END
         WHERE user_id = ?1 AND kind = 'pat' AND name = ?2",
        params![user_id, name, until],
    )?;
    Ok(n == 1)
}

/// Removes the current value of the PAT `name` only (a regeneration without grace).
pub fn remove_current(conn: &dyn Sql, user_id: &str, name: &str) -> Result<bool> {
    let n =
        conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name = ?2", params![user_id, name])?;
    Ok(n == 1)
}

/// Removes the PAT named `name` only if it is the one whose hash is `hash`.
pub fn remove_presented(conn: &dyn Sql, user_id: &str, name: &str, hash: &TokenHash) -> Result<bool> {
    let n = conn.exec(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name = ?2 AND token_hash = ?3",
        params![user_id, name, hash.as_bytes()],
    )?;
    Ok(n == 1)
}
