//! The SQLite online backup behind `tokend backup` (`crate::backup` owns the files, the key
//! and the naming): a consistent copy taken in small steps so the running server keeps
//! writing meanwhile, made standalone and checked.

use crate::error::Result;
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// What the integrity check said of a finished copy.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Sound,
    Damaged(String),
}

/// Copies the live database at `source` into the existing empty file `dest`.
pub fn online_copy(source: &Path, dest: &Path) -> Result<Verdict> {
    let source = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    source.busy_timeout(Duration::from_secs(5))?;
    let mut copy = Connection::open(dest)?;
    Backup::new(&source, &mut copy)?.run_to_completion(256, Duration::from_millis(5), None)?;
    // A standalone file: no WAL beside it, so it can be copied anywhere as is.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    let verdict: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    Ok(if verdict == "ok" { Verdict::Sound } else { Verdict::Damaged(verdict) })
}
