//! SAYMON credentials: one API token per user and cookie sessions, both by SHA-256.

use super::users::{USER_COLUMNS, UserRecord, roles_of, user_from_row};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// Stores `hash` as the user's API token, replacing (and so killing) any previous one.
/// Returns whether a previous token existed.
pub fn replace_api_token(
    conn: &Connection,
    user_id: &str,
    hash: &TokenHash,
    last_part: &str,
    now: Millis,
) -> Result<bool> {
    let replaced = conn.execute("DELETE FROM saymon_tokens WHERE user_id = ?1", [user_id])? == 1;
    conn.execute(
        "INSERT INTO saymon_tokens (user_id, token_hash, last_part, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![user_id, hash.as_bytes(), last_part, now],
    )?;
    Ok(replaced)
}

pub fn delete_api_token(conn: &Connection, user_id: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM saymon_tokens WHERE user_id = ?1", [user_id])? == 1)
}

/// The last characters of the user's API token, if the user has one.
pub fn api_token_last_part(conn: &Connection, user_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT last_part FROM saymon_tokens WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

fn active_user_where(
    conn: &Connection,
    join: &str,
    condition: &str,
    args: impl rusqlite::Params,
) -> Result<Option<UserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM {join} JOIN users u ON u.id = x.user_id WHERE {condition} AND u.active = 1"
    );
    let found = conn.prepare_cached(&sql)?.query_row(args, |r| user_from_row(r, 0)).optional()?;
    match found {
        Some(mut user) => {
            user.roles = roles_of(conn, &user.id)?;
            Ok(Some(user))
        }
        None => Ok(None),
    }
}

/// The active owner of an API token.
pub fn user_by_api_token(conn: &Connection, hash: &TokenHash) -> Result<Option<UserRecord>> {
    active_user_where(conn, "saymon_tokens x", "x.token_hash = ?1", [hash.as_bytes()])
}

/// A session that is still valid, with its owner (active) and CSRF hash.
pub fn session(conn: &Connection, hash: &TokenHash, now: Millis) -> Result<Option<(UserRecord, Option<Vec<u8>>)>> {
    let Some(user) = active_user_where(
        conn,
        "saymon_sessions x",
        "x.session_hash = ?1 AND x.expires_at > ?2",
        params![hash.as_bytes(), now],
    )?
    else {
        return Ok(None);
    };
    let csrf: Option<Vec<u8>> = conn
        .prepare_cached("SELECT csrf_hash FROM saymon_sessions WHERE session_hash = ?1")?
        .query_row([hash.as_bytes()], |r| r.get(0))?;
    Ok(Some((user, csrf)))
}

/// Opens a session and keeps at most `cap` sessions per user (the oldest go first).
pub fn insert_session(
    conn: &Connection,
    user_id: &str,
    hash: &TokenHash,
    csrf: Option<&TokenHash>,
    now: Millis,
    expires_at: Millis,
    cap: u32,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO saymon_sessions (session_hash, user_id, csrf_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![hash.as_bytes(), user_id, csrf.map(|c| c.as_bytes().to_vec()), now, expires_at])?;
    conn.prepare_cached(
        "DELETE FROM saymon_sessions WHERE user_id = ?1 AND id NOT IN (
             SELECT id FROM saymon_sessions WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2)",
    )?
    .execute(params![user_id, cap])?;
    Ok(())
}

/// Ends one session; returns its owner's id if it existed.
pub fn delete_session(conn: &Connection, hash: &TokenHash) -> Result<Option<String>> {
    Ok(conn
        .query_row("DELETE FROM saymon_sessions WHERE session_hash = ?1 RETURNING user_id", [hash.as_bytes()], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn delete_sessions_of(conn: &Connection, user_id: &str) -> Result<usize> {
    Ok(conn.execute("DELETE FROM saymon_sessions WHERE user_id = ?1", [user_id])?)
}

pub fn purge_expired_sessions(conn: &Connection, now: Millis) -> Result<usize> {
    Ok(conn.execute("DELETE FROM saymon_sessions WHERE expires_at <= ?1", [now])?)
}
