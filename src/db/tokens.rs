//! Rocket.Chat credentials: login tokens and personal access tokens, stored by SHA-256.

use super::users::{UserRecord, find_active_by_id};
use crate::auth::token::TokenHash;
use crate::clock::Millis;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};

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
    pub user: UserRecord,
    pub kind: TokenKind,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub bypass_2fa: bool,
}

pub(crate) const TOKEN_BY_HASH: &str = "SELECT user_id, kind, created_at, expires_at, bypass_2fa FROM tokens
     WHERE token_hash = ?1 AND (?2 IS NULL OR user_id = ?2) AND (expires_at IS NULL OR expires_at > ?3)";

/// The hot path of every authenticated request: one lookup by hash on the unique index,
/// filtered by expiry (and `user_id` when given), then the owner if active, with roles.
/// Two statements rather than a join: see `users::find_active_by_id`. A revocation that
/// commits between them is seen by the next request (it bumps the write generation).
pub fn authenticate(
    conn: &Connection,
    user_id: Option<&str>,
    hash: &TokenHash,
    now: Millis,
) -> Result<Option<TokenOwner>> {
    let token = conn
        .prepare_cached(TOKEN_BY_HASH)?
        .query_row(params![hash.as_bytes(), user_id, now], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((owner_id, kind, created_at, expires_at, bypass_2fa)) = token else {
        return Ok(None);
    };
    Ok(find_active_by_id(conn, &owner_id)?.map(|user| TokenOwner {
        user,
        kind: TokenKind::parse(&kind),
        created_at,
        expires_at,
        bypass_2fa,
    }))
}

/// Stores a new login token and, in the same transaction, evicts the user's oldest login
/// tokens beyond `cap` (ties broken by insertion order, so the newest `cap` survive).
pub fn insert_login_token(
    conn: &Connection,
    user_id: &str,
    hash: &TokenHash,
    last_part: &str,
    now: Millis,
    expires_at: Millis,
    cap: u32,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (user_id, token_hash, kind, last_part, created_at, expires_at)
         VALUES (?1, ?2, 'login', ?3, ?4, ?5)",
    )?
    .execute(params![user_id, hash.as_bytes(), last_part, now, expires_at])?;
    conn.prepare_cached(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login' AND id NOT IN (
             SELECT id FROM tokens WHERE user_id = ?1 AND kind = 'login'
             ORDER BY created_at DESC, id DESC LIMIT ?2)",
    )?
    .execute(params![user_id, cap])?;
    Ok(())
}

/// Removes the one token with this hash (login or PAT) of this user.
pub fn delete_by_hash(conn: &Connection, user_id: &str, hash: &TokenHash) -> Result<bool> {
    let n =
        conn.execute("DELETE FROM tokens WHERE user_id = ?1 AND token_hash = ?2", params![user_id, hash.as_bytes()])?;
    Ok(n == 1)
}

/// Every token of the user, PATs included (admin `users.logout`, deactivation).
pub fn delete_all_of(conn: &Connection, user_id: &str) -> Result<usize> {
    Ok(conn.execute("DELETE FROM tokens WHERE user_id = ?1", [user_id])?)
}

/// Every login token of the user; PATs survive.
pub fn delete_login_tokens_of(conn: &Connection, user_id: &str) -> Result<usize> {
    Ok(conn.execute("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login'", [user_id])?)
}

/// The user's login tokens except `keep`; PATs survive.
pub fn delete_other_login_tokens(conn: &Connection, user_id: &str, keep: &TokenHash) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = 'login' AND token_hash <> ?2",
        params![user_id, keep.as_bytes()],
    )?)
}

/// Deletes expired rows; returns how many. Expired tokens are already refused at lookup,
/// this only keeps the file small.
pub fn purge_expired(conn: &Connection, now: Millis) -> Result<usize> {
    Ok(conn.execute("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1", [now])?)
}

/// Every personal access token of the user.
pub fn delete_pats_of(conn: &Connection, user_id: &str) -> Result<usize> {
    Ok(conn.execute("DELETE FROM tokens WHERE user_id = ?1 AND kind = 'pat'", [user_id])?)
}
