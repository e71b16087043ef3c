//! Every setting tokend reads, declared once: variable, flag, kind (type, default, range),
//! help and snap key. Everything else is derived from this list (see `setting.rs`); the
//! README's configuration table is `tokend settings markdown`, and a test keeps them equal.

use super::setting::{Setting, Snap};

pub const DATA_DIR: Setting = Setting::text(
    "TOKEND_DATA_DIR",
    "data-dir",
    "./data",
    "directory holding `tokend.sqlite3`; install.sh sets `/var/lib/tokend`, the snap always uses `/var/snap/tokend/common/data`",
)
.snap(Snap::None);
pub const DATABASE_URL: Setting = Setting::optional(
    "TOKEND_DATABASE_URL",
    "database-url",
    "unset (SQLite in the data directory)",
    "PostgreSQL for several nodes: a libpq-style conninfo (`host=pg1,pg2 port=5432 user=tokend dbname=tokend target_session_attrs=read-write`) or `postgresql://` URL; hosts are tried in order. Needs `TOKEND_VAULT_KEY_FILE`; TLS per libpq's `sslmode`, with `sslrootcert` (README: Running several nodes)",
)
.secret();
pub const DATABASE_TIMEOUT_SECS: Setting = Setting::number(
    "TOKEND_DATABASE_TIMEOUT_SECS",
    "database-timeout-secs",
    (5, 1, 600),
    "PostgreSQL only: how long a host has to accept a connection and each statement to answer; beyond it the server is taken for gone (a hung primary is abandoned, not waited on)",
)
.snap(Snap::None);
pub const VAULT_KEY_FILE: Setting = Setting::optional(
    "TOKEND_VAULT_KEY_FILE",
    "vault-key-file",
    "`secret.key` in the data directory, created at the first start",
    "file of exactly 32 bytes holding the key that seals TOTP secrets and keys the hashes of 2FA codes; tokend only reads it, never creates it. Every node sharing a store needs the same file; a missing, unreadable or short file stops the start (README: Running several nodes)",
)
.snap(Snap::None);
pub const BIND: Setting = Setting::text(
    "TOKEND_BIND",
    "bind",
    "127.0.0.1:3000",
    "listen address `host:port`, numeric; 3000 is Rocket.Chat's port. `0.0.0.0:3000` (snap: `bind-address=0.0.0.0`) listens on every IPv4 interface",
)
.snap(Snap::BindAddressAndPort);
pub const ADMIN_USERNAME: Setting = Setting::text(
    "TOKEND_ADMIN_USERNAME",
    "admin-username",
    "admin",
    "the first admin, created only when the database has no users",
);
pub const ADMIN_PASSWORD: Setting = Setting::optional(
    "TOKEND_ADMIN_PASSWORD",
    "admin-password",
    "generated",
    "the first admin's password; if unset, a random one is printed once on stderr (the journal)",
)
.secret();
pub const CREATE_TOKENS_FOR_USERS: Setting = Setting::optional(
    "CREATE_TOKENS_FOR_USERS",
    "create-tokens-for-users",
    "unset",
    "exactly `yes` or `true` enables `users.createToken` (Rocket.Chat 7.x mode). Snap key `true` enables it, `false` disables `users.createToken` entirely (also ignoring `CREATE_TOKENS_FOR_USERS_SECRET`); unset, the env files decide",
)
.snap(Snap::CreateTokens);
pub const CREATE_TOKENS_SECRET: Setting = Setting::optional(
    "CREATE_TOKENS_FOR_USERS_SECRET",
    "create-tokens-for-users-secret",
    "unset",
    "enables `users.createToken` in Rocket.Chat 8.x mode: the body's `secret` must equal it",
)
.secret();
pub const LOGIN_EXPIRATION_DAYS: Setting = Setting::number(
    "TOKEND_LOGIN_EXPIRATION_DAYS",
    "login-expiration-days",
    (90, 1, 36_500),
    "login-token lifetime in days (Rocket.Chat's `Accounts_LoginExpiration`)",
)
.snap_default("90");
pub const MAX_RESUME_LOGIN_TOKENS: Setting = Setting::number(
    "MAX_RESUME_LOGIN_TOKENS",
    "max-resume-login-tokens",
    (50, 1, 100_000),
    "login tokens kept per user; issuing one more evicts the oldest",
);
pub const MAX_PERSONAL_ACCESS_TOKENS: Setting = Setting::number(
    "TOKEND_MAX_PERSONAL_ACCESS_TOKENS",
    "max-personal-access-tokens",
    (100, 1, 100_000),
    "personal access tokens per user",
);
pub const MAX_TOKEN_LIFETIME_DAYS: Setting = Setting::optional_number(
    "TOKEND_MAX_TOKEN_LIFETIME_DAYS",
    "max-token-lifetime-days",
    "unset (no limit)",
    (1, 36_500),
    "longest lifetime of a PAT or SAYMON API token in days: a longer request is refused, and tokens created without an expiry get this one",
);
pub const BCRYPT_COST: Setting =
    Setting::number("TOKEND_BCRYPT_COST", "bcrypt-cost", (10, 10, 31), "bcrypt cost of new password hashes");
