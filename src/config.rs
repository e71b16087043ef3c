//! Configuration: environment variables only (CLI flags mirror them), every path derived
//! from one data directory. Parsing is a pure function of a variable lookup so it can be
//! unit-tested without touching the process environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::accounts::budget::GuardSettings;
use crate::clock::Millis;

mod limits;
mod observability;
mod smtp;
mod variables;
pub use limits::{RateLimitScope, RateLimitSettings, RequestLimits};
pub use observability::{LogFormat, Observability};
pub use smtp::SmtpSettings;
pub use variables::VARIABLES;

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
    pub login_guard: GuardSettings,
    pub saymon_api_token: bool,
    pub saymon_csrf: bool,
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
        let bind = match get("TOKEND_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(raw) => raw.trim().parse().map_err(|_| ConfigError {
                variable: "TOKEND_BIND",
                value: raw.clone(),
                fix: "use host:port with a numeric address, e.g. 127.0.0.1:3000 or 0.0.0.0:3000".into(),
            })?,
        };
        let admin_username = get("TOKEND_ADMIN_USERNAME").unwrap_or_else(|| "admin".into());
        if !crate::auth::ids::is_valid_username(&admin_username) {
            return Err(ConfigError {
                variable: "TOKEND_ADMIN_USERNAME",
                value: admin_username,
                fix: "use letters, digits, '-', '_' and '.' only".into(),
            });
        }
        let synchronous = match get("TOKEND_SQLITE_SYNCHRONOUS").map(|v| v.trim().to_ascii_lowercase()) {
            None => Synchronous::Full,
            Some(v) if v == "full" => Synchronous::Full,
            Some(v) if v == "normal" => Synchronous::Normal,
            Some(v) => {
                return Err(ConfigError {
                    variable: "TOKEND_SQLITE_SYNCHRONOUS",
                    value: v,
                    fix: "use 'full' (default, durable across power loss) or 'normal'".into(),
                });
            }
        };
        let site_url = get("TOKEND_SITE_URL").unwrap_or_else(|| "http://localhost:3000".into());
        if !(site_url.starts_with("http://") || site_url.starts_with("https://")) {
            return Err(ConfigError {
                variable: "TOKEND_SITE_URL",
                value: site_url,
                fix: "use an absolute http:// or https:// URL".into(),
            });
        }
        let create_tokens_raw = lookup("CREATE_TOKENS_FOR_USERS");
        let create_tokens_for_users = matches!(create_tokens_raw.as_deref(), Some("yes" | "true"));
        let create_tokens_secret = get("CREATE_TOKENS_FOR_USERS_SECRET").map(Secret::new);
        let default_version = if create_tokens_secret.is_some() { "8.0.0" } else { "7.10.0" };
        Ok(Config {
            create_tokens_for_users_ignored: create_tokens_raw.filter(|_| !create_tokens_for_users),
            create_tokens_for_users,
            create_tokens_secret,
            two_factor_enabled: switch(&get, "TOKEND_2FA", true)?,
            login_guard: GuardSettings {
                enabled: switch(&get, "TOKEND_LOGIN_BLOCKING", true)?,
                user_attempts: number(&get, "TOKEND_LOGIN_BLOCK_USER_ATTEMPTS", 10, 1, 10_000)?,
                user_window_ms: Millis::from(number(&get, "TOKEND_LOGIN_BLOCK_USER_MINUTES", 5, 1, 10_080)?) * 60_000,
                ip_attempts: number(&get, "TOKEND_LOGIN_BLOCK_IP_ATTEMPTS", 50, 1, 100_000)?,
                ip_window_ms: Millis::from(number(&get, "TOKEND_LOGIN_BLOCK_IP_MINUTES", 5, 1, 10_080)?) * 60_000,
                ip_allowlist: ip_list(get("TOKEND_LOGIN_BLOCK_IP_ALLOWLIST"))?,
            },
            saymon_api_token: switch(&get, "TOKEND_SAYMON_API_TOKEN", true)?,
            totp_window: number(&get, "TOKEND_2FA_TOTP_WINDOW", 1, 0, 1)?.into(),
            saymon_csrf: switch(&get, "TOKEND_SAYMON_CSRF", false)?,
            limits: RequestLimits::from_variables(&get)?,
            observability: Observability::from_variables(&get)?,
            two_factor_remember: Duration::from_secs(
                number(&get, "TOKEND_2FA_REMEMBER_SECS", 1800, 0, 86_400 * 365)?.into(),
            ),
            max_personal_access_tokens: number(&get, "TOKEND_MAX_PERSONAL_ACCESS_TOKENS", 100, 1, 100_000)?,
            smtp: SmtpSettings::from_variables(get("TOKEND_SMTP_URL"), get("TOKEND_SMTP_FROM"))?,
            email_code_lifetime: Duration::from_secs(
                number(&get, "TOKEND_2FA_EMAIL_CODE_SECS", 3600, 60, 86_400)?.into(),
            ),
            email_code_max_attempts: number(&get, "TOKEND_2FA_EMAIL_MAX_ATTEMPTS", 5, 1, 100)?,
            data_dir: PathBuf::from(get("TOKEND_DATA_DIR").unwrap_or_else(|| "./data".into())),
            bind,
            admin_username,
            admin_password: get("TOKEND_ADMIN_PASSWORD").map(Secret::new),
            login_expiration_days: number(&get, "TOKEND_LOGIN_EXPIRATION_DAYS", 90, 1, 36_500)?,
            max_login_tokens: number(&get, "MAX_RESUME_LOGIN_TOKENS", 50, 1, 100_000)?,
            bcrypt_cost: number(&get, "TOKEND_BCRYPT_COST", 10, 10, 31)?,
            synchronous,
            password_min_length: number(&get, "TOKEND_PASSWORD_MIN_LENGTH", 8, 1, 256)? as usize,
            site_url: site_url.trim_end_matches('/').to_string(),
            rc_version: get("TOKEND_RC_VERSION").unwrap_or_else(|| default_version.into()),
            workers: match get("TOKEND_WORKERS") {
                None => None,
                Some(_) => Some(number(&get, "TOKEND_WORKERS", 1, 1, 1024)? as usize),
            },
            db_pool_size: number(&get, "TOKEND_DB_POOL_SIZE", 8, 1, 256)?,
            purge_interval: Duration::from_secs(number(&get, "TOKEND_PURGE_INTERVAL_SECS", 600, 1, 86_400)?.into()),
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE_NAME)
    }

    pub fn login_token_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.login_expiration_days) * 86_400)
    }
}

fn number(
    get: &impl Fn(&'static str) -> Option<String>,
    variable: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    match raw.trim().parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            variable,
            value: raw,
            fix: format!("use a whole number from {min} to {max}, or unset it for the default ({default})"),
        }),
    }
}

/// A comma-separated list of IP addresses, kept in their canonical text form.
fn ip_list(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<std::net::IpAddr>().map(|ip| ip.to_string()).map_err(|_| ConfigError {
                variable: "TOKEND_LOGIN_BLOCK_IP_ALLOWLIST",
                value: raw.clone(),
                fix: "list IP addresses separated by commas, e.g. 127.0.0.1,192.0.2.7".into(),
            })
        })
        .collect()
}

/// An on/off switch; also accepts true/false, yes/no and 1/0.
fn switch(
    get: &impl Fn(&'static str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(ConfigError { variable, value: raw, fix: "use 'on' or 'off'".into() }),
    }
}

/// Names of `TOKEND_*` variables in `names` that tokend does not know (probably typos).
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names
        .into_iter()
        .filter(|n| n.starts_with("TOKEND_") && !VARIABLES.iter().any(|(known, _, _)| known == n))
        .collect()
}

#[cfg(test)]
mod tests;
