//! The vault key a process starts with must be the one its store was first used with
//! (spec/scale-out.md §2.3). Another key would not fail loudly: TOTP seeds sealed under the
//! first key would simply not open, which looks like "wrong code" to every enrolled user.
//! So the store keeps the key's fingerprint (`Vault::fingerprint`) and every start — the
//! server and the operator commands alike — compares it and refuses a different key.

use crate::auth::vault::{Vault, VaultError};
use crate::config::Config;
use crate::db::{Db, Scope, vault_key_check};
use std::path::PathBuf;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(
        "the vault key {key} is not the key this database was first used with (their fingerprints differ), so the TOTP secrets sealed in {database} cannot be opened with it. Either this is the wrong key file (give this node the same TOKEND_VAULT_KEY_FILE as the others, or restore the original key file), or the database was restored without its key (put the key saved with the backup, `FILE.key`, in place). tokend refuses to start rather than run with TOTP secrets it cannot read"
    )]
    Mismatch { key: PathBuf, database: PathBuf },
    #[error(
        "the vault key {key} cannot open the TOTP secrets already sealed in {database}, so it is not the key this database was used with. Either this is the wrong key file (give this node the same TOKEND_VAULT_KEY_FILE as the others, or restore the original key file), or the database was restored without its key (put the key saved with the backup, `FILE.key`, in place). tokend refuses to start rather than run with TOTP secrets it cannot read"
    )]
    CannotOpen { key: PathBuf, database: PathBuf },
    #[error("cannot check the vault key against the database: {0}")]
    Store(crate::error::Error),
    #[error(
        "TOKEND_DATABASE_URL is set but TOKEND_VAULT_KEY_FILE is not: every node sharing a PostgreSQL database must be given the same key file (32 random bytes, e.g. `head -c 32 /dev/urandom > tokend.key`, copied to each node); tokend does not create one per node"
    )]
    SharedStoreNeedsKeyFile,
}

/// The vault of `config`: `TOKEND_VAULT_KEY_FILE` when set (never created), otherwise
/// `secret.key` in the data directory (created at the first start) — except on a store
/// shared by several nodes (PostgreSQL), where each node would create a key of its own.
pub fn open(config: &Config) -> Result<Vault, KeyError> {
    match &config.vault_key_file {
        Some(path) => Ok(Vault::open_existing(path)?),
        None if config.database_url.is_some() => Err(KeyError::SharedStoreNeedsKeyFile),
        None => Ok(Vault::open_or_create(&config.data_dir)?),
    }
}

/// Compares `vault`'s fingerprint with the store's, recording it when the store has none
/// (a new store, or one from before fingerprints, whose sealed TOTP seeds must then open
/// with `vault`). Runs on a blocking thread (startup, CLI).
pub fn check(config: &Config, db: &Db, vault: &Vault) -> Result<(), KeyError> {
    let ours = vault.fingerprint();
    let stored = match db.read_now(vault_key_check::fingerprint).map_err(KeyError::Store)? {
        Some(stored) => stored,
        None => {
            // A store from before fingerprints: its sealed seeds say whether this is its key.
            let sealed = db.read_now(vault_key_check::a_sealed_totp_secret).map_err(KeyError::Store)?;
            if sealed.is_some_and(|(user_id, seed)| vault.open(&seed, user_id.as_bytes()).is_none()) {
                return Err(KeyError::CannotOpen { key: config.vault_key_path(), database: config.database_path() });
            }
            let now = crate::clock::now_ms();
            let stored = db
                .write_now(Scope::global(), |tx| vault_key_check::record_first(tx, &ours, now))
                .map_err(KeyError::Store)?;
            if bool::from(stored.ct_eq(&ours)) {
                log::info!("recorded the fingerprint of the vault key {}", config.vault_key_path().display());
            }
            stored
        }
    };
    if bool::from(stored.ct_eq(&ours)) {
        Ok(())
    } else {
        Err(KeyError::Mismatch { key: config.vault_key_path(), database: config.database_path() })
    }
}