pub const PASSWORD_MIN_LENGTH: Setting = Setting::number(
    "TOKEND_PASSWORD_MIN_LENGTH",
    "password-min-length",
    (8, 1, 256),
    "minimum password length (maximum is 256 characters)",
);
pub const TWO_FACTOR: Setting =
    Setting::switch("TOKEND_2FA", "two-factor", true, "`off` disables every two-factor challenge");
pub const TOTP_WINDOW: Setting = Setting::number(
    "TOKEND_2FA_TOTP_WINDOW",
    "two-factor-totp-window",
    (1, 0, 1),
    "TOTP steps (30 s) accepted either side of now",
);
pub const TWO_FACTOR_REMEMBER_SECS: Setting = Setting::number(
    "TOKEND_2FA_REMEMBER_SECS",
    "two-factor-remember-secs",
    (1800, 0, 86_400 * 365),
    "after a passed 2FA check the same client is trusted this many seconds; `0` disables it",
);
pub const SMTP_URL: Setting = Setting::optional(
    "TOKEND_SMTP_URL",
    "smtp-url",
    "unset",
    "SMTP server for e-mail two-factor codes: `smtp://[user:pass@]host[:25]`, `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465`; without it the e-mail method is unavailable",
)
.secret();
pub const SMTP_FROM: Setting = Setting::optional(
    "TOKEND_SMTP_FROM",
    "smtp-from",
    "unset",
    "sender of those e-mails, e.g. `tokend <tokend@example.com>`; required with `TOKEND_SMTP_URL`",
)
.snap(Snap::None);
pub const EMAIL_CODE_SECS: Setting = Setting::number(
    "TOKEND_2FA_EMAIL_CODE_SECS",
    "two-factor-email-code-secs",
    (3600, 60, 86_400),
    "how many seconds an e-mailed code stays valid",
);
pub const EMAIL_MAX_ATTEMPTS: Setting = Setting::number(
    "TOKEND_2FA_EMAIL_MAX_ATTEMPTS",
    "two-factor-email-max-attempts",
    (5, 1, 100),
    "wrong e-mail codes accepted before a new code must be sent",
);
pub const LOGIN_BLOCKING: Setting =
    Setting::switch("TOKEND_LOGIN_BLOCKING", "login-blocking", true, "`off` disables failed-login blocking");
