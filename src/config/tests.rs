//! Unit tests of configuration parsing.
use super::*;
use std::collections::HashMap;

fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn defaults_match_the_design() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
    assert_eq!(c.database_path(), PathBuf::from("./data/tokend.sqlite3"));
    assert_eq!(c.login_expiration_days, 90);
    assert_eq!(c.max_login_tokens, 50);
    assert_eq!(c.bcrypt_cost, 10);
    assert_eq!(c.synchronous, Synchronous::Full);
    assert_eq!(c.admin_username, "admin");
    assert!(c.admin_password.is_none());
}

#[test]
fn bcrypt_cost_below_ten_is_refused_with_the_variable_named() {
    let err = parse(&[("TOKEND_BCRYPT_COST", "9")]).unwrap_err();
    assert_eq!(err.variable, "TOKEND_BCRYPT_COST");
    assert!(err.to_string().contains("from 10 to 31"), "{err}");
}

#[test]
fn malformed_numbers_and_addresses_are_refused() {
    assert_eq!(parse(&[("MAX_RESUME_LOGIN_TOKENS", "many")]).unwrap_err().variable, "MAX_RESUME_LOGIN_TOKENS");
    assert_eq!(parse(&[("TOKEND_LOGIN_EXPIRATION_DAYS", "0")]).unwrap_err().variable, "TOKEND_LOGIN_EXPIRATION_DAYS");
    assert_eq!(parse(&[("TOKEND_BIND", "localhost")]).unwrap_err().variable, "TOKEND_BIND");
    assert_eq!(parse(&[("TOKEND_SQLITE_SYNCHRONOUS", "off")]).unwrap_err().variable, "TOKEND_SQLITE_SYNCHRONOUS");
}

#[test]
fn synchronous_normal_is_accepted_case_insensitively() {
    let c = parse(&[("TOKEND_SQLITE_SYNCHRONOUS", "NORMAL")]).unwrap();
    assert_eq!(c.synchronous, Synchronous::Normal);
}

