//! The PostgreSQL engine, for several tokend nodes on one database (scale-out.md §2): a pool
//! of connections (`connect.rs`), the executor (`conn.rs`) and the schema (`migrate.rs`).
//!
//! Writes do not go through SQLite's group-commit writer: each runs in a transaction of its
//! own at READ COMMITTED, after taking the advisory locks its `Scope` names, so the store's
//! read-then-write closures see every commit that could change their decision (§2.4), and
//! PostgreSQL batches the commits' WAL flushes itself.

pub mod conn;
pub mod connect;
mod conninfo;
pub mod migrate;
mod socket;
mod tls;

use crate::db::{Scope, Sql};
use crate::error::{Error, Result};
use conn::PgConn;
use connect::{Manager, Target};
use r2d2::Pool;

/// A transaction begun on a connection; dropped before `finished`, it discards the connection.
struct OpenTransaction<'a>(&'a PgConn);

impl OpenTransaction<'_> {
    fn finished(self) {
        std::mem::forget(self);
    }
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        self.0.discard();
    }
}

/// The advisory-lock namespace of tokend's own once-per-cluster work, in the two-key form so
/// that it cannot meet the one-key locks of `Scope` (PostgreSQL keeps the two apart).
pub const LOCK_CLASS: i32 = 0x746f_6b64; // "tokd"
/// Held while the schema is created or migrated: nodes starting together wait their turn.
pub const MIGRATION_LOCK: i32 = 1;
/// Held while the periodic purge runs: one node purges at a time.
pub const PURGE_LOCK: i32 = 2;

#[derive(Clone)]
pub struct PgStore {
    pool: Pool<Manager>,
    pub target: Target,
}

impl PgStore {
    /// Connects (each host in turn), brings the schema up to date under the migration lock
    /// and fills the pool.
    pub fn open(target: Target, pool_size: u32) -> std::result::Result<PgStore, crate::db::OpenError> {
        let unusable = |e: Error| crate::db::OpenError::Postgres { shown: target.shown.clone(), cause: e.to_string() };
        let first = target.connect().map_err(unusable)?;
        migrate::apply(&first, &target.shown)?;
        drop(first);
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            // Checked out only if its socket is still open (`Manager::is_valid` asks no
            // server); one whose statement failed at the transport level is dropped.
            .test_on_check_out(true)
            .connection_timeout(target.connect_budget())
            .build_unchecked(Manager(target.clone()));
        Ok(PgStore { pool, target })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Manager>> {
        let asked = std::time::Instant::now();
        let conn = self.pool.get().map_err(|e| Error::Unavailable(format!("no PostgreSQL connection: {e}")))?;
        crate::metrics::METRICS.pool_wait(asked.elapsed());
        Ok(conn)
    }

    /// Read-only work, each statement on its own snapshot (as SQLite's pooled readers).
    pub fn read<T>(&self, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        work(&*self.connection()?)
    }

    /// `work` in one transaction, after the advisory locks of `scope` (global before user:
    /// one order everywhere, so two writes never wait on each other in a cycle).
    pub fn write<T>(&self, scope: Scope, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        let mut conn = self.connection()?;
        if let Err(e) = conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED") {
            // Nothing was sent but the BEGIN: on a dead connection, start again on a new one.
            if !conn.is_broken() {
                return Err(e);
            }
            drop(conn);
            conn = self.connection()?;
            conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        }
        crate::metrics::uncommitted::forget();
        // Until COMMIT or ROLLBACK has answered, the connection is inside a transaction that
        // holds advisory locks: if `work` panics (the blocking pool catches it), the guard
        // discards the connection instead of returning it to the pool half-way.
        let open = OpenTransaction(&conn);
        let outcome = Self::locked(&conn, scope).and_then(|()| work(&*conn));
        // Whether the session is known to be outside any transaction again.
        let (outcome, clean) = match outcome {
            Ok(value) => match conn.batch("COMMIT") {
                Ok(()) => (Ok(value), true),
                Err(e) => (Err(e), false),
            },
            // A dead connection's transaction ends with its socket; a live one is rolled back.
            Err(e) if conn.is_broken() => (Err(e), false),
            Err(e) => match conn.batch("ROLLBACK") {
                Ok(()) => (Err(e), true),
                Err(rollback) => {
                    log::warn!(
                        "rolling back a failed write on PostgreSQL failed ({rollback}); the connection is dropped"
                    );
                    (Err(e), false)
                }
            },
        };
        // Otherwise (a COMMIT or ROLLBACK that did not answer cleanly) the guard drops it.
        if clean && !conn.is_broken() {
            open.finished();
        }
        if outcome.is_ok() {
            crate::metrics::uncommitted::committed();
        }
        outcome
    }

    fn locked(conn: &PgConn, scope: Scope) -> Result<()> {
        for key in scope.keys() {
            conn.exec("SELECT pg_advisory_xact_lock(?1)", crate::db::sql::params![key])?;
        }
        Ok(())
    }

    /// `work` in one transaction if no other node holds the advisory lock `which` of tokend's
    /// class right now; `None` when one does (it is doing the same work).
    pub fn write_alone<T>(&self, which: i32, work: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<Option<T>> {
        self.write(Scope::Blind, |tx| {
            let mine = tx.query_one(
                "SELECT pg_try_advisory_xact_lock(CAST(?1 AS INTEGER), CAST(?2 AS INTEGER))",
                crate::db::sql::params![i64::from(LOCK_CLASS), i64::from(which)],
                |r| r.get::<bool>(0),
            )?;
            if mine { work(tx).map(Some) } else { Ok(None) }
        })
    }

    /// The readiness probe: a pooled connection answers, and its server accepts writes (a
    /// server that became a standby answers reads but would refuse every write).
    pub fn probe(&self) -> Result<()> {
        let writable = self.read(|conn| conn.query_one("SELECT NOT pg_is_in_recovery()", &[], |r| r.get::<bool>(0)))?;
        if writable { Ok(()) } else { Err(Error::Unavailable("the PostgreSQL server is a standby (read-only)".into())) }
    }

    /// The database server's clock, in milliseconds since the epoch.
    pub fn server_clock_ms(&self) -> Result<i64> {
        self.read(|conn| {
            conn.query_one("SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)", &[], |r| {
                r.get::<i64>(0)
            })
        })
    }
}
