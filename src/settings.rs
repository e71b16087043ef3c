//! The settings every sub-command of the `tokend` binary shares (this module belongs to the
//! binary, not the library): one flag per environment variable, so `--help` lists them all.

use clap::Args;

/// Each flag mirrors the environment variable named in its help.
#[derive(Args)]
pub struct Settings {
    /// Directory holding tokend.sqlite3 [default: ./data]
    #[arg(long, env = "TOKEND_DATA_DIR", global = true)]
    data_dir: Option<String>,
    /// Listen address host:port [default: 127.0.0.1:3000]
    #[arg(long, env = "TOKEND_BIND", global = true)]
    bind: Option<String>,
    /// Username of the first admin, created only on an empty database [default: admin]
    #[arg(long, env = "TOKEND_ADMIN_USERNAME", global = true)]
    admin_username: Option<String>,
    /// Password of the first admin [default: generated and printed once]
    #[arg(long, env = "TOKEND_ADMIN_PASSWORD", global = true, hide_env_values = true)]
    admin_password: Option<String>,
    /// Login-token lifetime in days [default: 90]
    #[arg(long, env = "TOKEND_LOGIN_EXPIRATION_DAYS", global = true)]
    login_expiration_days: Option<String>,
    /// Login tokens kept per user, oldest evicted [default: 50]
    #[arg(long, env = "MAX_RESUME_LOGIN_TOKENS", global = true)]
    max_resume_login_tokens: Option<String>,
    /// bcrypt cost for new password hashes, 10..=31 [default: 10]
    #[arg(long, env = "TOKEND_BCRYPT_COST", global = true)]
    bcrypt_cost: Option<String>,
    /// full (durable across power loss) or normal (faster) [default: full]
    #[arg(long, env = "TOKEND_SQLITE_SYNCHRONOUS", global = true)]
    sqlite_synchronous: Option<String>,
    /// Minimum password length [default: 8]
    #[arg(long, env = "TOKEND_PASSWORD_MIN_LENGTH", global = true)]
    password_min_length: Option<String>,
    /// Public base URL, used in avatarUrl [default: http://localhost:3000]
    #[arg(long, env = "TOKEND_SITE_URL", global = true)]
    site_url: Option<String>,
    /// Rocket.Chat version reported by /api/info [default: 7.10.0]
    #[arg(long, env = "TOKEND_RC_VERSION", global = true)]
    rc_version: Option<String>,
    /// HTTP worker threads [default: number of CPUs]
    #[arg(long, env = "TOKEND_WORKERS", global = true)]
    workers: Option<String>,
    /// SQLite connections in the pool [default: 8]
    #[arg(long, env = "TOKEND_DB_POOL_SIZE", global = true)]
    db_pool_size: Option<String>,
    /// Seconds between purges of expired tokens [default: 600]
    #[arg(long, env = "TOKEND_PURGE_INTERVAL_SECS", global = true)]
    purge_interval_secs: Option<String>,
    /// Exactly 'yes' or 'true' enables users.createToken (Rocket.Chat 7.x mode)
    #[arg(long, env = "CREATE_TOKENS_FOR_USERS", global = true)]
    create_tokens_for_users: Option<String>,
    /// Enables users.createToken in 8.x mode: the body's secret must equal it
    #[arg(long, env = "CREATE_TOKENS_FOR_USERS_SECRET", global = true, hide_env_values = true)]
    create_tokens_for_users_secret: Option<String>,
    /// on/off: two-factor challenges [default: on]
    #[arg(long = "two-factor", env = "TOKEND_2FA", global = true)]
    two_factor: Option<String>,
    /// Seconds a client stays trusted after passing 2FA; 0 disables [default: 1800]
    #[arg(long = "two-factor-remember-secs", env = "TOKEND_2FA_REMEMBER_SECS", global = true)]
    two_factor_remember_secs: Option<String>,
    /// TOTP steps accepted either side of now, 0 or 1 [default: 1]
    #[arg(long = "two-factor-totp-window", env = "TOKEND_2FA_TOTP_WINDOW", global = true)]
    two_factor_totp_window: Option<String>,
    /// SMTP server for e-mail 2FA codes: smtp://[user:pass@]host[:port], smtp://host:587?tls=required
    /// or smtps://host:465 [default: unset, no e-mail 2FA]
    #[arg(long, env = "TOKEND_SMTP_URL", global = true, hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of e-mail 2FA codes, e.g. 'tokend <noreply@example.com>'; required with --smtp-url
    #[arg(long, env = "TOKEND_SMTP_FROM", global = true)]
    smtp_from: Option<String>,
    /// Lifetime of an e-mailed 2FA code in seconds [default: 3600]
    #[arg(long = "two-factor-email-code-secs", env = "TOKEND_2FA_EMAIL_CODE_SECS", global = true)]
    two_factor_email_code_secs: Option<String>,
    /// Wrong guesses allowed per e-mailed 2FA code [default: 5]
    #[arg(long = "two-factor-email-max-attempts", env = "TOKEND_2FA_EMAIL_MAX_ATTEMPTS", global = true)]
    two_factor_email_max_attempts: Option<String>,
    /// Personal access tokens per user [default: 100]
    #[arg(long, env = "TOKEND_MAX_PERSONAL_ACCESS_TOKENS", global = true)]
    max_personal_access_tokens: Option<String>,
    /// on/off: failed-login blocking [default: on]
    #[arg(long, env = "TOKEND_LOGIN_BLOCKING", global = true)]
    login_blocking: Option<String>,
    /// Failed logins of one account before it is blocked [default: 10]
    #[arg(long, env = "TOKEND_LOGIN_BLOCK_USER_ATTEMPTS", global = true)]
    login_block_user_attempts: Option<String>,
    /// Minutes an account stays blocked after its last failure [default: 5]
    #[arg(long, env = "TOKEND_LOGIN_BLOCK_USER_MINUTES", global = true)]
    login_block_user_minutes: Option<String>,
    /// Failed logins from one address before it is blocked [default: 50]
    #[arg(long, env = "TOKEND_LOGIN_BLOCK_IP_ATTEMPTS", global = true)]
    login_block_ip_attempts: Option<String>,
    /// Minutes an address stays blocked after its last failure [default: 5]
    #[arg(long, env = "TOKEND_LOGIN_BLOCK_IP_MINUTES", global = true)]
    login_block_ip_minutes: Option<String>,
    /// Comma-separated addresses never blocked by address [default: none]
    #[arg(long, env = "TOKEND_LOGIN_BLOCK_IP_ALLOWLIST", global = true)]
    login_block_ip_allowlist: Option<String>,
    /// on/off: SAYMON ?api-token= authentication [default: on]
    #[arg(long, env = "TOKEND_SAYMON_API_TOKEN", global = true)]
    saymon_api_token: Option<String>,
    /// on/off: SAYMON's CSRF cookie/header check [default: off]
    #[arg(long, env = "TOKEND_SAYMON_CSRF", global = true)]
    saymon_csrf: Option<String>,
    /// REST rate limiter: on (sign-in and token routes), all (every API route) or off [default: on]
    #[arg(long, env = "TOKEND_RATE_LIMIT", global = true)]
    rate_limit: Option<String>,
    /// Calls per client address, route and method in one window [default: 10]
    #[arg(long, env = "TOKEND_RATE_LIMIT_CALLS", global = true)]
    rate_limit_calls: Option<String>,
    /// Length of the rate-limit window in seconds [default: 60]
    #[arg(long, env = "TOKEND_RATE_LIMIT_WINDOW_SECS", global = true)]
    rate_limit_window_secs: Option<String>,
    /// Proxies in front of tokend whose X-Forwarded-For entries are trusted [default: 0]
    #[arg(long, env = "TOKEND_FORWARDED_COUNT", global = true)]
    forwarded_count: Option<String>,
    /// Seconds a client has to send a request's headers, and then its body [default: 10]
    #[arg(long, env = "TOKEND_REQUEST_TIMEOUT_SECS", global = true)]
    request_timeout_secs: Option<String>,
    /// Address host:port serving Prometheus metrics at /metrics, apart from the API [default: unset, off]
    #[arg(long, env = "TOKEND_METRICS_BIND", global = true)]
    metrics_bind: Option<String>,
    /// Log lines as text or json (one JSON object a line) [default: text]
    #[arg(long, env = "TOKEND_LOG_FORMAT", global = true)]
    log_format: Option<String>,
}

