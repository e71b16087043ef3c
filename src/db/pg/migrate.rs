//! The PostgreSQL schema's versions, in table `schema_version`. A new database gets
//! `schema_pg.sql` whole; an older one each numbered migration of `migrations_pg/` after its
//! version, one transaction each. Nodes of a cluster start together, so all of it runs under
//! one session-level advisory lock: the first node migrates, the others wait, then find
//! nothing left to do.

use super::conn::PgConn;
use super::{LOCK_CLASS, MIGRATION_LOCK};
use crate::db::OpenError;
use crate::db::sql::{Sql, params};
use crate::error::Error;
use std::time::Duration;

/// The whole current PostgreSQL schema.
pub const SCHEMA: &str = include_str!("../../../schema_pg.sql");

/// Every migration, in order; the last number is the current version.
pub const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../../../migrations_pg/0001_initial.sql"))];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

/// How long a node waits for another node's migration (and a step may take) before it gives
/// up starting. The session's own timeouts are off meanwhile: waiting is the point.
const MIGRATION_WAIT: Duration = Duration::from_secs(600);

pub fn apply(conn: &PgConn, shown: &str) -> Result<(), OpenError> {
    let failed = |e: Error| OpenError::Postgres { shown: shown.to_string(), cause: e.to_string() };
    conn.batch("SET lock_timeout = 0; SET statement_timeout = 0").map_err(failed)?;
    let lock = format!("SELECT pg_advisory_lock({LOCK_CLASS}, {MIGRATION_LOCK})");
    conn.batch_within(&lock, MIGRATION_WAIT).map_err(failed)?;
    let result = apply_locked(conn, shown);
    let unlocked = conn.batch(&format!("SELECT pg_advisory_unlock({LOCK_CLASS}, {MIGRATION_LOCK})"));
    result?;
    unlocked.map_err(failed)
}

fn apply_locked(conn: &PgConn, shown: &str) -> Result<(), OpenError> {
    let failed = |e: Error| OpenError::Postgres { shown: shown.to_string(), cause: e.to_string() };
    let sql: &dyn Sql = conn;
    // Names, addresses and status texts are Unicode: a database in another encoding would
    // refuse some of them with an error instead of storing them.
    let encoding = sql
        .query_one("SELECT current_setting('server_encoding')", params![], |r| r.get::<String>(0))
        .map_err(failed)?;
    if encoding != "UTF8" {
        return Err(OpenError::Postgres {
            shown: shown.to_string(),
            cause: format!(
                "the database's encoding is {encoding}; tokend needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
            ),
        });
    }
    let versioned = sql
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", params![], |r| r.get::<bool>(0))
        .map_err(failed)?;
    let version = if versioned {
        sql.query_one("SELECT version FROM schema_version", params![], |r| r.get::<i64>(0)).map_err(failed)?
    } else {
        let tables = sql
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                params![],
                |r| r.get::<i64>(0),
            )
            .map_err(failed)?;
        if tables > 0 {
            return Err(OpenError::PostgresForeign { shown: shown.to_string() });
        }
        0
    };
    if version > latest_version() {
        return Err(OpenError::TooNew { path: shown.to_string(), found: version, known: latest_version() });
    }
    let steps: Vec<(i64, &str)> = if version == 0 {
        vec![(latest_version(), SCHEMA)]
    } else {
        MIGRATIONS.iter().copied().filter(|(v, _)| *v > version).collect()
    };
    for (target, ddl) in steps {
        let step = format!(
            "BEGIN; {ddl}; CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);
             DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ({target}); COMMIT;"
        );
        if let Err(e) = conn.batch_within(&step, MIGRATION_WAIT) {
            let _ = conn.batch("ROLLBACK");
            return Err(failed(e));
        }
        log::info!("database schema now at version {target} ({shown})");
    }
    Ok(())
}