pub const LOGIN_BLOCK_USER_ATTEMPTS: Setting = Setting::number(
    "TOKEND_LOGIN_BLOCK_USER_ATTEMPTS",
    "login-block-user-attempts",
    (10, 1, 10_000),
    "failed logins of one account (since its last success) before it is blocked",
);
pub const LOGIN_BLOCK_USER_MINUTES: Setting = Setting::number(
    "TOKEND_LOGIN_BLOCK_USER_MINUTES",
    "login-block-user-minutes",
    (5, 1, 10_080),
    "minutes an account stays blocked after its last failure",
);
pub const LOGIN_BLOCK_IP_ATTEMPTS: Setting = Setting::number(
    "TOKEND_LOGIN_BLOCK_IP_ATTEMPTS",
    "login-block-ip-attempts",
    (50, 1, 100_000),
    "failed logins from one address before it is blocked",
);
pub const LOGIN_BLOCK_IP_MINUTES: Setting = Setting::number(
    "TOKEND_LOGIN_BLOCK_IP_MINUTES",
    "login-block-ip-minutes",
    (5, 1, 10_080),
    "minutes an address stays blocked after its last failure",
);
pub const LOGIN_BLOCK_IP_ALLOWLIST: Setting = Setting::optional(
    "TOKEND_LOGIN_BLOCK_IP_ALLOWLIST",
    "login-block-ip-allowlist",
    "empty",
    "comma-separated IP addresses never blocked by address",
);
pub const SAYMON_API_TOKEN: Setting = Setting::switch(
    "TOKEND_SAYMON_API_TOKEN",
    "saymon-api-token",
    true,
    "`off` refuses SAYMON `?api-token=` authentication",
);
pub const REGISTRATION: Setting = Setting::switch(
    "TOKEND_REGISTRATION",
    "registration",
    false,
    "`on` lets anyone create an account with `users.register` (Rocket.Chat's `Accounts_RegistrationForm` Public)",
);
pub const REGISTRATION_SECRET: Setting = Setting::optional(
    "TOKEND_REGISTRATION_SECRET",
    "registration-secret",
    "unset",
    "Rocket.Chat's Secret URL registration: `users.register` then needs this value as `secret` (with `TOKEND_REGISTRATION=on`)",
)
.secret();
pub const DELETE_OWN_ACCOUNT: Setting = Setting::switch(
    "TOKEND_DELETE_OWN_ACCOUNT",
    "delete-own-account",
    false,
    "`on` lets users delete their own account with `users.deleteOwnAccount` (password-confirmed; never the last admin)",
);
pub const PASSWORD_RESET_SECS: Setting = Setting::number(
    "TOKEND_PASSWORD_RESET_SECS",
    "password-reset-secs",
    (3600, 300, 86_400),
    "how many seconds a password-reset link sent by `users.forgotPassword` stays valid (needs `TOKEND_SMTP_URL`)",
);
pub const SAYMON_CSRF: Setting = Setting::switch(
    "TOKEND_SAYMON_CSRF",
    "saymon-csrf",
    false,
    "`on` enables SAYMON's CSRF cookie/header check for cookie sessions",
);
pub const SQLITE_SYNCHRONOUS: Setting = Setting::text(
    "TOKEND_SQLITE_SYNCHRONOUS",
    "sqlite-synchronous",
    "full",
    "`full`: an acknowledged write survives power loss. `normal`: faster writes, but the last commits before a power loss (not a process crash) may be lost — including revocations",
);
pub const SITE_URL: Setting = Setting::text(
    "TOKEND_SITE_URL",
    "site-url",
    "http://localhost:3000",
    "public base URL, used for `avatarUrl` in user objects",
);
pub const RC_VERSION: Setting = Setting::optional(
    "TOKEND_RC_VERSION",
    "rc-version",
    "`7.10.0` (`8.0.0` when `CREATE_TOKENS_FOR_USERS_SECRET` is set)",
    "the Rocket.Chat version `/api/info` reports",
);
pub const RATE_LIMIT: Setting = Setting::text(
    "TOKEND_RATE_LIMIT",
    "rate-limit",
    "on",
    "REST rate limiter: `on` counts sign-in and token-minting routes, `all` every API route (as Rocket.Chat), `off` none",
);
pub const RATE_LIMIT_CALLS: Setting = Setting::number(
    "TOKEND_RATE_LIMIT_CALLS",
    "rate-limit-calls",
    (10, 1, 1_000_000),
    "calls per client address, route and method in one window (Rocket.Chat's default)",
);
pub const RATE_LIMIT_WINDOW_SECS: Setting = Setting::number(
    "TOKEND_RATE_LIMIT_WINDOW_SECS",
    "rate-limit-window-secs",
    (60, 1, 86_400),
    "length of the rate-limit window in seconds",
);
pub const FORWARDED_COUNT: Setting = Setting::number(
    "TOKEND_FORWARDED_COUNT",
    "forwarded-count",
    (0, 0, 16),
    "proxies in front of tokend whose `X-Forwarded-For` entries are trusted (Rocket.Chat's `HTTP_FORWARDED_COUNT`)",
);
pub const REQUEST_TIMEOUT_SECS: Setting = Setting::number(
    "TOKEND_REQUEST_TIMEOUT_SECS",
    "request-timeout-secs",
    (10, 1, 3_600),
    "seconds a client has to send a request's headers, and then its body",
);
pub const WORKERS: Setting =
    Setting::optional_number("TOKEND_WORKERS", "workers", "number of CPUs", (1, 1024), "HTTP worker threads");
