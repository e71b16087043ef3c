//! The cache-invalidation feed: rows the store's triggers write whenever something a cached
//! credential is drawn from changes (see `cache_invalidations` in schema.sql). Every process
//! reads the rows after its own commits (the writer) and polls for other processes' (the
//! watcher), and hands them to whoever listens — the token caches in `accounts`.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};

/// What a cache must forget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// One token (by its SHA-256): logged out, removed, evicted by the cap.
    Token([u8; 32]),
    /// Every cached credential of one user: their record, roles, grants, second factors or
    /// API token changed, or they were deleted.
    User(String),
    /// Everything: a role's permissions changed.
    Everything,
}

type Listener = Box<dyn Fn(&[Invalidation]) + Send + Sync>;

/// Where the feed has been read up to, and who is told.
#[derive(Default)]
pub struct Feed {
    /// The newest row applied; guarded so two readers never apply rows out of order.
    last_id: Mutex<Option<i64>>,
    listener: OnceLock<Listener>,
    /// When the feed was last read successfully (ms since the epoch): caches trust their
    /// entries only while this is recent (they fail closed when the watcher stalls).
    read_at: AtomicI64,
}

impl Feed {
    /// Who is told of each batch of invalidations (set once, by the token caches).
    pub fn listen(&self, listener: impl Fn(&[Invalidation]) + Send + Sync + 'static) {
        let _ = self.listener.set(Box::new(listener));
    }

    /// Reads the rows written since the last read and tells the listener. Called by the
    /// writer after every commit (before any write is answered) and by the watcher.
    pub fn catch_up(&self, conn: &dyn Sql, now: Millis) -> Result<()> {
        let mut last = self.last_id.lock().unwrap_or_else(|e| e.into_inner());
        let Some(after) = *last else {
            // The first read only finds where the feed stands: nothing was cached before it.
            *last = Some(newest_id(conn)?);
            self.read_at.store(now, Ordering::SeqCst);
            return Ok(());
        };
        let (newest, found) = since(conn, after)?;
        if !found.is_empty() {
            if let Some(listener) = self.listener.get() {
                listener(&found);
            }
        }
        *last = Some(newest.max(after));
        self.read_at.store(now, Ordering::SeqCst);
        Ok(())
    }

    /// `catch_up`, and when the feed cannot be read, everything is forgotten and the caches
    /// distrust their entries until a read succeeds again: they fail closed.
    pub fn catch_up_or_forget(&self, conn: &dyn Sql) {
        if let Err(e) = self.catch_up(conn, crate::clock::now_ms()) {
            log::warn!("reading the cache-invalidation feed failed ({e}); the token caches start over");
            self.read_at.store(0, Ordering::SeqCst);
            if let Some(listener) = self.listener.get() {
                listener(&[Invalidation::Everything]);
            }
        }
    }

    /// When the feed was last read successfully.
    pub fn read_at(&self) -> Millis {
        self.read_at.load(Ordering::SeqCst)
    }
}

fn newest_id(conn: &dyn Sql) -> Result<i64> {
    conn.query_one("SELECT coalesce(max(id), 0) FROM cache_invalidations", params![], |r| r.get(0))
}

/// The rows after `after`, oldest first, and the newest id among them.
fn since(conn: &dyn Sql, after: i64) -> Result<(i64, Vec<Invalidation>)> {
    let mut newest = after;
    let mut found = Vec::new();
    let rows = conn.query(
        "SELECT id, token_hash, user_id FROM cache_invalidations WHERE id > ?1 ORDER BY id",
        params![after],
        |r| Ok((r.get::<i64>(0)?, r.get::<Option<Vec<u8>>>(1)?, r.get::<Option<String>>(2)?)),
    )?;
    for row in rows {
        let (id, token, user) = row;
        newest = newest.max(id);
        found.push(match (token.and_then(|t| <[u8; 32]>::try_from(t).ok()), user) {
            (Some(hash), _) => Invalidation::Token(hash),
            (None, Some(user)) => Invalidation::User(user),
            (None, None) => Invalidation::Everything,
        });
    }
    Ok((newest, found))
}

