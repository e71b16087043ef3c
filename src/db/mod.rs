//! The store: every SQL statement of tokend, and the two engines that run them. This module
//! tree is the only place that contains SQL or names an engine: every SQL function is written
//! against the executor `sql::Sql` (one text per statement, typed parameters and columns),
//! which SQLite's connections (`sqlite.rs`, `sqlite_store.rs`: a read pool and the
//! group-commit writer) and PostgreSQL's (`pg/`) implement; callers get a `&dyn Sql` in their
//! `read` and `write` closures, and `Db` picks the engine from the configuration.

pub mod audit;
pub mod bench_seed;
pub mod budget;
mod column;
pub mod email_2fa;
pub mod invalidations;
pub mod inventory;
pub mod lifecycle;
pub mod migrations;
pub mod password_resets;
pub mod pats;
pub mod pg;
pub mod ready;
pub mod roles;
pub mod saymon;
pub mod scope;
pub mod seed;
pub mod snapshot;
pub mod sql;
mod sqlite;
mod sqlite_store;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod users;
pub mod vault_key_check;
mod writer;

use crate::config::Config;
use crate::error::Result;
pub use scope::Scope;
pub use sql::Sql;
use sqlite_store::SqliteStore;
use std::sync::Arc;

#[derive(Clone)]
pub struct Db {
    engine: Engine,
    /// The cache-invalidation feed, read after every commit of this process's SQLite writer
    /// and polled for other writers' (`watch_feed`). On PostgreSQL it is never read, so the
    /// token caches never trust an entry: every lookup reads the store (no cache across nodes).
    feed: Arc<invalidations::Feed>,
}

#[derive(Clone)]
enum Engine {
    Sqlite(SqliteStore),
    Postgres(pg::PgStore),
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
        "cannot use the PostgreSQL database ({shown}): {cause}. Check TOKEND_DATABASE_URL, that a server in it is up and accepts writes, and that its user may create tables in the database"
    )]
    Postgres { shown: String, cause: String },
    #[error(
        "the PostgreSQL database ({shown}) has tables but no tokend schema version: it belongs to something else. Give tokend a database of its own"
    )]
    PostgresForeign { shown: String },
    #[error(
        "{path} was written by a newer tokend (schema version {found}, this binary knows up to {known}). Run the newer binary, or restore a backup made by this version"
    )]
    TooNew { path: String, found: i64, known: i64 },
}

impl Db {
    /// Opens the store of `config`: PostgreSQL when `TOKEND_DATABASE_URL` is set, else the
    /// SQLite file in the data directory (created if needed). Migrates and seeds it.
    pub fn open(config: &Config) -> std::result::Result<Db, OpenError> {
        let feed = Arc::new(invalidations::Feed::default());
        let engine = match &config.database_url {
            Some(url) => {
                let shown = "TOKEND_DATABASE_URL".to_string();
                let target = pg::connect::Target::parse(url.expose(), config.database_timeout)
                    .map_err(|cause| OpenError::Postgres { shown, cause })?;
                let store = pg::PgStore::open(target.clone(), config.db_pool_size)?;
                store
                    .write(Scope::global(), seed::roles_and_permissions)
                    .map_err(|e| OpenError::Postgres { shown: target.shown.clone(), cause: e.to_string() })?;
                Engine::Postgres(store)
            }
            None => Engine::Sqlite(SqliteStore::open(
                &config.database_path(),
                &config.data_dir,
                config.synchronous,
                config.db_pool_size,
                feed.clone(),
            )?),
        };
        Ok(Db { engine, feed })
    }

    /// What log lines call the store: the SQLite file, or PostgreSQL's hosts and database.
    pub fn describe(&self) -> String {
        match &self.engine {
            Engine::Sqlite(s) => s.path.display().to_string(),
            Engine::Postgres(p) => p.target.shown.clone(),
        }
    }

