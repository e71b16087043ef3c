//! An operator's view of one user's Rocket.Chat credentials: list and revoke by kind.

use crate::clock::Millis;
use crate::error::Result;
use rusqlite::{Connection, params};

#[derive(Clone, Debug)]
pub struct TokenSummary {
    pub kind: String,
    pub name: Option<String>,
    pub last_part: Option<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

pub fn list(conn: &Connection, user_id: &str) -> Result<Vec<TokenSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, name, last_part, created_at, expires_at FROM tokens WHERE user_id = ?1 ORDER BY kind, created_at, id",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(TokenSummary {
            kind: r.get(0)?,
            name: r.get(1)?,
            last_part: r.get(2)?,
            created_at: r.get(3)?,
            expires_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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

pub fn revoke(conn: &Connection, user_id: &str, kind: KindFilter) -> Result<usize> {
    let pattern = match kind {
        KindFilter::Login => "login",
        KindFilter::Pat => "pat",
        KindFilter::All => "%",
    };
    Ok(conn.execute("DELETE FROM tokens WHERE user_id = ?1 AND kind LIKE ?2", params![user_id, pattern])?)
}
