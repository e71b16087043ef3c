//! One PostgreSQL connection as the store's executor (`sql::Sql`): the shared statement
//! texts with `?N` rewritten to `$N`, each prepared once per connection with its parameter
//! types taken from the values bound (64-bit integer, text or bytes), so PostgreSQL never has
//! to guess a type (`?1 IS NULL` alone gives it nothing to guess from). Every round trip is
//! bounded by the store's timeout; a connection that timed out or lost its socket is marked
//! broken and the pool replaces it.

use super::socket::Driver;
use crate::db::sql::{Dialect, Param, Row, RowOf, Sql, Value};
use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Statement};

/// How much longer than the server's own timeouts the client waits for an answer.
const CLIENT_MARGIN: Duration = Duration::from_secs(1);

/// Most statement texts kept prepared per connection, as SQLite's statement cache.
const STATEMENT_CACHE: usize = 128;

/// Prepared statements by text, each with the parameter types it was prepared for.
type Prepared = HashMap<String, Vec<(Vec<Type>, Statement)>>;

pub struct PgConn {
    client: Client,
    /// Drives the socket on the calling thread (`socket.rs`).
    driver: RefCell<Driver>,
    statements: RefCell<Prepared>,
    broken: Cell<bool>,
    timeout: Duration,
}

impl PgConn {
    /// A new connection, with the server told the timeout for its statements and lock waits
    /// (a statement the client gave up on must not keep its locks) and for idle transactions.
    /// The client waits a little longer than the server, so a statement or lock wait that hits
    /// the limit gets the server's clean refusal and the connection stays usable.
    pub(super) fn ready(client: Client, driver: Driver, timeout: Duration) -> Result<PgConn> {
        let driver = RefCell::new(driver);
        let limit = timeout + CLIENT_MARGIN;
        let conn = PgConn { client, driver, statements: RefCell::default(), broken: Cell::new(false), timeout: limit };
        let ms = timeout.as_millis();
        conn.batch(&format!(
            "SET statement_timeout = {ms}; SET lock_timeout = {ms}; SET idle_in_transaction_session_timeout = {}",
            ms * 2
        ))?;
        Ok(conn)
    }

    /// Runs statements given as plain text (transaction control, settings, DDL).
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.round_trip(self.client.batch_execute(sql), self.timeout)
    }

    /// `batch` with a limit of its own, for what may rightly wait long (the schema migration
    /// of another node, under its lock), on a session whose server-side timeouts are off.
    pub fn batch_within(&self, sql: &str, limit: Duration) -> Result<()> {
        self.round_trip(self.client.batch_execute(sql), limit)
    }

    pub fn is_broken(&self) -> bool {
        self.broken.get() || self.client.is_closed() || self.driver.borrow().closed
    }

    /// `is_broken`, after reading what the server sent while this connection was idle.
    pub fn is_usable(&self) -> bool {
        self.driver.borrow_mut().poll_idle();
        !self.is_broken()
    }

    /// Marks the connection unusable: the pool drops it instead of handing it out again
    /// (closing the socket also ends any transaction left open on it).
    pub fn discard(&self) {
        self.broken.set(true);
    }

    /// Waits for one exchange with the server; a timeout or a transport failure breaks
    /// the connection (its state is unknown), a refusal by the server does not.
    fn round_trip<T>(
        &self,
        work: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
        limit: Duration,
    ) -> Result<T> {
        let answer = self.driver.borrow_mut().run(limit, work);
        match answer {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => {
                if ends_the_session(&e) {
                    self.broken.set(true);
                }
                Err(classify(&e))
            }
            None => {
                self.broken.set(true);
                Err(Error::Unavailable(format!("PostgreSQL did not answer within {limit:?}")))
            }
        }
    }

    fn statement(&self, sql: &str, params: &[&dyn Param]) -> Result<Statement> {
        if params.iter().any(|p| matches!(p.value(), Value::Text(Some(t)) if t.contains('\0'))) {
            // PostgreSQL text cannot hold NUL: refused as bad input (400), not a failure.
            return Err(Error::Refused(crate::accounts::Refusal::UnstorableText));
        }
        let types: Vec<Type> = params.iter().map(|p| type_of(p.value())).collect();
        if let Some(found) = self.statements.borrow().get(sql).and_then(|v| v.iter().find(|(t, _)| *t == types)) {
            return Ok(found.1.clone());
        }
        let prepared = self.round_trip(self.client.prepare_typed(&numbered(sql), &types), self.timeout)?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENT_CACHE {
            // The store has far fewer texts than this; more means texts built from requests
            // (sort orders). Dropping them closes them on the server as well.
            statements.clear();
        }
        statements.entry(sql.to_string()).or_default().push((types, prepared.clone()));
        Ok(prepared)
    }
}

