//! The SQLite store: an r2d2 pool of read connections and one writer thread (group commit,
//! see `writer`), every connection with the same pragmas, and the helpers through which all
//! queries run off the async workers. This module tree is the only place in tokend that
//! contains SQL.

pub mod audit;
pub mod bench_seed;
pub mod budget;
pub mod email_2fa;
pub mod invalidations;
pub mod inventory;
pub mod lifecycle;
pub mod migrations;
pub mod password_resets;
pub mod pats;
pub mod ready;
pub mod roles;
pub mod saymon;
pub mod seed;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod users;
pub mod vault_key_check;
mod writer;

use crate::config::{Config, Synchronous};
use crate::error::{Error, Result};
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a connection waits on a lock held by another writer before giving up (503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Db {
    pool: Pool<SqliteConnectionManager>,
    /// Where `write` sends its work: one thread batching writes into shared commits.
    writer: writer::Writer,
    /// The cache-invalidation feed, read after every commit of this process's writer and
    /// polled for other writers' (`watch_other_writers` in startup).
    feed: Arc<invalidations::Feed>,
    path: std::path::PathBuf,
}

/// Why the database could not be opened. Each message tells the operator what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database {path}: {cause}. Check that TOKEND_DATA_DIR points to a writable directory")]
    Unopenable { path: String, cause: String },
    #[error(
        "{path} is not a usable SQLite database ({cause}). Restore it from a backup, or move it away to start with an empty one"
    )]
    Corrupt { path: String, cause: String },
    #[error(
        "{path} is an SQLite database that tokend did not create (it has tables but no tokend schema version). Point TOKEND_DATA_DIR elsewhere"
    )]
    Foreign { path: String },
    #[error(
        "{path} was written by a newer tokend (schema version {found}, this binary knows up to {known}). Run the newer binary, or restore a backup made by this version"
    )]
    TooNew { path: String, found: i64, known: i64 },
}

impl Db {
    /// Opens (creating if needed) the database of `config`, migrates and seeds it.
    pub fn open(config: &Config) -> std::result::Result<Db, OpenError> {
        let path = config.database_path();
        let shown = path.display().to_string();
        let unopenable = |cause: String| OpenError::Unopenable { path: shown.clone(), cause };
        std::fs::create_dir_all(&config.data_dir).map_err(|e| unopenable(e.to_string()))?;
        // One direct probe first: a corrupt or foreign file fails here at once with the
        // right advice, instead of after the pool's connection retries.
        let is_new = !path.exists();
        let probe = Connection::open(&path).map_err(|e| classify(&shown, e.to_string()))?;
        if is_new {
            // Owner-only, whatever the umask; SQLite gives -wal and -shm the same mode.
            restrict_to_owner(&path).map_err(|e| unopenable(e.to_string()))?;
        }
        probe.query_row("PRAGMA schema_version", [], |_| Ok(())).map_err(|e| classify(&shown, e.to_string()))?;
        drop(probe);
        let db = Db::open_pool(&path, config.synchronous, config.db_pool_size).map_err(|e| classify(&shown, e))?;
        let mut conn = db.pool.get().map_err(|e| classify(&shown, e.to_string()))?;
        migrations::apply(&mut conn, &shown)?;
        seed::roles_and_permissions(&mut conn).map_err(|e| classify(&shown, e.to_string()))?;
        drop(conn);
        // Statistics from when the store was small (e.g. one user) lead the planner to scan
        // tables it should search; refresh any that are out of date before serving.
        if let Err(e) = db.optimize() {
            log::warn!("refreshing the query planner's statistics failed: {e}");
        }
        Ok(db)
    }

    /// The read pool and the writer thread; an error is the cause as text, for `classify`.
    fn open_pool(path: &Path, synchronous: Synchronous, size: u32) -> std::result::Result<Db, String> {
        let manager = SqliteConnectionManager::file(path).with_init(move |c| configure(c, synchronous));
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| e.to_string())?;
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        configure(&conn, synchronous).map_err(|e| e.to_string())?;
        let feed = Arc::new(invalidations::Feed::default());
        let reader = feed.clone();
        let writer = writer::Writer::start(conn, Arc::new(move |c: &Connection| reader.catch_up_or_forget(c)))
            .map_err(|e| e.to_string())?;
        Ok(Db { pool, writer, feed, path: path.to_path_buf() })
    }

    /// Runs read-only work on a pooled connection, off the async workers.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        crate::blocking::run(move || db.read_now(work)).await
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction (so it never fails half-way on a lock
    /// upgrade) shared with the other writes queued meanwhile, each in its own savepoint:
    /// on error only `work`'s changes are rolled back. The result is returned after the
    /// commit: nothing is acknowledged before it is durable.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.submit(work).await
    }

    /// `read` for callers that are already on a blocking thread (CLI, startup).
    pub fn read_now<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let asked = std::time::Instant::now();
        let conn = self.pool.get()?;
        crate::metrics::METRICS.pool_wait(asked.elapsed());
        work(&conn)
    }

    /// `write` for callers that are already on a blocking thread (CLI, startup): its own
    /// transaction on a pooled connection, outside the writer's batches.
    pub fn write_now<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        crate::metrics::uncommitted::forget();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        crate::metrics::uncommitted::committed();
        self.feed.catch_up_or_forget(&conn);
        Ok(value)
    }

    /// The cache-invalidation feed (the token caches listen to it).
    pub fn feed(&self) -> &invalidations::Feed {
        &self.feed
    }

    /// Polls the invalidation feed every `every` on a thread and connection of its own, for
    /// what other processes write (this process's writes are read at commit). A thread, not
    /// a task on the blocking pool: a busy pool must not starve the lease the caches depend
    /// on. Stops when the returned watch is dropped.
    pub fn watch_feed(&self, every: std::time::Duration) -> Result<FeedWatch> {
        let conn = self.watch_connection()?;
        let feed = Arc::downgrade(&self.feed);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("cache-feed".into())
            .spawn(move || {
                while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    let Some(feed) = feed.upgrade() else { return };
                    feed.catch_up_or_forget(&conn);
                    drop(feed);
                    std::thread::sleep(every);
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start the cache-feed watcher: {e}")))?;
        Ok(FeedWatch { stop })
    }

    /// A connection of its own, outside the pool, for polling the feed.
    pub fn watch_connection(&self) -> Result<Connection> {
        Ok(Connection::open(&self.path)?)
    }

    /// Re-analyses every table whose size changed a lot since its statistics were taken
    /// (SQLite's advice for long-lived connections: at start, then periodically). The
    /// analysis limit keeps it to milliseconds even on a store of millions of tokens.
    pub fn optimize(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;").map_err(Error::from)
    }

    /// Folds the WAL back into the main file so a stopped server leaves one tidy file.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;").map_err(Error::from)
    }
}

/// The running feed watcher; dropping it stops the thread.
pub struct FeedWatch {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for FeedWatch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The pragmas of every connection, the pool's and the writer's. The busy timeout makes a
/// connection wait for another process's write lock (`tokend admin`) before giving up (503).
fn configure(conn: &Connection, synchronous: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
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

#[cfg(test)]
#[path = "plan_tests.rs"]
mod plan_tests;

fn classify(path: &str, cause: String) -> OpenError {
    if cause.contains("not a database") || cause.contains("malformed") {
        OpenError::Corrupt { path: path.to_string(), cause }
    } else {
        OpenError::Unopenable { path: path.to_string(), cause }
    }
}