#[test]
fn debug_output_never_contains_the_admin_password() {
    let c = parse(&[("TOKEND_ADMIN_PASSWORD", "hunter2-very-secret")]).unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn create_tokens_is_enabled_only_by_exactly_yes_or_true() {
    for (value, enabled) in
        [("yes", true), ("true", true), ("TRUE", false), ("1", false), ("on", false), (" yes", false)]
    {
        let c = parse(&[("CREATE_TOKENS_FOR_USERS", value)]).unwrap();
        assert_eq!(c.create_tokens_for_users, enabled, "{value:?}");
        assert_eq!(c.create_tokens_for_users_ignored.is_some(), !enabled, "{value:?}");
    }
    assert!(!parse(&[]).unwrap().create_tokens_for_users);
}

#[test]
fn secret_mode_reports_an_8x_version_unless_told_otherwise() {
    assert_eq!(parse(&[]).unwrap().rc_version, "7.10.0");
    assert_eq!(parse(&[("CREATE_TOKENS_FOR_USERS_SECRET", "s3")]).unwrap().rc_version, "8.0.0");
    let pinned = parse(&[("CREATE_TOKENS_FOR_USERS_SECRET", "s3"), ("TOKEND_RC_VERSION", "8.7.0")]).unwrap();
    assert_eq!(pinned.rc_version, "8.7.0");
    assert!(!format!("{pinned:?}").contains("s3\""));
}

#[test]
fn two_factor_switch_accepts_on_and_off_only() {
    assert!(parse(&[]).unwrap().two_factor_enabled);
    assert!(!parse(&[("TOKEND_2FA", "off")]).unwrap().two_factor_enabled);
    assert_eq!(parse(&[("TOKEND_2FA", "maybe")]).unwrap_err().variable, "TOKEND_2FA");
}

#[test]
fn email_two_factor_settings_have_rocket_chat_defaults_and_hide_the_smtp_password() {
    let c = parse(&[]).unwrap();
    assert!(c.smtp.is_none());
    assert_eq!(c.email_code_lifetime, Duration::from_secs(3600));
    assert_eq!(c.email_code_max_attempts, 5);
    let c = parse(&[
        ("TOKEND_SMTP_URL", "smtp://mailer:hunter2@mail.example.com:587?tls=required"),
        ("TOKEND_SMTP_FROM", "tokend <noreply@example.com>"),
        ("TOKEND_2FA_EMAIL_CODE_SECS", "600"),
        ("TOKEND_2FA_EMAIL_MAX_ATTEMPTS", "3"),
    ])
    .unwrap();
    assert_eq!(c.smtp.as_ref().map(|s| s.from()), Some("tokend <noreply@example.com>"));
    assert_eq!((c.email_code_lifetime, c.email_code_max_attempts), (Duration::from_secs(600), 3));
    assert!(!format!("{c:?}").contains("hunter2"));
    let missing_from = parse(&[("TOKEND_SMTP_URL", "smtp://mail.example.com")]).unwrap_err();
    assert_eq!(missing_from.variable, "TOKEND_SMTP_FROM");
    let bad_url = parse(&[("TOKEND_SMTP_URL", "mail.example.com"), ("TOKEND_SMTP_FROM", "a@example.com")]);
    assert_eq!(bad_url.unwrap_err().variable, "TOKEND_SMTP_URL");
    let zero = parse(&[("TOKEND_2FA_EMAIL_MAX_ATTEMPTS", "0")]).unwrap_err();
    assert_eq!(zero.variable, "TOKEND_2FA_EMAIL_MAX_ATTEMPTS");
}

#[test]
fn login_blocking_defaults_follow_rocket_chat_and_the_allowlist_is_checked() {
    let g = parse(&[]).unwrap().login_guard;
    assert!(g.enabled);
    assert_eq!((g.user_attempts, g.user_window_ms, g.ip_attempts, g.ip_window_ms), (10, 300_000, 50, 300_000));
    let c = parse(&[("TOKEND_LOGIN_BLOCK_IP_ALLOWLIST", "127.0.0.1, ::1")]).unwrap();
    assert_eq!(c.login_guard.ip_allowlist, vec!["127.0.0.1".to_string(), "::1".to_string()]);
    let err = parse(&[("TOKEND_LOGIN_BLOCK_IP_ALLOWLIST", "localhost")]).unwrap_err();
    assert_eq!(err.variable, "TOKEND_LOGIN_BLOCK_IP_ALLOWLIST");
}

#[test]
fn unknown_tokend_variables_are_reported() {
    let names = ["TOKEND_BIND", "TOKEND_BINDD", "PATH", "MAX_RESUME_LOGIN_TOKENS"];
    assert_eq!(unknown_variables(names), vec!["TOKEND_BINDD"]);
}

#[test]
fn rate_limit_defaults_follow_rocket_chat_and_every_scope_parses() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.limits.rate_limit.scope, RateLimitScope::Sensitive);
    assert_eq!(c.limits.rate_limit.calls, 10);
    assert_eq!(c.limits.rate_limit.window, Duration::from_secs(60));
    assert_eq!(c.limits.forwarded_count, 0);
    assert_eq!(c.limits.request_timeout, Duration::from_secs(10));
    for (raw, scope) in [("off", RateLimitScope::Off), ("ALL", RateLimitScope::All), ("on", RateLimitScope::Sensitive)]
    {
        assert_eq!(parse(&[("TOKEND_RATE_LIMIT", raw)]).unwrap().limits.rate_limit.scope, scope);
    }
    let tuned = parse(&[
        ("TOKEND_RATE_LIMIT_CALLS", "3"),
        ("TOKEND_RATE_LIMIT_WINDOW_SECS", "5"),
        ("TOKEND_FORWARDED_COUNT", "2"),
        ("TOKEND_REQUEST_TIMEOUT_SECS", "30"),
    ])
    .unwrap();
    assert_eq!((tuned.limits.rate_limit.calls, tuned.limits.rate_limit.window), (3, Duration::from_secs(5)));
    assert_eq!((tuned.limits.forwarded_count, tuned.limits.request_timeout), (2, Duration::from_secs(30)));
}

#[test]
fn malformed_limits_are_refused_with_the_variable_named() {
    for (name, raw) in [
        ("TOKEND_RATE_LIMIT", "sometimes"),
        ("TOKEND_RATE_LIMIT_CALLS", "0"),
        ("TOKEND_RATE_LIMIT_WINDOW_SECS", "-1"),
        ("TOKEND_FORWARDED_COUNT", "many"),
        ("TOKEND_REQUEST_TIMEOUT_SECS", "0"),
    ] {
        assert_eq!(parse(&[(name, raw)]).unwrap_err().variable, name);
    }
}
