//! SAYMON credentials: one API token per user and cookie sessions, both by SHA-256.

use super::sql::Dialect;
use super::sql::{Sql, params};
use super::users::{USER_COLUMNS, UserRecord, find_active_by_id, owner_join, roles_column, user_with_roles_from_row};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use std::sync::Arc;

/// Stores `hash` as the user's API token, replacing (and so killing) any previous one.
/// Returns whether a previous token existed.
pub fn replace_api_token(conn: &dyn Sql, user_id: &str, hash: &TokenHash, new: &NewApiToken) -> Result<bool> {
    let replaced = conn.exec("DELETE FROM saymon_tokens WHERE user_id = ?1", params![user_id])? == 1;
    conn.exec(
        "INSERT INTO saymon_tokens (user_id, token_hash, last_part, created_at, expires_at, scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![user_id, hash.as_bytes(), new.last_part, new.created_at, new.expires_at, new.scope],
    )?;
    Ok(replaced)
}

/// The readable facts of a new API token.
#[derive(Clone, Debug)]
pub struct NewApiToken {
    pub last_part: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    /// `full` or `read-only`.
    pub scope: &'static str,
}

/// What a presented API token resolved to: its active owner and the token's limits.
#[derive(Clone, Debug)]
pub struct ApiTokenOwner {
    /// Shared by the cached tokens of one user and by each request's principal.
    pub user: Arc<UserRecord>,
    pub expires_at: Option<Millis>,
    pub read_only: bool,
}

pub fn delete_api_token(conn: &dyn Sql, user_id: &str) -> Result<bool> {
    Ok(conn.exec("DELETE FROM saymon_tokens WHERE user_id = ?1", params![user_id])? == 1)
}

/// The last characters of the user's API token, if the user has one.
pub fn api_token_last_part(conn: &dyn Sql, user_id: &str) -> Result<Option<String>> {
    conn.query_opt("SELECT last_part FROM saymon_tokens WHERE user_id = ?1", params![user_id], |r| r.get(0))
}

pub(crate) const SESSION_BY_HASH: &str =
    "SELECT user_id, csrf_hash FROM saymon_sessions WHERE session_hash = ?1 AND expires_at > ?2";

/// An API token's active owner with roles, in one statement (join order and index fixed,
/// as in `tokens::token_owner_sql`).
/// Built once per dialect, like that one.
pub(crate) fn api_token_owner_sql(d: Dialect) -> &'static str {
    static SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let build = || {
        format!(
            "SELECT t.expires_at, t.scope = 'read-only', {USER_COLUMNS}, {}
             FROM saymon_tokens t {}
             WHERE t.token_hash = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2) AND u.id = t.user_id AND u.active = 1",
            roles_column(d),
            owner_join(d)
        )
    };
    match d {
        Dialect::Sqlite => SQLITE.get_or_init(build),
        Dialect::Postgres => POSTGRES.get_or_init(build),
    }
}

/// The active owner of an API token that has not expired.
pub fn user_by_api_token(conn: &dyn Sql, hash: &TokenHash, now: Millis) -> Result<Option<ApiTokenOwner>> {
    conn.query_opt(api_token_owner_sql(conn.dialect()), params![hash.as_bytes(), now], |r| {
        Ok(ApiTokenOwner {
            expires_at: r.get(0)?,
            read_only: r.get(1)?,
            user: Arc::new(user_with_roles_from_row(r, 2)?),
        })
    })
}

/// A session that is still valid, with its owner (active) and CSRF hash.
pub fn session(conn: &dyn Sql, hash: &TokenHash, now: Millis) -> Result<Option<(UserRecord, Option<Vec<u8>>)>> {
    let found: Option<(String, Option<Vec<u8>>)> =
        conn.query_opt(SESSION_BY_HASH, params![hash.as_bytes(), now], |r| Ok((r.get(0)?, r.get(1)?)))?;
    match found {
        Some((owner, csrf)) => Ok(find_active_by_id(conn, &owner)?.map(|user| (user, csrf))),
        None => Ok(None),
    }
}

/// The client that opened a session: shown to its owner (the address as its first use).
#[derive(Clone, Debug, Default)]
pub struct SessionClient {
    pub user_agent: Option<String>,
    pub addr: Option<String>,
}

/// Opens a session (`(created, expires)`) and keeps at most `cap` sessions per user (the
/// oldest go first).
pub fn insert_session(
    conn: &dyn Sql,
    user_id: &str,
    hash: &TokenHash,
    csrf: Option<&TokenHash>,
    (now, expires_at): (Millis, Millis),
    cap: u32,
    client: &SessionClient,
) -> Result<()> {
    conn.exec(
        "INSERT INTO saymon_sessions (session_hash, user_id, csrf_hash, created_at, expires_at, user_agent,
                                      last_used_at, last_used_addr)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4, ?7)",
        params![
            hash.as_bytes(),
            user_id,
            csrf.map(|c| c.as_bytes().to_vec()),
            now,
            expires_at,
            client.user_agent,
            client.addr
        ],
    )?;
    // Newest by insertion (the id), not by the minting node's clock: see `insert_login_token`.
    conn.exec(
        "DELETE FROM saymon_sessions WHERE user_id = ?1 AND id NOT IN (
             SELECT id FROM saymon_sessions WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![user_id, cap],
    )?;
    Ok(())
}

/// Ends one session; returns its owner's id if it existed.
pub fn delete_session(conn: &dyn Sql, hash: &TokenHash) -> Result<Option<String>> {
    conn.query_opt(
        "DELETE FROM saymon_sessions WHERE session_hash = ?1 RETURNING user_id",
        params![hash.as_bytes()],
        |r| r.get(0),
    )
}

pub fn delete_sessions_of(conn: &dyn Sql, user_id: &str) -> Result<usize> {
    conn.exec("DELETE FROM saymon_sessions WHERE user_id = ?1", params![user_id])
}

pub fn purge_expired_sessions(conn: &dyn Sql, now: Millis) -> Result<usize> {
    conn.exec("DELETE FROM saymon_sessions WHERE expires_at <= ?1", params![now])
}

/// Whether the user still has the session with hash `keep`.
pub fn has_session(conn: &dyn Sql, user_id: &str, keep: &TokenHash) -> Result<bool> {
    let found = conn.query_opt(
        "SELECT 1 FROM saymon_sessions WHERE user_id = ?1 AND session_hash = ?2",
        params![user_id, keep.as_bytes()],
        |r| r.get::<i64>(0),
    )?;
    Ok(found.is_some())
}

/// The user's sessions except the one with hash `keep`.
pub fn delete_other_sessions(conn: &dyn Sql, user_id: &str, keep: &TokenHash) -> Result<usize> {
    conn.exec(
        "DELETE FROM saymon_sessions WHERE user_id = ?1 AND session_hash <> ?2",
        params![user_id, keep.as_bytes()],
    )
}
