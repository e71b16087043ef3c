//! An operator's view of one user's Rocket.Chat credentials: list and revoke by kind.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;

#[derive(Clone, Debug)]
pub struct TokenSummary {
    /// `login`, `pat`, `saymon` (the API token) or `session` (a SAYMON session).
    pub kind: String,
    /// The session id for `tokend admin revoke-token --session` (`login-N`, `saymon-N`).
    pub id: Option<String>,
    /// A PAT's name (an old value in its grace period: `NAME (old)`).
    pub name: Option<String>,
    pub last_part: Option<String>,
    pub scope: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub last_used_addr: Option<String>,
    pub created_by: Option<String>,
    pub expires_at: Option<Millis>,
}

pub fn list(conn: &dyn Sql, user_id: &str) -> Result<Vec<TokenSummary>> {
    let rows = conn.query("SELECT kind, CASE kind WHEN 'login' THEN 'login-' || id END, coalesce(name, replaced_name || ' (old)'),
                last_part, scope, created_at, last_used_at, last_used_addr, created_by, expires_at
         FROM tokens WHERE user_id = ?1
         UNION ALL
         SELECT 'saymon', NULL, NULL, last_part, scope, created_at, last_used_at, last_used_addr, NULL, expires_at
         FROM saymon_tokens WHERE user_id = ?1
         UNION ALL
         SELECT 'session', 'saymon-' || id, NULL, NULL, 'full', created_at, last_used_at, last_used_addr, NULL, expires_at
         FROM saymon_sessions WHERE user_id = ?1
         ORDER BY 1, 6", params![user_id], |r| {
        Ok(TokenSummary {
            kind: r.get(0)?,
            id: r.get(1)?,
            name: r.get(2)?,
            last_part: r.get(3)?,
            scope: r.get(4)?,
            created_at: r.get(5)?,
            last_used_at: r.get(6)?,
            last_used_addr: r.get(7)?,
            created_by: r.get(8)?,
            expires_at: r.get(9)?,
        })
    })?;
    Ok(rows)
}

/// Which tokens a revocation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindFilter {
    Login,
    Pat,
    All,
}

impl KindFilter {
    pub fn name(self) -> &'static str {
        match self {
            KindFilter::Login => "login",
            KindFilter::Pat => "pat",
            KindFilter::All => "all",
        }
    }
}

pub fn revoke(conn: &dyn Sql, user_id: &str, kind: KindFilter) -> Result<usize> {
    let pattern = match kind {
        KindFilter::Login => "login",
        KindFilter::Pat => "pat",
        KindFilter::All => "%",
    };
    conn.exec("DELETE FROM tokens WHERE user_id = ?1 AND kind LIKE ?2", params![user_id, pattern])
}