impl Settings {
    /// The raw value for a variable name, as clap resolved it (flag, else environment).
    pub fn lookup(&self, name: &str) -> Option<String> {
        let value = match name {
            "TOKEND_DATA_DIR" => &self.data_dir,
            "TOKEND_BIND" => &self.bind,
            "TOKEND_ADMIN_USERNAME" => &self.admin_username,
            "TOKEND_ADMIN_PASSWORD" => &self.admin_password,
            "TOKEND_LOGIN_EXPIRATION_DAYS" => &self.login_expiration_days,
            "MAX_RESUME_LOGIN_TOKENS" => &self.max_resume_login_tokens,
            "TOKEND_BCRYPT_COST" => &self.bcrypt_cost,
            "TOKEND_SQLITE_SYNCHRONOUS" => &self.sqlite_synchronous,
            "TOKEND_PASSWORD_MIN_LENGTH" => &self.password_min_length,
            "TOKEND_SITE_URL" => &self.site_url,
            "TOKEND_RC_VERSION" => &self.rc_version,
            "TOKEND_WORKERS" => &self.workers,
            "TOKEND_DB_POOL_SIZE" => &self.db_pool_size,
            "TOKEND_PURGE_INTERVAL_SECS" => &self.purge_interval_secs,
            "CREATE_TOKENS_FOR_USERS" => &self.create_tokens_for_users,
            "CREATE_TOKENS_FOR_USERS_SECRET" => &self.create_tokens_for_users_secret,
            "TOKEND_2FA" => &self.two_factor,
            "TOKEND_2FA_REMEMBER_SECS" => &self.two_factor_remember_secs,
            "TOKEND_2FA_TOTP_WINDOW" => &self.two_factor_totp_window,
            "TOKEND_SMTP_URL" => &self.smtp_url,
            "TOKEND_SMTP_FROM" => &self.smtp_from,
            "TOKEND_2FA_EMAIL_CODE_SECS" => &self.two_factor_email_code_secs,
            "TOKEND_2FA_EMAIL_MAX_ATTEMPTS" => &self.two_factor_email_max_attempts,
            "TOKEND_MAX_PERSONAL_ACCESS_TOKENS" => &self.max_personal_access_tokens,
            "TOKEND_LOGIN_BLOCKING" => &self.login_blocking,
            "TOKEND_LOGIN_BLOCK_USER_ATTEMPTS" => &self.login_block_user_attempts,
            "TOKEND_LOGIN_BLOCK_USER_MINUTES" => &self.login_block_user_minutes,
            "TOKEND_LOGIN_BLOCK_IP_ATTEMPTS" => &self.login_block_ip_attempts,
            "TOKEND_LOGIN_BLOCK_IP_MINUTES" => &self.login_block_ip_minutes,
            "TOKEND_LOGIN_BLOCK_IP_ALLOWLIST" => &self.login_block_ip_allowlist,
            "TOKEND_SAYMON_API_TOKEN" => &self.saymon_api_token,
            "TOKEND_SAYMON_CSRF" => &self.saymon_csrf,
            "TOKEND_RATE_LIMIT" => &self.rate_limit,
            "TOKEND_RATE_LIMIT_CALLS" => &self.rate_limit_calls,
            "TOKEND_RATE_LIMIT_WINDOW_SECS" => &self.rate_limit_window_secs,
            "TOKEND_FORWARDED_COUNT" => &self.forwarded_count,
            "TOKEND_REQUEST_TIMEOUT_SECS" => &self.request_timeout_secs,
            "TOKEND_METRICS_BIND" => &self.metrics_bind,
            "TOKEND_LOG_FORMAT" => &self.log_format,
            _ => return std::env::var(name).ok(),
        };
        value.clone()
    }
}
