//! E-mail 2FA: whether a user turned it on, and the one live code (stored as a keyed hash,
//! with its deadline and the wrong guesses made against it).

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;
use subtle::ConstantTimeEq;

/// On, and usable: the user has a verified address to send codes to.
pub fn is_enabled(conn: &dyn Sql, user_id: &str) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM email_2fa e JOIN users u ON u.id = e.user_id
             WHERE e.user_id = ?1 AND e.enabled = 1 AND u.email IS NOT NULL AND u.email_verified = 1",
            params![user_id],
            |_| Ok(()),
        )?
        .is_some())
}

pub fn set_enabled(conn: &dyn Sql, user_id: &str, enabled: bool, now: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO email_2fa (user_id, enabled, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET enabled = ?2, changed_at = ?3,
             code_hash = NULL, code_expires_at = NULL, attempts = 0",
        params![user_id, enabled, now],
    )?;
    Ok(())
}

/// A code that is still valid and may still be guessed at: its deadline.
pub fn live_code(conn: &dyn Sql, user_id: &str, now: Millis, max_attempts: u32) -> Result<Option<Millis>> {
    conn.query_opt(
        "SELECT code_expires_at FROM email_2fa
             WHERE user_id = ?1 AND code_hash IS NOT NULL AND code_expires_at > ?2 AND attempts < ?3",
        params![user_id, now, max_attempts],
        |r| r.get(0),
    )
}

/// Replaces any code of the user by `hash`, valid until `expires_at`, with no guesses made.
pub fn store_code(conn: &dyn Sql, user_id: &str, hash: &[u8; 32], expires_at: Millis, now: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO email_2fa (user_id, enabled, changed_at, code_hash, code_expires_at, attempts)
         VALUES (?1, 0, ?4, ?2, ?3, 0)
         ON CONFLICT (user_id) DO UPDATE SET code_hash = ?2, code_expires_at = ?3, attempts = 0",
        params![user_id, hash.as_slice(), expires_at, now],
    )?;
    Ok(())
}

/// Forgets the user's code (used, or never delivered).
pub fn clear_code(conn: &dyn Sql, user_id: &str) -> Result<()> {
    conn.exec(
        "UPDATE email_2fa SET code_hash = NULL, code_expires_at = NULL, attempts = 0 WHERE user_id = ?1",
        params![user_id],
    )?;
    Ok(())
}

/// Forgets the code `hash` (one that could not be delivered), not a newer one.
pub fn discard_code(conn: &dyn Sql, user_id: &str, hash: &[u8; 32]) -> Result<()> {
    conn.exec(
        "UPDATE email_2fa SET code_hash = NULL, code_expires_at = NULL, attempts = 0
         WHERE user_id = ?1 AND code_hash = ?2",
        params![user_id, hash.as_slice()],
    )?;
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code matched and is now used up.
    Matched,
    /// Wrong code; guesses may go on.
    Wrong,
    /// Wrong code, or any code after too many wrong ones: the code is dead.
    TooManyAttempts,
    /// No code, or it expired (and is now deleted).
    NoCode,
}

/// Compares `hash` with the user's code and records the outcome, in the caller's write
/// transaction: two requests with one code cannot both match.
pub fn check_code(conn: &dyn Sql, user_id: &str, hash: &[u8; 32], now: Millis, max_attempts: u32) -> Result<CodeCheck> {
    let row: Option<(Option<Vec<u8>>, Option<Millis>, u32)> = conn.query_opt(
        "SELECT code_hash, code_expires_at, attempts FROM email_2fa WHERE user_id = ?1",
        params![user_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some((Some(stored), Some(expires_at), attempts)) = row else {
        return Ok(CodeCheck::NoCode);
    };
    if expires_at <= now {
        clear_code(conn, user_id)?;
        return Ok(CodeCheck::NoCode);
    }
    if attempts >= max_attempts {
        return Ok(CodeCheck::TooManyAttempts);
    }
    if bool::from(stored.as_slice().ct_eq(hash.as_slice())) {
        clear_code(conn, user_id)?;
        return Ok(CodeCheck::Matched);
    }
    conn.exec("UPDATE email_2fa SET attempts = attempts + 1 WHERE user_id = ?1", params![user_id])?;
    Ok(if attempts + 1 >= max_attempts { CodeCheck::TooManyAttempts } else { CodeCheck::Wrong })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, email_verified INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE email_2fa (user_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL DEFAULT 0,
                 changed_at INTEGER NOT NULL, code_hash BLOB, code_expires_at INTEGER,
                 attempts INTEGER NOT NULL DEFAULT 0);
             INSERT INTO users VALUES ('u', 'u@example.com', 1), ('n', 'n@example.com', 0);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn enabled_needs_the_switch_and_a_verified_address() {
        let conn = store();
        assert!(!is_enabled(&conn, "u").unwrap());
        set_enabled(&conn, "u", true, 1).unwrap();
        set_enabled(&conn, "n", true, 1).unwrap();
        assert!(is_enabled(&conn, "u").unwrap());
        assert!(!is_enabled(&conn, "n").unwrap(), "unverified address");
        set_enabled(&conn, "u", false, 2).unwrap();
        assert!(!is_enabled(&conn, "u").unwrap());
    }

    #[test]
    fn a_code_matches_once_and_wrong_guesses_run_out() {
        let conn = store();
        store_code(&conn, "u", &[1; 32], 1000, 0).unwrap();
        assert_eq!(live_code(&conn, "u", 10, 3).unwrap(), Some(1000));
        assert_eq!(check_code(&conn, "u", &[1; 32], 10, 3).unwrap(), CodeCheck::Matched);
        assert_eq!(check_code(&conn, "u", &[1; 32], 10, 3).unwrap(), CodeCheck::NoCode, "used up");
        store_code(&conn, "u", &[1; 32], 1000, 0).unwrap();
        assert_eq!(check_code(&conn, "u", &[2; 32], 10, 3).unwrap(), CodeCheck::Wrong);
        assert_eq!(check_code(&conn, "u", &[2; 32], 10, 3).unwrap(), CodeCheck::Wrong);
        assert_eq!(check_code(&conn, "u", &[2; 32], 10, 3).unwrap(), CodeCheck::TooManyAttempts);
        assert_eq!(live_code(&conn, "u", 10, 3).unwrap(), None);
        assert_eq!(check_code(&conn, "u", &[1; 32], 10, 3).unwrap(), CodeCheck::TooManyAttempts, "even the right one");
    }

    #[test]
    fn an_expired_code_is_deleted() {
        let conn = store();
        store_code(&conn, "u", &[1; 32], 1000, 0).unwrap();
        assert_eq!(live_code(&conn, "u", 1000, 3).unwrap(), None);
        assert_eq!(check_code(&conn, "u", &[1; 32], 1000, 3).unwrap(), CodeCheck::NoCode);
        let hash: Option<Vec<u8>> =
            conn.query_row("SELECT code_hash FROM email_2fa WHERE user_id = 'u'", [], |r| r.get(0)).unwrap();
        assert_eq!(hash, None);
    }
}
