//! Rocket.Chat credentials: login tokens and personal access tokens, stored by SHA-256.

use super::sql::Dialect;
use super::sql::{Sql, params};
use super::users::{USER_COLUMNS, UserRecord, owner_join, roles_column, user_with_roles_from_row};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use std::sync::{Arc, OnceLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Login,
    Pat,
}

impl TokenKind {
    fn parse(text: &str) -> TokenKind {
        if text == "pat" { TokenKind::Pat } else { TokenKind::Login }
    }
}

/// What a presented token resolved to: its owner (active, with roles) and the token's facts.
#[derive(Clone, Debug)]
pub struct TokenOwner {
    /// Shared by the cached tokens of one user (`accounts::cache`).
    pub user: Arc<UserRecord>,
    pub kind: TokenKind,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub bypass_2fa: bool,
    /// A read-only token authenticates only routes that change nothing.
    pub read_only: bool,
}

/// The hot path's one statement: the token by its hash (the unique index), its owner by
/// primary key if active, and the owner's roles — one prepared statement per cache miss.
/// The join order and the owner's index are fixed (`CROSS JOIN`, `INDEXED BY`): a plan
/// chosen from stale statistics (a store analysed when it held one user) would otherwise
/// scan every user for each token (`plan_tests.rs` holds it to index searches).
/// Built once per dialect: the hot path only looks it up.
pub(crate) fn token_owner_sql(d: Dialect) -> &'static str {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let build = || {
        format!(
            "SELECT t.kind, t.created_at, t.expires_at, t.bypass_2fa, t.scope = 'read-only', {USER_COLUMNS}, {}
             FROM tokens t {}
             WHERE t.token_hash = ?1 AND (t.expires_at IS NULL OR t.expires_at > ?2)
               AND u.id = t.user_id AND u.active = 1",
            roles_column(d),
            owner_join(d)
        )
    };
    match d {
        Dialect::Sqlite => SQLITE.get_or_init(build),
        Dialect::Postgres => POSTGRES.get_or_init(build),
    }
}

/// Resolves a token to its active owner (with roles) and the token's facts, in one indexed
/// statement; `user_id`, when given, must be the owner. A revocation that commits after it
/// ran reaches the token cache through the invalidation feed (`accounts::cache`).
pub fn authenticate(
    conn: &dyn Sql,
    user_id: Option<&str>,
    hash: &TokenHash,
    now: Millis,
) -> Result<Option<TokenOwner>> {
    let found = conn.query_opt(token_owner_sql(conn.dialect()), params![hash.as_bytes(), now], |r| {
        Ok(TokenOwner {
            kind: TokenKind::parse(&r.get::<String>(0)?),
            created_at: r.get(1)?,
            expires_at: r.get(2)?,
            bypass_2fa: r.get(3)?,
            read_only: r.get(4)?,
            user: Arc::new(user_with_roles_from_row(r, 5)?),
        })
    })?;
    Ok(found.filter(|owner| user_id.is_none_or(|id| id == owner.user.id)))
}

/// Who minted a login token and for which client: shown to its owner in their sessions.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// The minting user's id and username; `None` id with `"cli"` for the command line.
    pub created_by_id: Option<String>,
    pub created_by: String,
    pub user_agent: Option<String>,
    /// Where the owner logged in from: the token's first use. `None` when someone else
    /// minted it (it has not been used yet).
    pub client_addr: Option<String>,
}

/// Stores a new login token and, in the same transaction, evicts the user's oldest login
/// tokens beyond `cap` (in insertion order, so the newest `cap` survive).
#[expect(clippy::too_many_arguments, reason = "one insert of one row's columns")]
pub fn insert_login_token(
    conn: &dyn Sql,
    user_id: &str,
    hash: &TokenHash,
    last_part: &str,
    now: Millis,
    expires_at: Millis,
    cap: u32,
    from: &Provenance,
) -> Result<()> {
    conn.exec(
        "INSERT INTO tokens (user_id, token_hash, kind, last_part, created_at, expires_at,
                             created_by_id, created_by, user_agent, last_used_at, last_used_addr)
         VALUES (?1, ?2, 'login', ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?9 IS NULL THEN NULL ELSE ?4 END, ?9)",
        params![
            user_id,
            hash.as_bytes(),
            last_part,
            now,
            expires_at,
            from.created_by_id,
            from.created_by,
            from.user_agent,
            from.client_addr
        ],
    )?;
    // Newest by id, not by `created_at`: ids follow the order of the inserts (one user's are
    // serialised, by the writer or by the user's advisory lock), while `created_at` comes from
    // the clock of whichever node minted the token.
    conn.exec(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login' AND id NOT IN (
             SELECT id FROM tokens WHERE user_id = ?1 AND kind = 'login' ORDER BY id DESC LIMIT ?2)",
        params![user_id, cap],
    )?;
    Ok(())
}

/// Removes the one token with this hash (login or PAT) of this user.
pub fn delete_by_hash(conn: &dyn Sql, user_id: &str, hash: &TokenHash) -> Result<bool> {
    let n =
        conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND token_hash = ?2", params![user_id, hash.as_bytes()])?;
    Ok(n == 1)
}

/// Every token of the user, PATs included (admin `users.logout`, deactivation).
pub fn delete_all_of(conn: &dyn Sql, user_id: &str) -> Result<usize> {
    conn.exec("DELETE FROM tokens WHERE user_id = ?1", params![user_id])
}

/// Every login token of the user; PATs survive.
pub fn delete_login_tokens_of(conn: &dyn Sql, user_id: &str) -> Result<usize> {
    conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login'", params![user_id])
}

/// Whether the user still has the token (login or PAT) with hash `keep`: another request,
/// on any node, may have revoked it since it was presented.
pub fn has_token(conn: &dyn Sql, user_id: &str, keep: &TokenHash) -> Result<bool> {
    let found = conn.query_opt(
        "SELECT 1 FROM tokens WHERE user_id = ?1 AND token_hash = ?2",
        params![user_id, keep.as_bytes()],
        |r| r.get::<i64>(0),
    )?;
    Ok(found.is_some())
}

/// The user's login tokens except `keep`; PATs survive.
pub fn delete_other_login_tokens(conn: &dyn Sql, user_id: &str, keep: &TokenHash) -> Result<usize> {
    conn.exec(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login' AND token_hash <> ?2",
        params![user_id, keep.as_bytes()],
    )
}

/// Deletes expired rows; returns how many. Expired tokens are already refused at lookup,
/// this only keeps the file small.
pub fn purge_expired(conn: &dyn Sql, now: Millis) -> Result<usize> {
    conn.exec("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1", params![now])
}

/// Every personal access token of the user.
pub fn delete_pats_of(conn: &dyn Sql, user_id: &str) -> Result<usize> {
    conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat'", params![user_id])
}