    /// Whether several processes may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// Runs read-only work on a pooled connection, off the async workers.
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&dyn Sql) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        crate::blocking::run(move || db.read_now(work)).await
    }

    /// Runs `work` in a transaction, and returns its result once committed: nothing is
    /// acknowledged before it is durable.
    ///
    /// On SQLite the transaction is `BEGIN IMMEDIATE` (so it never fails half-way on a lock
    /// upgrade), shared with the other writes queued meanwhile, each in its own savepoint:
    /// on error only `work`'s changes are rolled back. SQLite's single writer already
    /// serialises every write, so `scope` is not needed there. On PostgreSQL each write has
    /// its own transaction, serialised with the others of its `scope` by advisory locks.
    pub async fn write<T, F>(&self, scope: Scope, work: F) -> Result<T>
    where
        F: FnOnce(&dyn Sql) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(s) => s.writer.submit(work).await,
            Engine::Postgres(p) => {
                let p = p.clone();
                crate::blocking::run(move || p.write(scope, work)).await
            }
        }
    }

    /// `read` for callers that are already on a blocking thread (CLI, startup).
    pub fn read_now<T>(&self, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        match &self.engine {
            Engine::Sqlite(s) => s.read_now(work),
            Engine::Postgres(p) => p.read(work),
        }
    }

    /// `write` for callers that are already on a blocking thread (CLI, startup): its own
    /// transaction, outside the writer's batches.
    pub fn write_now<T>(&self, scope: Scope, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        match &self.engine {
            Engine::Sqlite(s) => s.write_now(&self.feed, work),
            Engine::Postgres(p) => p.write(scope, work),
        }
    }

    /// Maintenance that one process of a cluster does for all (the periodic purge): runs
    /// `work` in a transaction unless another node is running it right now (`None`). On
    /// SQLite every process may run it; its statements stand alone.
    pub async fn write_once<T, F>(&self, work: F) -> Result<Option<T>>
    where
        F: FnOnce(&dyn Sql) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.engine {
            Engine::Sqlite(_) => self.write(Scope::Blind, work).await.map(Some),
            Engine::Postgres(p) => {
                let p = p.clone();
                crate::blocking::run(move || p.write_alone(pg::PURGE_LOCK, work)).await
            }
        }
    }

    /// The database server's clock (PostgreSQL), to compare with this node's; `None` on
    /// SQLite, which has no clock of its own.
    pub fn server_clock_ms(&self) -> Result<Option<i64>> {
        match &self.engine {
            Engine::Sqlite(_) => Ok(None),
            Engine::Postgres(p) => p.server_clock_ms().map(Some),
        }
    }

    /// The cache-invalidation feed (the token caches listen to it).
    pub fn feed(&self) -> &invalidations::Feed {
        &self.feed
    }

    /// Polls the invalidation feed every `every` on a thread and connection of its own, for
    /// what other processes write (this process's writes are read at commit). A thread, not
    /// a task on the blocking pool: a busy pool must not starve the lease the caches depend
    /// on. Stops when the returned watch is dropped. On PostgreSQL there is nothing to poll:
    /// the caches stay unused.
    pub fn watch_feed(&self, every: std::time::Duration) -> Result<FeedWatch> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let Engine::Sqlite(store) = &self.engine else { return Ok(FeedWatch { stop }) };
        let conn = store.watch_connection()?;
        let feed = Arc::downgrade(&self.feed);
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
            .map_err(|e| crate::error::Error::Internal(format!("cannot start the cache-feed watcher: {e}")))?;
        Ok(FeedWatch { stop })
    }

    /// Refreshes SQLite's planner statistics; PostgreSQL's autovacuum does this itself.
    pub fn optimize(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(s) => s.optimize(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Folds SQLite's WAL back into the main file so a stopped server leaves one tidy file.
    pub fn checkpoint(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(s) => s.checkpoint(),
            Engine::Postgres(_) => Ok(()),
        }
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

/// An empty in-memory store with no schema, for unit tests outside this module.
#[cfg(test)]
pub fn empty_scratch_store() -> impl Sql {
    rusqlite::Connection::open_in_memory().expect("an in-memory SQLite database")
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod plan_tests;
