//! The SQLite side of the executor (`sql.rs`): statements through rusqlite's per-connection
//! statement cache, parameters bound from their kinds, and SQLite's errors classified into
//! the domain's (a broken uniqueness rule is a conflict; busy, read-only, full or failing
//! storage is unavailable, with advice for the operator).

use super::sql::{Dialect, Param, Row, RowOf, Sql, Value};
use crate::error::{Error, Result};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode};

/// How many prepared statements each connection keeps (rusqlite's default of 16 is fewer
/// than the store's distinct statements, so busy ones would be re-prepared).
pub(super) const STATEMENT_CACHE: usize = 128;

impl Sql for Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        Ok(self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params.iter().map(|p| Bind(*p))))?)
    }

    fn each(&self, sql: &str, params: &[&dyn Param], row: &mut dyn FnMut(&Row<'_>) -> Result<bool>) -> Result<()> {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(|p| Bind(*p))))?;
        while let Some(r) = rows.next()? {
            if !row(&Row { inner: RowOf::Sqlite(r) })? {
                break;
            }
        }
        Ok(())
    }
}

/// A parameter as rusqlite binds it, borrowing text and bytes.
struct Bind<'a>(&'a dyn Param);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0.value() {
            Value::Int(Some(i)) => ValueRef::Integer(i),
            Value::Text(Some(s)) => ValueRef::Text(s.as_bytes()),
            Value::Blob(Some(b)) => ValueRef::Blob(b),
            Value::Int(None) | Value::Text(None) | Value::Blob(None) => ValueRef::Null,
        }))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(code, _) = &err {
            match code.code {
                ErrorCode::ConstraintViolation => return Error::Conflict(err.to_string()),
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure => {
                    let code = (code.code, code.extended_code);
                    return Error::Unavailable(format!("{err} (SQLite code {}): {}", code.1, advice(code.0)));
                }
                _ => {}
            }
        }
        Error::Internal(err.to_string())
    }
}

impl From<r2d2::Error> for Error {
    fn from(err: r2d2::Error) -> Self {
        Error::Unavailable(format!("no database connection available: {err}"))
    }
}

/// What the operator can do about a transient storage failure: the log line says it, since
/// SQLite's own text ("disk I/O error") does not.
fn advice(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::DiskFull => "the file system holding the database is full; writes resume once space is freed",
        ErrorCode::ReadOnly => "the database is read-only; make the file, its -wal and -shm and its directory writable",
        ErrorCode::CannotOpen => "the database file cannot be opened; check the data directory and its permissions",
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
            "another writer held the database lock for longer than the busy timeout"
        }
        _ => {
            "reading or writing the database file failed; check that its file system is writable, not full and healthy"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::params;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER, s TEXT, b BLOB, f INTEGER)").unwrap();
        conn
    }

    #[test]
    fn parameters_bind_by_kind_and_columns_read_back_as_written() {
        let conn = store();
        let sql: &dyn Sql = &conn;
        let (cap, blob) = (50u32, [7u8; 3]);
        let n = sql.exec("INSERT INTO t (n, s, b, f) VALUES (?1, ?2, ?3, ?4)", params![cap, "x", blob, true]).unwrap();
        assert_eq!(n, 1);
        sql.exec(
            "INSERT INTO t (n, s, b, f) VALUES (?1, ?2, ?3, ?4)",
            params![None::<i64>, None::<&str>, None::<Vec<u8>>, false],
        )
        .unwrap();
        let rows = sql
            .query("SELECT n, s, b, f FROM t ORDER BY n IS NULL", params![], |r| {
                Ok((
                    r.get::<Option<i64>>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<Option<Vec<u8>>>(2)?,
                    r.get::<bool>(3)?,
                ))
            })
            .unwrap();
        assert_eq!(rows, vec![(Some(50), Some("x".into()), Some(vec![7; 3]), true), (None, None, None, false)]);
    }

    #[test]
    fn query_opt_takes_the_first_row_and_query_one_needs_one() {
        let conn = store();
        let sql: &dyn Sql = &conn;
        for n in 1..=3i64 {
            sql.exec("INSERT INTO t (n) VALUES (?1)", params![n]).unwrap();
        }
        let first = sql.query_opt("SELECT n FROM t ORDER BY n DESC", params![], |r| r.get::<i64>(0)).unwrap();
        assert_eq!(first, Some(3));
        let none = sql.query_opt("SELECT n FROM t WHERE n > ?1", params![9], |r| r.get::<i64>(0)).unwrap();
        assert_eq!(none, None);
        assert!(matches!(
            sql.query_one("SELECT n FROM t WHERE n > 9", params![], |r| r.get::<i64>(0)),
            Err(Error::Internal(_))
        ));
        // A placeholder used twice and out of order, as the store's statements do.
        let same = sql.query_one("SELECT ?2 = ?1 AND ?1 = ?2", params![4, 4], |r| r.get::<bool>(0)).unwrap();
        assert!(same);
    }

    #[test]
    fn a_broken_uniqueness_rule_is_a_conflict() {
        let conn = store();
        conn.execute_batch("CREATE UNIQUE INDEX t_n ON t (n)").unwrap();
        let sql: &dyn Sql = &conn;
        sql.exec("INSERT INTO t (n) VALUES (1)", params![]).unwrap();
        assert!(matches!(sql.exec("INSERT INTO t (n) VALUES (1)", params![]), Err(Error::Conflict(_))));
        // The portable spelling of "insert unless present" is accepted.
        assert_eq!(sql.exec("INSERT INTO t (n) VALUES (1) ON CONFLICT DO NOTHING", params![]).unwrap(), 0);
    }
}
