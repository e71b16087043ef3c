//! Schema versions, keyed by `PRAGMA user_version`. A new file gets `schema.sql` whole;
//! an older file gets each numbered migration after its version, one transaction each.

use super::OpenError;
use rusqlite::{Connection, TransactionBehavior};

/// The whole current schema.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Every migration, in order; the last number is the current schema version.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_audit_and_two_factor.sql")),
    (3, include_str!("../../migrations/0003_saymon.sql")),
    (4, include_str!("../../migrations/0004_two_factor_methods.sql")),
    (5, include_str!("../../migrations/0005_secret_budget.sql")),
    (6, include_str!("../../migrations/0006_cache_invalidations.sql")),
    (7, include_str!("../../migrations/0007_self_service.sql")),
    (8, include_str!("../../migrations/0008_token_lifecycle.sql")),
    (9, include_str!("../../migrations/0009_vault_key_check.sql")),
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

pub fn apply(conn: &mut Connection, path: &str) -> Result<(), OpenError> {
    // A full disk or a read-only file is not a corrupt database: only SQLite's own words for
    // a damaged file get the "restore from a backup" advice.
    let corrupt = |e: rusqlite::Error| super::sqlite_store::classify(path, e.to_string());
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(corrupt)?;
    let tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).map_err(corrupt)?;
    if version == 0 && tables > 0 {
        return Err(OpenError::Foreign { path: path.to_string() });
    }
    if version > latest_version() {
        return Err(OpenError::TooNew { path: path.to_string(), found: version, known: latest_version() });
    }
    let steps: Vec<(i64, &str)> = if version == 0 {
        vec![(latest_version(), SCHEMA)]
    } else {
        MIGRATIONS.iter().copied().filter(|(v, _)| *v > version).collect()
    };
    for (target, sql) in steps {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(corrupt)?;
        tx.execute_batch(sql).map_err(corrupt)?;
        tx.pragma_update(None, "user_version", target).map_err(corrupt)?;
        tx.commit().map_err(corrupt)?;
        log::info!("database schema now at version {target}");
    }
    Ok(())
}

/// Applies the numbered migrations from an empty file, ignoring `schema.sql`: the upgrade
/// path every existing installation takes. Tests compare its result with `SCHEMA`.
pub fn apply_all_migrations(conn: &mut Connection) -> rusqlite::Result<()> {
    for (target, sql) in MIGRATIONS {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The structure of every table (columns in order with type, nullability, default and
    /// key position; foreign keys; indexes with their columns; strictness), so that
    /// `CREATE TABLE` and `ALTER TABLE` histories compare equal when they build the same thing.
    fn schema_of(conn: &Connection) -> Vec<String> {
        let rows = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            let n = stmt.column_count();
            stmt.query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        };
        let mut out = Vec::new();
        let names = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        for name in names("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
            out.push(format!("table {name}"));
            out.extend(rows(&format!("SELECT name, strict FROM pragma_table_list('{name}')")));
            out.extend(rows(&format!(
                "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo('{name}')"
            )));
            out.extend(rows(&format!(
                "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{name}') ORDER BY \"from\""
            )));
            for index in names(&format!("SELECT name FROM pragma_index_list('{name}') ORDER BY name")) {
                out.push(format!("index {index}"));
                out.extend(rows(&format!(
                    "SELECT \"unique\", origin, partial FROM pragma_index_list('{name}') WHERE name = '{index}'"
                )));
                out.extend(rows(&format!("SELECT seqno, name FROM pragma_index_xinfo('{index}') WHERE key = 1")));
            }
        }
        // Triggers compare by their text: write them identically in both places.
        out.extend(rows("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"));
        out
    }

    #[test]
    fn schema_sql_and_the_migrated_schema_do_not_drift_apart() {
        let mut fresh = Connection::open_in_memory().unwrap();
        apply(&mut fresh, ":memory:").unwrap();
        let mut migrated = Connection::open_in_memory().unwrap();
        apply_all_migrations(&mut migrated).unwrap();
        assert_eq!(schema_of(&fresh), schema_of(&migrated));
        let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(version(&fresh), latest_version());
        assert_eq!(version(&migrated), latest_version());
    }

    #[test]
    fn a_foreign_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE other (x)").unwrap();
        assert!(matches!(apply(&mut conn, "x"), Err(OpenError::Foreign { .. })));
    }

    #[test]
    fn a_database_from_a_newer_tokend_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1).unwrap();
        assert!(matches!(apply(&mut conn, "x"), Err(OpenError::TooNew { .. })));
    }

    #[test]
    fn applying_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, "x").unwrap();
        apply(&mut conn, "x").unwrap();
    }
}
