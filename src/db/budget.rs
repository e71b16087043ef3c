//! The secret-verification budget's counters (`accounts::budget` decides what they mean).
//! A reservation is one statement per scope inside the caller's write transaction, so
//! concurrent attempts are serialised by the store itself — on one node or many.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;

/// What a counter is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Account,
    Address,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }
}

/// A limit: `attempts` within `window_ms` of the last one.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub attempts: u32,
    pub window_ms: Millis,
}

/// The failures counted against `key` now: none once the window since the last has passed.
pub fn current(conn: &dyn Sql, scope: Scope, key: &[u8; 32], limit: Limit, now: Millis) -> Result<u32> {
    let row: Option<(i64, Millis)> = conn.query_opt(
        "SELECT failures, last_at FROM secret_failures WHERE scope = ?1 AND key = ?2",
        params![scope.name(), key.as_slice()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match row {
        Some((failures, last_at)) if now - last_at < limit.window_ms => u32::try_from(failures).unwrap_or(u32::MAX),
        _ => 0,
    })
}

/// Counts one more attempt against `key` (a failure until it is released); a count whose
/// window has passed starts again. Returns the new count. The caller checked the limit in
/// the same transaction.
pub fn reserve(conn: &dyn Sql, scope: Scope, key: &[u8; 32], limit: Limit, now: Millis) -> Result<u32> {
    let count = current(conn, scope, key, limit, now)? + 1;
    conn.exec(
        "INSERT INTO secret_failures (scope, key, failures, last_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at",
        params![scope.name(), key.as_slice(), count, now],
    )?;
    Ok(count)
}

/// Takes back one reserved attempt (the secret was right); a counter back at zero goes.
pub fn release(conn: &dyn Sql, scope: Scope, key: &[u8; 32]) -> Result<()> {
    conn.exec(
        "UPDATE secret_failures SET failures = failures - 1 WHERE scope = ?1 AND key = ?2",
        params![scope.name(), key.as_slice()],
    )?;
    conn.exec(
        "DELETE FROM secret_failures WHERE scope = ?1 AND key = ?2 AND failures <= 0",
        params![scope.name(), key.as_slice()],
    )?;
    Ok(())
}

/// Forgets every failure of `key` (a completed login).
pub fn clear(conn: &dyn Sql, scope: Scope, key: &[u8; 32]) -> Result<()> {
    conn.exec("DELETE FROM secret_failures WHERE scope = ?1 AND key = ?2", params![scope.name(), key.as_slice()])?;
    Ok(())
}

/// Deletes counters untouched for longer than `older_than_ms`; returns how many.
pub fn purge(conn: &dyn Sql, now: Millis, older_than_ms: Millis) -> Result<usize> {
    conn.exec("DELETE FROM secret_failures WHERE last_at < ?1", params![now - older_than_ms])
}
