//! The lifecycle facts of credentials (issue 17): last use, a user's sessions as their owner
//! or an administrator sees them, ending one session, and PATs about to expire.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;

/// Which table a used credential lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseOf {
    /// A Rocket.Chat login token or PAT (`tokens`).
    Token,
    SaymonApiToken,
    SaymonSession,
}

/// One queued use: the credential's hash, when, from where.
#[derive(Clone, Debug)]
pub struct Use {
    pub of: UseOf,
    pub hash: [u8; 32],
    pub at: Millis,
    pub addr: Option<String>,
}

/// Writes a batch of uses (a credential revoked meanwhile simply matches no row).
pub fn record_uses(conn: &dyn Sql, uses: &[Use]) -> Result<()> {
    for u in uses {
        let sql = match u.of {
            UseOf::Token => "UPDATE tokens SET last_used_at = ?1, last_used_addr = ?2 WHERE token_hash = ?3",
            UseOf::SaymonApiToken => {
                "UPDATE saymon_tokens SET last_used_at = ?1, last_used_addr = ?2 WHERE token_hash = ?3"
            }
            UseOf::SaymonSession => {
                "UPDATE saymon_sessions SET last_used_at = ?1, last_used_addr = ?2 WHERE session_hash = ?3"
            }
        };
        conn.exec(sql, params![u.at, u.addr, u.hash.as_slice()])?;
    }
    Ok(())
}

/// The kinds of session a user can see and end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// A Rocket.Chat login token (a login, `users.createToken`, the command line).
    Login,
    /// A SAYMON `sid` cookie session.
    Saymon,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Login => "login",
            SessionKind::Saymon => "saymon",
        }
    }
}

/// One live session, never its secret.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub kind: SessionKind,
    pub id: i64,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub last_used_addr: Option<String>,
    pub user_agent: Option<String>,
    /// Who minted it: `None` for the owner's own login (or a SAYMON session).
    pub created_by_id: Option<String>,
    pub created_by: Option<String>,
    pub last_part: Option<String>,
    /// The session the listing request itself authenticated with.
    pub current: bool,
}

/// The user's live login tokens and SAYMON sessions, newest first; `current` is the hash
/// of the credential in use, if any.
pub fn sessions_of(conn: &dyn Sql, user_id: &str, now: Millis, current: Option<&[u8]>) -> Result<Vec<SessionRow>> {
    let rows = conn.query(
        "SELECT 0, id, created_at, expires_at, last_used_at, last_used_addr, user_agent, created_by_id, created_by,
                last_part, token_hash IS NOT DISTINCT FROM ?3
         FROM tokens WHERE user_id = ?1 AND kind = 'login' AND (expires_at IS NULL OR expires_at > ?2)
         UNION ALL
         SELECT 1, id, created_at, expires_at, last_used_at, last_used_addr, user_agent, NULL, NULL,
                NULL, session_hash IS NOT DISTINCT FROM ?3
         FROM saymon_sessions WHERE user_id = ?1 AND expires_at > ?2
         ORDER BY 3 DESC, 2 DESC",
        params![user_id, now, current],
        |r| {
            Ok(SessionRow {
                kind: if r.get::<i64>(0)? == 0 { SessionKind::Login } else { SessionKind::Saymon },
                id: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                last_used_at: r.get(4)?,
                last_used_addr: r.get(5)?,
                user_agent: r.get(6)?,
                created_by_id: r.get(7)?,
                created_by: r.get(8)?,
                last_part: r.get(9)?,
                current: r.get(10)?,
            })
        },
    )?;
    let mut sessions: Vec<SessionRow> = rows;
    // A login the owner made themself names nobody as its minter.
    for s in &mut sessions {
        if s.created_by_id.as_deref() == Some(user_id) {
            s.created_by_id = None;
            s.created_by = None;
        }
    }
    Ok(sessions)
}

/// Ends one session of the user; false if the user has no such session.
pub fn delete_session(conn: &dyn Sql, user_id: &str, kind: SessionKind, id: i64) -> Result<bool> {
    let sql = match kind {
        SessionKind::Login => "DELETE FROM tokens WHERE id = ?1 AND user_id = ?2 AND kind = 'login'",
        SessionKind::Saymon => "DELETE FROM saymon_sessions WHERE id = ?1 AND user_id = ?2",
    };
    Ok(conn.exec(sql, params![id, user_id])? == 1)
}

/// A user's SAYMON API token as shown to administrators: never the secret.
#[derive(Clone, Debug)]
pub struct ApiTokenInfo {
    pub last_part: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub scope: String,
    pub last_used_at: Option<Millis>,
    pub last_used_addr: Option<String>,
}

pub fn api_token_of(conn: &dyn Sql, user_id: &str) -> Result<Option<ApiTokenInfo>> {
    conn.query_opt(
        "SELECT last_part, created_at, expires_at, scope, last_used_at, last_used_addr
             FROM saymon_tokens WHERE user_id = ?1",
        params![user_id],
        |r| {
            Ok(ApiTokenInfo {
                last_part: r.get(0)?,
                created_at: r.get(1)?,
                expires_at: r.get(2)?,
                scope: r.get(3)?,
                last_used_at: r.get(4)?,
                last_used_addr: r.get(5)?,
            })
        },
    )
}

/// A PAT that expires soon and whose owner has not been warned yet.
#[derive(Clone, Debug)]
pub struct ExpiringPat {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub name: String,
    pub expires_at: Millis,
}

/// PATs (current values, owners active with an address) expiring in `(now, until]` whose
/// owner has not been warned.
pub fn expiring_pats(conn: &dyn Sql, now: Millis, until: Millis) -> Result<Vec<ExpiringPat>> {
    let rows = conn.query(
        "SELECT t.id, u.username, u.email, t.name, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.kind = 'pat' AND t.name IS NOT NULL AND t.expiry_warned = 0
           AND t.expires_at > ?1 AND t.expires_at <= ?2 AND u.active = 1 AND u.email IS NOT NULL
         ORDER BY t.expires_at LIMIT 1000",
        params![now, until],
        |r| {
            Ok(ExpiringPat {
                id: r.get(0)?,
                username: r.get(1)?,
                email: r.get(2)?,
                name: r.get(3)?,
                expires_at: r.get(4)?,
            })
        },
    )?;
    Ok(rows)
}

pub fn mark_warned(conn: &dyn Sql, token_id: i64) -> Result<()> {
    conn.exec("UPDATE tokens SET expiry_warned = 1 WHERE id = ?1", params![token_id])?;
    Ok(())
}
