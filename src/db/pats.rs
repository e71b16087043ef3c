//! Personal access tokens: rows of `tokens` with kind `pat`, a per-user unique name and
//! no expiry. Stored by SHA-256; only the last six characters are kept readable.

use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Clone, Debug)]
pub struct PatRecord {
    pub name: String,
    pub created_at: Millis,
    pub last_part: String,
    pub bypass_2fa: bool,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PatRecord> {
    Ok(PatRecord { name: r.get(0)?, created_at: r.get(1)?, last_part: r.get(2)?, bypass_2fa: r.get(3)? })
}

pub fn list(conn: &Connection, user_id: &str) -> Result<Vec<PatRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, created_at, last_part, bypass_2fa FROM tokens
         WHERE user_id = ?1 AND kind = 'pat' ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([user_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn find(conn: &Connection, user_id: &str, name: &str) -> Result<Option<PatRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT name, created_at, last_part, bypass_2fa FROM tokens
             WHERE user_id = ?1 AND kind = 'pat' AND name = ?2",
        )?
        .query_row(params![user_id, name], from_row)
        .optional()?)
}

pub fn count(conn: &Connection, user_id: &str) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM tokens WHERE user_id = ?1 AND kind = 'pat'", [user_id], |r| r.get(0))?)
}

pub fn insert(conn: &Connection, user_id: &str, pat: &PatRecord, hash: &TokenHash) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (user_id, token_hash, kind, name, last_part, bypass_2fa, created_at)
         VALUES (?1, ?2, 'pat', ?3, ?4, ?5, ?6)",
    )?
    .execute(params![user_id, hash.as_bytes(), pat.name, pat.last_part, pat.bypass_2fa, pat.created_at])?;
    Ok(())
}

pub fn remove(conn: &Connection, user_id: &str, name: &str) -> Result<bool> {
    let n =
        conn.execute("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name = ?2", params![user_id, name])?;
    Ok(n == 1)
}

/// Removes the PAT named `name` only if it is the one whose hash is `hash`.
pub fn remove_presented(conn: &Connection, user_id: &str, name: &str, hash: &TokenHash) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat' AND name = ?2 AND token_hash = ?3",
        params![user_id, name, hash.as_bytes()],
    )?;
    Ok(n == 1)
}