/// Deletes rows older than `older_than_ms`: every process has long read them.
pub fn purge(conn: &dyn Sql, now: Millis, older_than_ms: Millis) -> Result<usize> {
    if conn.dialect() != super::sql::Dialect::Sqlite {
        // The feed is SQLite's only (schema_pg.sql has no such table): nothing to purge.
        return Ok(0);
    }
    conn.exec("DELETE FROM cache_invalidations WHERE at < ?1", params![now - older_than_ms])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::sync::Arc;

    fn store() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrations::apply(&mut conn, ":memory:").unwrap();
        crate::db::seed::roles_and_permissions(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, username, created_at, updated_at) VALUES ('u1', 'alice', 0, 0);
             INSERT INTO tokens (user_id, token_hash, kind, created_at) VALUES ('u1', zeroblob(32), 'login', 0);",
        )
        .unwrap();
        conn
    }

    fn heard(conn: &Connection, feed: &Feed) -> Vec<Invalidation> {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        feed.listen(move |batch| sink.lock().unwrap().extend_from_slice(batch));
        feed.catch_up(conn, 1).unwrap();
        got.lock().unwrap().clone()
    }

    #[test]
    fn a_login_writes_nothing_to_forget_but_a_logout_names_its_token() {
        let conn = store();
        let feed = Feed::default();
        feed.catch_up(&conn, 0).unwrap();
        conn.execute_batch(
            "UPDATE users SET last_login = 5 WHERE id = 'u1';
             INSERT INTO tokens (user_id, token_hash, kind, created_at) VALUES ('u1', x'01', 'login', 0);",
        )
        .unwrap();
        conn.execute("DELETE FROM tokens WHERE token_hash = zeroblob(32)", []).unwrap();
        assert_eq!(heard(&conn, &feed), vec![Invalidation::Token([0; 32])]);
    }

    #[test]
    fn user_changes_name_the_user_and_permission_edits_name_everything() {
        let conn = store();
        let feed = Feed::default();
        feed.catch_up(&conn, 0).unwrap();
        conn.execute_batch(
            "UPDATE users SET active = 0 WHERE id = 'u1';
             INSERT INTO user_roles (user_id, role_id) VALUES ('u1', 'bot');
             DELETE FROM permission_roles WHERE permission_id = 'view-d-room' AND role_id = 'bot';",
        )
        .unwrap();
        let got = heard(&conn, &feed);
        assert_eq!(got[0], Invalidation::User("u1".into()));
        assert_eq!(got[1], Invalidation::User("u1".into()));
        assert_eq!(got[2], Invalidation::Everything);
    }

    #[test]
    fn the_triggers_need_nothing_newer_than_the_sqlite_of_an_older_distribution() {
        // `unixepoch('subsec')` (SQLite 3.42) is NULL in Debian 12's sqlite3 shell (3.40):
        // an operator's write from that shell then failed on `at NOT NULL` (attack run).
        for sql in [crate::db::migrations::SCHEMA, include_str!("../../migrations/0006_cache_invalidations.sql")] {
            assert!(!sql.contains("unixepoch") && !sql.contains("'subsec'"), "a trigger uses a newer time function");
        }
    }

    #[test]
    fn an_expired_token_purged_invalidates_nothing() {
        let conn = store();
        let feed = Feed::default();
        conn.execute("INSERT INTO tokens (user_id, token_hash, kind, created_at, expires_at) VALUES ('u1', x'02', 'login', 0, 1)", [])
            .unwrap();
        feed.catch_up(&conn, 0).unwrap();
        conn.execute("DELETE FROM tokens WHERE expires_at = 1", []).unwrap();
        assert!(heard(&conn, &feed).is_empty());
    }
}
