//! Configuration: environment variables only (CLI flags mirror them), every path derived
//! from one data directory. Each setting is declared once in `variables.rs`. Parsing is a pure function of a variable lookup so it can be
//! unit-tested without touching the process environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::accounts::budget::GuardSettings;
use crate::clock::Millis;

mod limits;
pub mod markdown;
mod observability;
mod read;
pub mod setting;
mod smtp;
pub mod snap;
pub mod variables;
pub use limits::{RateLimitScope, RateLimitSettings, RequestLimits};
pub use observability::{LogFormat, Observability};
use read::{ip_list, number, optional_number, switch, text};
pub use setting::{Kind, Setting};
pub use smtp::SmtpSettings;
use variables as v;
pub use variables::SETTINGS;

pub const DATABASE_FILE_NAME: &str = "tokend.sqlite3";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

impl Synchronous {
    pub fn pragma_value(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// A secret from the environment. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `TOKEND_DATABASE_URL`: PostgreSQL; `None`: the SQLite file in `data_dir`.
    pub database_url: Option<Secret>,
    pub database_timeout: Duration,
    /// `TOKEND_VAULT_KEY_FILE`: the key every node shares; `None`: `secret.key` in `data_dir`.
    pub vault_key_file: Option<PathBuf>,
    pub bind: SocketAddr,
    pub admin_username: String,
    pub admin_password: Option<Secret>,
    pub login_expiration_days: u32,
    pub max_login_tokens: u32,
    pub bcrypt_cost: u32,
    pub synchronous: Synchronous,
    pub password_min_length: usize,
    pub site_url: String,
    pub rc_version: String,
    pub workers: Option<usize>,
    pub db_pool_size: u32,
    pub purge_interval: Duration,
    /// `users.createToken` in 7.x mode: `CREATE_TOKENS_FOR_USERS` is exactly `yes` or `true`.
    pub create_tokens_for_users: bool,
    /// The raw `CREATE_TOKENS_FOR_USERS` when it is set but does not enable anything, so
    /// startup can say why createToken stays off.
    pub create_tokens_for_users_ignored: Option<String>,
    /// `users.createToken` in 8.x mode when set.
    pub create_tokens_secret: Option<Secret>,
    pub two_factor_enabled: bool,
    pub two_factor_remember: Duration,
    pub totp_window: u64,
    /// Where e-mail 2FA codes are sent from; `None`: the e-mail method is unavailable.
    pub smtp: Option<SmtpSettings>,
    pub email_code_lifetime: Duration,
    pub email_code_max_attempts: u32,
    pub max_personal_access_tokens: u32,
    /// The longest lifetime of a PAT or SAYMON API token, in days; `None`: no limit.
    pub max_token_lifetime_days: Option<u32>,
    pub login_guard: GuardSettings,
    pub saymon_api_token: bool,
    pub saymon_csrf: bool,
    /// `users.register` is open (`TOKEND_REGISTRATION`), and the secret it then needs, if any.
    pub registration: bool,
    pub registration_secret: Option<Secret>,
    /// `users.deleteOwnAccount` is allowed (`TOKEND_DELETE_OWN_ACCOUNT`).
    pub delete_own_account: bool,
    /// How long a password-reset link stays valid.
    pub password_reset_lifetime: Duration,
    pub limits: RequestLimits,
    pub observability: Observability,
}

/// A configuration value that stops startup. Names the variable and the fix.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}={:?}. Fix: {}", self.variable, self.value, self.fix)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Defaults everywhere, data in `data_dir`: what tests and `cargo run` start from.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut config = Config::from_lookup(|_| None).expect("defaults are valid");
        config.data_dir = data_dir.into();
        config
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from a lookup of variable name → raw value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let raw_bind = text(&get, &v::BIND);
        let bind = raw_bind.trim().parse().map_err(|_| ConfigError {
            variable: v::BIND.variable,
            value: raw_bind.clone(),
            fix: "use host:port with a numeric address, e.g. 127.0.0.1:3000 or 0.0.0.0:3000".into(),
        })?;
        if get(v::DATABASE_URL.variable).is_some() && get(v::VAULT_KEY_FILE.variable).is_none() {
            // Checked again where the vault is opened (`accounts::vault_key::open`); here it
            // stops the start before any connection to the database is tried.
            return Err(ConfigError {
                variable: v::VAULT_KEY_FILE.variable,
                value: String::new(),
                fix: "nodes sharing a PostgreSQL database (TOKEND_DATABASE_URL) need one key file, the same on every node: create it once (`head -c 32 /dev/urandom > tokend-vault.key`) and point TOKEND_VAULT_KEY_FILE at a copy on each node".into(),
            });
        }
        let admin_username = text(&get, &v::ADMIN_USERNAME);
        if !crate::auth::ids::is_valid_username(&admin_username) {
            return Err(ConfigError {
                variable: v::ADMIN_USERNAME.variable,
                value: admin_username,
                fix: "use letters, digits, '-', '_' and '.' only".into(),
            });
        }
        let synchronous = match text(&get, &v::SQLITE_SYNCHRONOUS).trim().to_ascii_lowercase() {
            mode if mode == "full" => Synchronous::Full,
            mode if mode == "normal" => Synchronous::Normal,
            other => {
                return Err(ConfigError {
                    variable: v::SQLITE_SYNCHRONOUS.variable,
                    value: other,
                    fix: "use 'full' (default, durable across power loss) or 'normal'".into(),
                });
            }
        };
        let site_url = text(&get, &v::SITE_URL);
        if !(site_url.starts_with("http://") || site_url.starts_with("https://")) {
            return Err(ConfigError {
                variable: v::SITE_URL.variable,
                value: site_url,
                fix: "use an absolute http:// or https:// URL".into(),
            });
        }
        // Not trimmed nor filtered: only exactly `yes` or `true` turns it on (Rocket.Chat).
        let create_tokens_raw = lookup(v::CREATE_TOKENS_FOR_USERS.variable);
        let create_tokens_for_users = matches!(create_tokens_raw.as_deref(), Some("yes" | "true"));
        let create_tokens_secret = get(v::CREATE_TOKENS_SECRET.variable).map(Secret::new);
        let default_version = if create_tokens_secret.is_some() { "8.0.0" } else { "7.10.0" };
        Ok(Config {
            create_tokens_for_users_ignored: create_tokens_raw.filter(|_| !create_tokens_for_users),
            create_tokens_for_users,
            create_tokens_secret,
            two_factor_enabled: switch(&get, &v::TWO_FACTOR)?,
            login_guard: GuardSettings {
                enabled: switch(&get, &v::LOGIN_BLOCKING)?,
                user_attempts: number(&get, &v::LOGIN_BLOCK_USER_ATTEMPTS)?,
                user_window_ms: Millis::from(number(&get, &v::LOGIN_BLOCK_USER_MINUTES)?) * 60_000,
                ip_attempts: number(&get, &v::LOGIN_BLOCK_IP_ATTEMPTS)?,
                ip_window_ms: Millis::from(number(&get, &v::LOGIN_BLOCK_IP_MINUTES)?) * 60_000,
                ip_allowlist: ip_list(get(v::LOGIN_BLOCK_IP_ALLOWLIST.variable))?,
            },
            saymon_api_token: switch(&get, &v::SAYMON_API_TOKEN)?,
            totp_window: number(&get, &v::TOTP_WINDOW)?.into(),
            saymon_csrf: switch(&get, &v::SAYMON_CSRF)?,
            registration: switch(&get, &v::REGISTRATION)?,
            registration_secret: get(v::REGISTRATION_SECRET.variable).map(Secret::new),
            delete_own_account: switch(&get, &v::DELETE_OWN_ACCOUNT)?,
            password_reset_lifetime: Duration::from_secs(number(&get, &v::PASSWORD_RESET_SECS)?.into()),
            limits: RequestLimits::from_variables(&get)?,
            observability: Observability::from_variables(&get)?,
            two_factor_remember: Duration::from_secs(number(&get, &v::TWO_FACTOR_REMEMBER_SECS)?.into()),
            max_personal_access_tokens: number(&get, &v::MAX_PERSONAL_ACCESS_TOKENS)?,
            max_token_lifetime_days: optional_number(&get, &v::MAX_TOKEN_LIFETIME_DAYS)?,
            smtp: SmtpSettings::from_variables(get(v::SMTP_URL.variable), get(v::SMTP_FROM.variable))?,
            email_code_lifetime: Duration::from_secs(number(&get, &v::EMAIL_CODE_SECS)?.into()),
            email_code_max_attempts: number(&get, &v::EMAIL_MAX_ATTEMPTS)?,
            data_dir: PathBuf::from(text(&get, &v::DATA_DIR)),
            database_url: get(v::DATABASE_URL.variable).map(Secret::new),
            database_timeout: Duration::from_secs(number(&get, &v::DATABASE_TIMEOUT_SECS)?.into()),
            vault_key_file: get(v::VAULT_KEY_FILE.variable).map(PathBuf::from),
            bind,
            admin_username,
            admin_password: get(v::ADMIN_PASSWORD.variable).map(Secret::new),
            login_expiration_days: number(&get, &v::LOGIN_EXPIRATION_DAYS)?,
            max_login_tokens: number(&get, &v::MAX_RESUME_LOGIN_TOKENS)?,
            bcrypt_cost: number(&get, &v::BCRYPT_COST)?,
            synchronous,
            password_min_length: number(&get, &v::PASSWORD_MIN_LENGTH)? as usize,
            site_url: site_url.trim_end_matches('/').to_string(),
            rc_version: get(v::RC_VERSION.variable).unwrap_or_else(|| default_version.into()),
            workers: optional_number(&get, &v::WORKERS)?.map(|n| n as usize),
            db_pool_size: number(&get, &v::DB_POOL_SIZE)?,
            purge_interval: Duration::from_secs(number(&get, &v::PURGE_INTERVAL_SECS)?.into()),
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE_NAME)
    }

    /// The key file in use: `TOKEND_VAULT_KEY_FILE`, or `secret.key` in the data directory.
    pub fn vault_key_path(&self) -> PathBuf {
        self.vault_key_file.clone().unwrap_or_else(|| self.data_dir.join(crate::auth::vault::KEY_FILE_NAME))
    }

    pub fn login_token_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.login_expiration_days) * 86_400)
    }
}

/// Names of `TOKEND_*` variables in `names` that tokend does not know (probably typos).
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names
        .into_iter()
        .filter(|n| n.starts_with("TOKEND_") && !SETTINGS.iter().any(|known| known.variable == *n))
        .collect()
}

#[cfg(test)]
mod tests;
