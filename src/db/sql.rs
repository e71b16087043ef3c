//! The executor every SQL function of the store is written against, so one text per
//! statement serves each engine (scale-out.md §4.2). A function takes `&dyn Sql` and runs
//! its statements with `exec`, `query_opt`, `query_one` or `query`; parameters are bound by
//! value kind (`Param`) and columns read by Rust type (`Column`), never by an engine's own
//! types, so a strictly typed engine (PostgreSQL: `u32` would bind as OID) sees only `BIGINT`,
//! `TEXT` and `BYTEA` values, and booleans travel as 0/1 integers on every engine.
//!
//! Statement texts use `?N` placeholders (an engine that numbers them `$N` rewrites them once
//! per prepared statement) and portable SQL (`ON CONFLICT DO NOTHING`, not `INSERT OR
//! IGNORE`); what has no portable spelling comes from `Dialect`.

use crate::error::{Error, Result};

/// Which SQL engine runs the statements: for the few constructs with no common spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// An aggregate joining the text `column` of a group with U+001F (none when no rows).
    pub fn joined(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({column}, char(31))"),
            Dialect::Postgres => format!("string_agg({column}, chr(31))"),
        }
    }

    /// The column that orders a table's rows by insertion (`roles`: the order of the seed).
    pub fn insertion_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "seq",
        }
    }

    /// The collation that compares text as usernames and e-mail addresses are compared:
    /// without regard to case (schema.sql's NOCASE, schema_pg.sql's `tokend_nocase`).
    pub fn nocase(self) -> &'static str {
        match self {
            Dialect::Sqlite => "COLLATE NOCASE",
            Dialect::Postgres => "COLLATE tokend_nocase",
        }
    }
}

/// A connection or transaction of either engine. Implemented for the SQLite connection (a
/// transaction derefs to it) in `sqlite.rs` and for a PostgreSQL connection in `pg/conn.rs`;
/// statements are prepared once per connection and cached by their text.
pub trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; the number of rows it changed.
    fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<usize>;
    /// Runs one query and hands each row to `row` until it returns false.
    fn each(&self, sql: &str, params: &[&dyn Param], row: &mut dyn FnMut(&Row<'_>) -> Result<bool>) -> Result<()>;
}

impl dyn Sql + '_ {
    /// The first row mapped by `map`, or `None`.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut map = Some(map);
        let mut found = None;
        self.each(sql, params, &mut |row| {
            if let Some(map) = map.take() {
                found = Some(map(row)?);
            }
            Ok(false)
        })?;
        Ok(found)
    }

    /// The first row mapped by `map`; no row is an internal error (for aggregates).
    pub fn query_one<T>(&self, sql: &str, params: &[&dyn Param], map: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.query_opt(sql, params, map)?.ok_or_else(|| Error::Internal(format!("no row from: {sql}")))
    }

    /// Every row, each mapped by `map`.
    pub fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        self.each(sql, params, &mut |row| {
            all.push(map(row)?);
            Ok(true)
        })?;
        Ok(all)
    }
}

/// The value of `LIMIT ?N` for an optional limit: all rows when there is none (or a
/// negative one). SQLite reads a negative limit as none, PostgreSQL refuses it.
pub fn no_limit(limit: Option<i64>) -> i64 {
    limit.filter(|n| *n >= 0).unwrap_or(i64::MAX)
}

/// `params![a, b]`: the statement's parameters, in `?N` order.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::sql::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::sql::Param),+] as &[&dyn $crate::db::sql::Param] };
}
pub(crate) use params;

/// A parameter's value by kind. A NULL keeps its kind: a strictly typed engine must know
/// the type of a NULL parameter too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Blob(Option<&'a [u8]>),
}

/// A Rust value that binds as a statement parameter.
pub trait Param {
    fn value(&self) -> Value<'_>;
}

/// The NULL of a parameter type, for `Option<T>`.
pub trait Nullable {
    const NULL: Value<'static>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                // Every integer binds as a 64-bit one (BIGINT); counts and limits fit.
                Value::Int(Some(i64::try_from(*self).unwrap_or(i64::MAX)))
            }
        }
        impl Nullable for $t {
            const NULL: Value<'static> = Value::Int(None);
        }
    )*};
}
int_param!(i64, i32, u32, u64, usize);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(Some(i64::from(*self)))
    }
}
impl Nullable for bool {
    const NULL: Value<'static> = Value::Int(None);
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(Some(self))
    }
}
impl Nullable for str {
    const NULL: Value<'static> = Value::Text(None);
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(Some(self))
    }
}
impl Nullable for String {
    const NULL: Value<'static> = Value::Text(None);
}

impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(Some(self))
    }
}
impl Nullable for [u8] {
    const NULL: Value<'static> = Value::Blob(None);
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(Some(self))
    }
}
impl Nullable for Vec<u8> {
    const NULL: Value<'static> = Value::Blob(None);
}
impl<const N: usize> Param for [u8; N] {
    fn value(&self) -> Value<'_> {
        Value::Blob(Some(self))
    }
}
impl<const N: usize> Nullable for [u8; N] {
    const NULL: Value<'static> = Value::Blob(None);
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Nullable + ?Sized> Nullable for &T {
    const NULL: Value<'static> = T::NULL;
}

impl<T: Param + Nullable> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => T::NULL,
        }
    }
}

pub(super) use super::column::RowOf;
pub use super::column::{Column, Row};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_bind_by_kind_and_a_null_keeps_its_kind() {
        assert_eq!(7u32.value(), Value::Int(Some(7)));
        assert_eq!(true.value(), Value::Int(Some(1)));
        assert_eq!(None::<&str>.value(), Value::Text(None));
        assert_eq!(None::<bool>.value(), Value::Int(None));
        assert_eq!(Some("a").value(), Value::Text(Some("a")));
        assert_eq!([1u8, 2].value(), Value::Blob(Some(&[1, 2][..])));
    }
}
