//! Result rows of either engine, and the Rust types their columns are read as (`sql.rs`
//! binds the parameters). Each engine's conversion is spelled out per type, so a strictly
//! typed engine gets the same Rust values as SQLite.

use crate::error::{Error, Result};

/// One result row of either engine.
pub struct Row<'a> {
    pub(super) inner: RowOf<'a>,
}

pub(super) enum RowOf<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T> {
        match &self.inner {
            RowOf::Sqlite(r) => Ok(T::from_sqlite(r, i)?),
            RowOf::Postgres(r) => T::from_pg(r, i),
        }
    }
}

/// A Rust type a column is read as. Each engine's conversion is spelled out per type, so a
/// strictly typed engine gets the same Rust values (booleans are 0/1 integers everywhere).
pub trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self>;
}

/// Integers and flags: PostgreSQL's column may be any integer width or a boolean.
macro_rules! integer_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
                Option::<$t>::from_pg(row, i)?.ok_or_else(|| Error::Internal(format!("column {i} is NULL")))
            }
        }
        impl Column for Option<$t> {
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
                super::pg::conn::integer(row, i)?
                    .map(|v| <$t>::try_from(v).map_err(|_| Error::Internal(format!("column {i} is out of range"))))
                    .transpose()
            }
        }
    )*};
}
integer_column!(i64, u32);

impl Column for bool {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        Option::<bool>::from_pg(row, i)?.ok_or_else(|| Error::Internal(format!("column {i} is NULL")))
    }
}
impl Column for Option<bool> {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
        Ok(super::pg::conn::integer(row, i)?.map(|v| v != 0))
    }
}

/// Text and bytes: the same type on both engines.
macro_rules! plain_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
                super::pg::conn::get(row, i)
            }
        }
        impl Column for Option<$t> {
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self> {
                super::pg::conn::get(row, i)
            }
        }
    )*};
}
plain_column!(String, Vec<u8>);