pub const DB_POOL_SIZE: Setting = Setting::number(
    "TOKEND_DB_POOL_SIZE",
    "db-pool-size",
    (8, 1, 256),
    "database connections in the pool (SQLite readers, or PostgreSQL connections)",
);
pub const PURGE_INTERVAL_SECS: Setting = Setting::number(
    "TOKEND_PURGE_INTERVAL_SECS",
    "purge-interval-secs",
    (600, 1, 86_400),
    "seconds between deletions of expired tokens from the file",
);
pub const LOG_LEVEL: Setting = Setting::log_filter(
    "RUST_LOG",
    "log-level",
    "info",
    "log filter (`env_logger` syntax: a level such as `debug`, or `info,actix_web=warn`)",
)
.snap_default("info");
pub const METRICS_BIND: Setting = Setting::optional(
    "TOKEND_METRICS_BIND",
    "metrics-bind",
    "unset",
    "address `host:port` serving Prometheus metrics at `/metrics`, on a listener of its own (never the API's); unset: metrics off (README: Metrics & logs)",
);
pub const LOG_FORMAT: Setting = Setting::text(
    "TOKEND_LOG_FORMAT",
    "log-format",
    "text",
    "`json`: one JSON object a line, each with the request id (README: Metrics & logs)",
);

/// Every setting, in the order `--help` and the README list them.
pub const SETTINGS: &[Setting] = &[
    DATA_DIR,
    DATABASE_URL,
    DATABASE_TIMEOUT_SECS,
    VAULT_KEY_FILE,
    BIND,
    ADMIN_USERNAME,
    ADMIN_PASSWORD,
    CREATE_TOKENS_FOR_USERS,
    CREATE_TOKENS_SECRET,
    LOGIN_EXPIRATION_DAYS,
    MAX_RESUME_LOGIN_TOKENS,
    MAX_PERSONAL_ACCESS_TOKENS,
    MAX_TOKEN_LIFETIME_DAYS,
    BCRYPT_COST,
    PASSWORD_MIN_LENGTH,
    TWO_FACTOR,
    TOTP_WINDOW,
    TWO_FACTOR_REMEMBER_SECS,
    SMTP_URL,
    SMTP_FROM,
    EMAIL_CODE_SECS,
    EMAIL_MAX_ATTEMPTS,
    LOGIN_BLOCKING,
    LOGIN_BLOCK_USER_ATTEMPTS,
    LOGIN_BLOCK_USER_MINUTES,
    LOGIN_BLOCK_IP_ATTEMPTS,
    LOGIN_BLOCK_IP_MINUTES,
    LOGIN_BLOCK_IP_ALLOWLIST,
    SAYMON_API_TOKEN,
    SAYMON_CSRF,
    REGISTRATION,
    REGISTRATION_SECRET,
    DELETE_OWN_ACCOUNT,
    PASSWORD_RESET_SECS,
    SQLITE_SYNCHRONOUS,
    SITE_URL,
    RC_VERSION,
    RATE_LIMIT,
    RATE_LIMIT_CALLS,
    RATE_LIMIT_WINDOW_SECS,
    FORWARDED_COUNT,
    REQUEST_TIMEOUT_SECS,
    WORKERS,
    DB_POOL_SIZE,
    PURGE_INTERVAL_SECS,
    LOG_LEVEL,
    LOG_FORMAT,
    METRICS_BIND,
];
