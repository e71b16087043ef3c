//! Where a test's server keeps its store, and how a test reads or arranges it directly.
//!
//! By default each server gets a fresh SQLite file in its own temporary directory. With
//! `TOKEND_TEST_DATABASE_URL` set to a PostgreSQL conninfo without a database name (for
//! example `host=127.0.0.1 port=5432 user=postgres`), each server gets a fresh database of its
//! own on that server instead, created here and dropped when the test ends, and the same
//! tests run against the PostgreSQL engine (`.ci/run` does both).
//!
//! `TestApp::store()` opens the server's store a second time, through tokend's own store
//! layer, so a test's direct reads and writes are written once for both engines.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tokend::config::{Config, Secret};
use tokend::db::{Db, Scope};

pub use tokend::db::sql::{Param, Row};

/// `params![a, b]`: a statement's parameters for `TestStore`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::helpers_store::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::helpers_store::Param),+] as &[&dyn $crate::helpers_store::Param] };
}

/// The PostgreSQL server the suite runs on, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("TOKEND_TEST_DATABASE_URL").ok().filter(|u| !u.trim().is_empty())
}

pub fn on_postgres() -> bool {
    postgres_url().is_some()
}

/// A database of one test on the suite's PostgreSQL server; dropped with the test (its
/// server's connections are cut: the server task outlives the test's runtime).
pub struct PgDatabase {
    base: String,
    pub name: String,
}

impl PgDatabase {
    fn create(base: String) -> PgDatabase {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("tokend_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let db = PgDatabase { base, name };
        db.admin(&format!("CREATE DATABASE {}", db.name));
        db
    }

    /// An empty database of its own on the suite's server; `None` on SQLite.
    pub fn fresh() -> Option<PgDatabase> {
        postgres_url().map(PgDatabase::create)
    }

    /// Runs the SQL file `path` in this database with psql, stopping at the first error.
    pub fn run_file(&self, path: &Path) {
        let out = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &self.url(), "-f"])
            .arg(path)
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql -f {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    }

    /// The rows of `sql` in this database, one line each.
    pub fn lines(&self, sql: &str) -> Vec<String> {
        let out = std::process::Command::new("psql")
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", &self.url(), "-c", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }

    pub fn url(&self) -> String {
        format!("{} dbname={}", self.base, self.name)
    }

    fn admin(&self, sql: &str) {
        let out = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &format!("{} dbname=postgres", self.base), "-c", sql])
            .output()
            .expect("run psql (Debian: apt-get install postgresql-client)");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.admin(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// Points `config` at a fresh PostgreSQL database when the suite runs on PostgreSQL, with a
/// shared vault key file in `data_dir` as every node of a cluster needs; `None` on SQLite.
pub fn fresh_store(config: &mut Config, data_dir: &Path) -> Option<PgDatabase> {
    let base = postgres_url()?;
    let db = PgDatabase::create(base);
    config.database_url = Some(Secret::new(db.url()));
    let key = data_dir.join("cluster.key");
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("randomness");
    std::fs::write(&key, bytes).expect("write the key file");
    set_owner_only(&key);
    config.vault_key_file = Some(key);
    Some(db)
}

#[cfg(unix)]
fn set_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The settings a `tokend` process needs to reach the same store as the test's server.
pub fn store_env(config: &Config) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(url) = &config.database_url {
        env.push(("TOKEND_DATABASE_URL", url.expose().to_string()));
    }
    if let Some(key) = &config.vault_key_file {
        env.push(("TOKEND_VAULT_KEY_FILE", key.display().to_string()));
    }
    env
}

/// A second handle on a server's store, for what HTTP cannot arrange (backdating a token)
/// or show (what is stored). Writes are seen by the server as another process's would be.
pub struct TestStore(Db);

impl TestStore {
    pub fn open(config: &Config) -> TestStore {
        TestStore(Db::open(config).expect("open the test server's store"))
    }

    /// The store itself, for what the server does on its own (the periodic purge).
    pub fn db(&self) -> &Db {
        &self.0
    }

    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> tokend::error::Result<usize> {
        self.0.write_now(Scope::Blind, |tx| tx.exec(sql, params))
    }

    /// The first row mapped by `map`; no row is an error.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Row<'_>) -> tokend::error::Result<T>,
    ) -> tokend::error::Result<T> {
        self.0.read_now(|conn| conn.query_one(sql, params, map))
    }

    /// Every row, each mapped by `map`.
    pub fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnMut(&Row<'_>) -> tokend::error::Result<T>,
    ) -> tokend::error::Result<Vec<T>> {
        self.0.read_now(|conn| conn.query(sql, params, map))
    }
}
