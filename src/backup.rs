//! `tokend backup PATH`: a consistent copy of the live database through SQLite's online
//! backup API, taken in small steps so the running server keeps writing meanwhile. The copy
//! is written beside PATH, checked, and only then renamed into place. The key that seals
//! TOTP seeds (`secret.key`, or the file `TOKEND_VAULT_KEY_FILE` names) is copied to
//! `PATH.key`: without it a restored database has no usable TOTP enrolments (and tokend
//! refuses to start on it, `accounts::vault_key`).

use crate::config::Config;
use crate::db::snapshot::{self, Verdict};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}; check TOKEND_DATA_DIR")]
    NoDatabase(PathBuf),
    #[error("{0} already exists; remove it or choose another path")]
    Exists(PathBuf),
    #[error("backup failed: {0}")]
    Store(#[from] crate::error::Error),
    #[error("the copy failed its integrity check ({0}); the database may be damaged")]
    Damaged(String),
    #[error("cannot write the backup: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the store is PostgreSQL (TOKEND_DATABASE_URL): back it up with PostgreSQL's tools, `pg_dump --format=custom` for a copy or WAL archiving for point-in-time recovery (README: Running several nodes), and keep a copy of the vault key file (TOKEND_VAULT_KEY_FILE) beside it"
    )]
    Postgres,
}

/// Copies the database of `config` to `dest`. Returns the size of the copy in bytes.
pub fn run(config: &Config, dest: &Path) -> Result<u64, BackupError> {
    if config.database_url.is_some() {
        return Err(BackupError::Postgres);
    }
    let source_path = config.database_path();
    if !source_path.exists() {
        return Err(BackupError::NoDatabase(source_path));
    }
    for target in [dest.to_path_buf(), key_path(dest)] {
        if target.exists() {
            return Err(BackupError::Exists(target));
        }
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    // SQLite would create the file under the umask (0644 as a rule), and its journal takes the
    // file's mode: created here first, the copy and its journal are the owner's alone.
    drop(private_file(&partial)?);
    if let Verdict::Damaged(verdict) = snapshot::online_copy(&source_path, &partial)? {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::Damaged(verdict));
    }
    std::fs::File::open(&partial)?.sync_all()?;
    let key = config.vault_key_path();
    if key.exists() {
        // Not fs::copy, which gives the copy the mode of a `secret.key` someone loosened.
        let mut key_copy = private_file(&key_path(dest))?;
        std::io::copy(&mut std::fs::File::open(&key)?, &mut key_copy)?;
        key_copy.sync_all()?;
    }
    std::fs::rename(&partial, dest)?;
    Ok(std::fs::metadata(dest)?.len())
}

/// Creates `path`, which must not exist, readable and writable by its owner only, whatever
/// the umask: the copies hold password hashes, e-mail addresses, token hashes and the key.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // A umask can only take bits away, and 0o600 needs both of its own.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}

/// Where the key file's copy goes: `PATH.key`.
pub fn key_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}
