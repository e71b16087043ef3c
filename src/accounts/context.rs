//! What every account operation can reach: configuration, the store, the password hasher,
//! the vault holding the key for sealed secrets, the token caches, the secret-verification
//! budget and the mailer. Nothing of HTTP lives here: the dialects wrap this in their own
//! `api::state::Accounts`, next to the REST rate limiter.

use super::budget::Budget;
use super::cache::AuthCache;
use super::vault_key::{self, KeyError};
use crate::auth::password::PasswordHasher;
use crate::auth::vault::Vault;
use crate::config::Config;
use crate::db::Db;
use std::sync::Arc;

#[derive(Clone)]
pub struct Accounts {
    pub config: Arc<Config>,
    /// The store. Only `accounts` (and the operator commands) run queries through it.
    pub(crate) db: Db,
    pub passwords: PasswordHasher,
    pub vault: Arc<Vault>,
    pub auth_cache: Arc<AuthCache>,
    /// SAYMON API token hash → owner, as `auth_cache` is for Rocket.Chat tokens.
    pub saymon_auth_cache: Arc<AuthCache<crate::db::saymon::ApiTokenOwner>>,
    /// Every check of a password or second factor draws on it (`budget.rs`).
    pub budget: Arc<Budget>,
    /// Sends e-mail 2FA codes; refuses everything when SMTP is not configured.
    pub mailer: crate::mail::Mailer,
    /// Credentials used lately, queued for the store at most once a minute each.
    pub last_use: Arc<super::last_use::LastUse>,
    /// The last answer of the readiness check (`readiness.rs`).
    pub readiness: Arc<super::readiness::Readiness>,
}

impl Accounts {
    /// Opens the vault key (`vault_key::open`) and checks it is the store's own.
    pub fn new(config: Config, db: Db) -> Result<Self, KeyError> {
        let vault = vault_key::open(&config)?;
        vault_key::check(&config, &db, &vault)?;
        let vault = Arc::new(vault);
        let passwords = PasswordHasher::new(config.bcrypt_cost);
        let mailer = crate::mail::Mailer::new(config.smtp.as_ref());
        let budget = Arc::new(Budget::new(config.login_guard.clone()));
        let auth_cache: Arc<AuthCache> = Arc::default();
        let saymon_auth_cache: Arc<AuthCache<crate::db::saymon::ApiTokenOwner>> = Arc::default();
        let (rc, saymon) = (auth_cache.clone(), saymon_auth_cache.clone());
        db.feed().listen(move |invalidations| {
            rc.forget(invalidations);
            saymon.forget(invalidations);
        });
        Ok(Accounts {
            config: Arc::new(config),
            db,
            passwords,
            vault,
            auth_cache,
            saymon_auth_cache,
            budget,
            mailer,
            last_use: Arc::default(),
            readiness: Arc::default(),
        })
    }

    /// The store, for startup, the periodic purge and the operator commands.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
