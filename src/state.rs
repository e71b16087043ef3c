//! What every request handler can reach: configuration, the store, the password hasher,
//! and the vault holding the key for sealed secrets.

use crate::accounts::cache::AuthCache;
use crate::accounts::login_guard::LoginGuard;
use crate::api::rate_limit::RateLimiter;
use crate::auth::password::PasswordHasher;
use crate::auth::vault::{Vault, VaultError};
use crate::config::Config;
use crate::db::Db;
use crate::db::users::UserRecord;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub passwords: PasswordHasher,
    pub vault: Arc<Vault>,
    pub auth_cache: Arc<AuthCache>,
    /// SAYMON API token hash → owner, as `auth_cache` is for Rocket.Chat tokens.
    pub saymon_auth_cache: Arc<AuthCache<UserRecord>>,
    pub login_guard: Arc<LoginGuard>,
    pub rate_limiter: Arc<RateLimiter>,
    /// Sends e-mail 2FA codes; refuses everything when SMTP is not configured.
    pub mailer: crate::mail::Mailer,
}

impl AppState {
    /// Opens (or creates) the key file beside the database.
    pub fn new(config: Config, db: Db) -> Result<Self, VaultError> {
        let vault = Arc::new(Vault::open_or_create(&config.data_dir)?);
        let passwords = PasswordHasher::new(config.bcrypt_cost);
        let mailer = crate::mail::Mailer::new(config.smtp.as_ref());
        let login_guard = Arc::new(LoginGuard::new(config.login_guard.clone()));
        let rate_limiter = Arc::new(RateLimiter::new(&config.limits.rate_limit));
        Ok(AppState {
            config: Arc::new(config),
            db,
            passwords,
            vault,
            auth_cache: Arc::default(),
            saymon_auth_cache: Arc::default(),
            login_guard,
            rate_limiter,
            mailer,
        })
    }
}
