//! The store's side of the readiness check (`GET /api/ready`): can the database be read
//! right now? A fresh connection opens the file and reads its schema, as a restart would.
//! A pooled connection would not do: it keeps the file open and its pages cached, so it
//! goes on answering after the file vanished from its path or its disk stopped reading.

use super::{Db, Engine};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::time::Duration;

/// How long the probe waits on another connection's lock before calling the store busy.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the store is not ready: a fixed phrase safe to show any caller, and the full cause
/// (with the path) for the log only.
#[derive(Debug)]
pub struct NotReadable {
    pub reason: &'static str,
    pub cause: String,
}

impl Db {
    /// SQLite: opens the database file afresh (never creating it) and reads its schema.
    /// PostgreSQL: `SELECT 1` on a pooled connection (bounded by the store's timeout; a dead
    /// or hung server, or one that turned standby, fails it).
    pub fn probe_readable(&self) -> Result<(), NotReadable> {
        let path = match &self.engine {
            Engine::Sqlite(store) => &store.path,
            Engine::Postgres(store) => {
                return store.probe().map_err(|e| NotReadable {
                    reason: "the database does not answer",
                    cause: format!("{}: {e}", store.target.shown),
                });
            }
        };
        // Without SQLITE_OPEN_CREATE: a missing file must fail, not become an empty store.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| not_readable(path, e))?;
        conn.busy_timeout(PROBE_BUSY_TIMEOUT).map_err(|e| not_readable(path, e))?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .map(drop)
            .map_err(|e| not_readable(path, e))
    }
}

fn not_readable(path: &std::path::Path, e: rusqlite::Error) -> NotReadable {
    let reason = match e.sqlite_error_code() {
        Some(ErrorCode::CannotOpen) => "the database file cannot be opened",
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => "the database file is not a readable database",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "the database is locked",
        Some(ErrorCode::SystemIoFailure) => "reading the database failed",
        _ => "the database does not answer",
    };
    NotReadable { reason, cause: format!("{}: {e}", path.display()) }
}