impl Sql for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        let statement = self.statement(sql, params)?;
        let values: Vec<Bind<'_>> = params.iter().map(|p| Bind(p.value())).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = self.round_trip(self.client.execute(&statement, &refs), self.timeout)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn each(&self, sql: &str, params: &[&dyn Param], row: &mut dyn FnMut(&Row<'_>) -> Result<bool>) -> Result<()> {
        let statement = self.statement(sql, params)?;
        let values: Vec<Bind<'_>> = params.iter().map(|p| Bind(p.value())).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        for r in self.round_trip(self.client.query(&statement, &refs), self.timeout)? {
            if !row(&Row { inner: RowOf::Postgres(&r) })? {
                break;
            }
        }
        Ok(())
    }
}

/// Whether a failed exchange leaves the connection unusable: a transport failure, or the
/// server ending the session (FATAL: shutdown, termination, an idle transaction cut off) or
/// being read-only now (a standby: tokend must reconnect to find the primary).
fn ends_the_session(e: &tokio_postgres::Error) -> bool {
    let Some(db) = e.as_db_error() else { return true };
    let code = db.code().code();
    matches!(db.severity(), "FATAL" | "PANIC") || code.starts_with("08") || code.starts_with("57P") || code == "25006"
}

/// The PostgreSQL type a parameter of this kind is declared as.
fn type_of(value: Value<'_>) -> Type {
    match value {
        Value::Int(_) => Type::INT8,
        Value::Text(_) => Type::TEXT,
        Value::Blob(_) => Type::BYTEA,
    }
}

/// `?N` placeholders as PostgreSQL numbers them (`$N`). The store's statements hold no `?`
/// inside string literals.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A bound value, encoded as the type the statement was prepared with.
#[derive(Debug)]
struct Bind<'a>(Value<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Int(Some(i)) => i.to_sql(ty, out),
            Value::Text(Some(s)) => s.to_sql(ty, out),
            Value::Blob(Some(b)) => b.to_sql(ty, out),
            Value::Int(None) | Value::Text(None) | Value::Blob(None) => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        // The statement was prepared with the types of these very values (`type_of`).
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// The domain's error for a failed exchange: a broken uniqueness or reference rule is a
/// conflict (named by its constraint, never by the values), a server that is gone, read-only,
/// shutting down or over its timeouts is unavailable; anything else is internal.
pub(crate) fn classify(e: &tokio_postgres::Error) -> Error {
    let Some(db) = e.as_db_error() else {
        return Error::Unavailable(format!("the connection to PostgreSQL failed: {}", explain(e)));
    };
    let code = db.code().code();
    let constraint = db.constraint().unwrap_or("");
    match &code[..2] {
        "23" => Error::Conflict(format!("{} violates constraint {constraint}", db.table().unwrap_or("a table"))),
        // Connection exceptions, insufficient resources, operator intervention (shutdown,
        // statement or lock timeout, cancel), serialization and deadlock.
        "08" | "53" | "57" | "40" | "55" => Error::Unavailable(format!("PostgreSQL: {} ({code})", db.message())),
        // A read-only transaction: the server is (now) a standby.
        _ if code == "25006" => Error::Unavailable(format!("PostgreSQL: {} ({code})", db.message())),
        _ => Error::Internal(format!("PostgreSQL: {} ({code})", db.message())),
    }
}

/// An error as an operator needs it: the server's own message and SQLSTATE (tokio-postgres
/// shows only "db error"), or the error with its causes (a TLS handshake's "invalid peer
/// certificate: UnknownIssuer" sits two levels down). Neither carries the conninfo.
pub(crate) fn explain(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Reads a column as the Rust type the store asks for, whatever integer width or boolean
/// PostgreSQL chose for an expression (`count(*)` is BIGINT, `1` INTEGER, `a = b` BOOLEAN).
pub(crate) fn integer(row: &tokio_postgres::Row, i: usize) -> Result<Option<i64>> {
    let ty = row.columns().get(i).map(|c| c.type_().clone()).ok_or_else(|| column_error(i, "missing"))?;
    let got = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
        other => return Err(column_error(i, &format!("is {other}, not an integer"))),
    };
    got.map_err(|e| column_error(i, &e.to_string()))
}

pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a tokio_postgres::Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(|e| column_error(i, &e.to_string()))
}

fn column_error(i: usize, what: &str) -> Error {
    Error::Internal(format!("column {i}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_renumbered_in_place_and_reuse_keeps_their_number() {
        assert_eq!(numbered("VALUES (?1, 0, ?4, ?2, ?3, ?1)"), "VALUES ($1, 0, $4, $2, $3, $1)");
        assert_eq!(numbered("a ?10 b"), "a $10 b");
        assert_eq!(numbered("x ? y"), "x ? y");
    }
}
