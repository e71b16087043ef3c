//! The SQLite engine: an r2d2 pool of read connections and one writer thread (group commit,
//! see `writer`), every connection with the same pragmas.

use super::{OpenError, Sql, invalidations, migrations, seed, sqlite, writer};
use crate::config::Synchronous;
use crate::error::{Error, Result};
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a connection waits on a lock held by another writer before giving up (503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub(super) struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    /// Where `write` sends its work: one thread batching writes into shared commits.
    pub(super) writer: writer::Writer,
    pub(super) path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the file at `path`, migrates and seeds it; the writer reads
    /// `feed` after each of its commits.
    pub(super) fn open(
        path: &Path,
        data_dir: &Path,
        synchronous: Synchronous,
        pool_size: u32,
        feed: Arc<invalidations::Feed>,
    ) -> std::result::Result<SqliteStore, OpenError> {
        let shown = path.display().to_string();
        let unopenable = |cause: String| OpenError::Unopenable { path: shown.clone(), cause };
        std::fs::create_dir_all(data_dir).map_err(|e| unopenable(e.to_string()))?;
        // One direct probe first: a corrupt or foreign file fails here at once with the
        // right advice, instead of after the pool's connection retries.
        let is_new = !path.exists();
        let probe = Connection::open(path).map_err(|e| classify(&shown, e.to_string()))?;
        if is_new {
            // Owner-only, whatever the umask; SQLite gives -wal and -shm the same mode.
            restrict_to_owner(path).map_err(|e| unopenable(e.to_string()))?;
        }
        probe.query_row("PRAGMA schema_version", [], |_| Ok(())).map_err(|e| classify(&shown, e.to_string()))?;
        drop(probe);
        let store = SqliteStore::open_pool(path, synchronous, pool_size, feed).map_err(|e| classify(&shown, e))?;
        let mut conn = store.pool.get().map_err(|e| classify(&shown, e.to_string()))?;
        migrations::apply(&mut conn, &shown)?;
        let seeded =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(Error::from).and_then(|tx| {
                seed::roles_and_permissions(&*tx)?;
                Ok(tx.commit()?)
            });
        seeded.map_err(|e| classify(&shown, e.to_string()))?;
        drop(conn);
        // Statistics from when the store was small (e.g. one user) lead the planner to scan
        // tables it should search; refresh any that are out of date before serving.
        if let Err(e) = store.optimize() {
            log::warn!("refreshing the query planner's statistics failed: {e}");
        }
        Ok(store)
    }

    /// The read pool and the writer thread; an error is the cause as text, for `classify`.
    fn open_pool(
        path: &Path,
        synchronous: Synchronous,
        size: u32,
        feed: Arc<invalidations::Feed>,
    ) -> std::result::Result<SqliteStore, String> {
        let manager = SqliteConnectionManager::file(path).with_init(move |c| configure(c, synchronous));
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| e.to_string())?;
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        configure(&conn, synchronous).map_err(|e| e.to_string())?;
        let writer = writer::Writer::start(conn, Arc::new(move |c: &Connection| feed.catch_up_or_forget(c)))
            .map_err(|e| e.to_string())?;
        Ok(SqliteStore { pool, writer, path: path.to_path_buf() })
    }

    pub(super) fn read_now<T>(&self, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        let asked = std::time::Instant::now();
        let conn = self.pool.get()?;
        crate::metrics::METRICS.pool_wait(asked.elapsed());
        work(&*conn)
    }

    /// Its own `BEGIN IMMEDIATE` transaction on a pooled connection, outside the writer's
    /// batches; `feed` is read after the commit.
    pub(super) fn write_now<T>(
        &self,
        feed: &invalidations::Feed,
        work: impl FnOnce(&dyn Sql) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        crate::metrics::uncommitted::forget();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&*tx)?;
        tx.commit()?;
        crate::metrics::uncommitted::committed();
        feed.catch_up_or_forget(&*conn);
        Ok(value)
    }

    /// A connection of its own, outside the pool, for polling the feed.
    pub(super) fn watch_connection(&self) -> Result<Connection> {
        Ok(Connection::open(&self.path)?)
    }

    /// Re-analyses every table whose size changed a lot since its statistics were taken
    /// (SQLite's advice for long-lived connections: at start, then periodically). The
    /// analysis limit keeps it to milliseconds even on a store of millions of tokens.
    pub(super) fn optimize(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;").map_err(Error::from)
    }

    /// Folds the WAL back into the main file so a stopped server leaves one tidy file.
    pub(super) fn checkpoint(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;").map_err(Error::from)
    }
}

/// The pragmas of every connection, the pool's and the writer's. The busy timeout makes a
/// connection wait for another process's write lock (`tokend admin`) before giving up (503).
fn configure(conn: &Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(sqlite::STATEMENT_CACHE);
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
        synchronous.pragma_value()
    ))
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &Path) -> std::io::Result<()> {
    Ok(())
}

pub(super) fn classify(path: &str, cause: String) -> OpenError {
    if cause.contains("not a database") || cause.contains("malformed") {
        OpenError::Corrupt { path: path.to_string(), cause }
    } else {
        OpenError::Unopenable { path: path.to_string(), cause }
    }
}
