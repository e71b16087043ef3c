//! Settings that bound what one client can ask of the server: the REST rate limiter,
//! how many proxies' `X-Forwarded-For` entries to trust, and how long a request may take
//! to arrive.

use super::{ConfigError, number};
use std::time::Duration;

/// Which routes the REST rate limiter counts (Rocket.Chat §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitScope {
    Off,
    /// Sign-in and token-minting routes only: the ones worth guessing or flooding.
    Sensitive,
    /// Every API route, as Rocket.Chat applies its default rule.
    All,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub scope: RateLimitScope,
    /// Calls allowed per client address, route and method in one window.
    pub calls: u32,
    pub window: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    pub rate_limit: RateLimitSettings,
    /// Proxies in front of tokend whose `X-Forwarded-For` entries are believed (Rocket.Chat's
    /// `HTTP_FORWARDED_COUNT`). 0: the TCP peer is the client.
    pub forwarded_count: u32,
    /// How long a client may take to send a request's headers, and then its body.
    pub request_timeout: Duration,
}

impl RequestLimits {
    pub(super) fn from_variables(get: &impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let scope = match get("TOKEND_RATE_LIMIT").map(|v| v.trim().to_ascii_lowercase()) {
            None => RateLimitScope::Sensitive,
            Some(v) if matches!(v.as_str(), "on" | "true" | "yes" | "1") => RateLimitScope::Sensitive,
            Some(v) if matches!(v.as_str(), "off" | "false" | "no" | "0") => RateLimitScope::Off,
            Some(v) if v == "all" => RateLimitScope::All,
            Some(_) => {
                return Err(ConfigError {
                    variable: "TOKEND_RATE_LIMIT",
                    value: get("TOKEND_RATE_LIMIT").unwrap_or_default(),
                    fix: "use 'on' (sign-in and token routes), 'all' (every API route) or 'off'".into(),
                });
            }
        };
        Ok(RequestLimits {
            rate_limit: RateLimitSettings {
                scope,
                calls: number(get, "TOKEND_RATE_LIMIT_CALLS", 10, 1, 1_000_000)?,
                window: Duration::from_secs(number(get, "TOKEND_RATE_LIMIT_WINDOW_SECS", 60, 1, 86_400)?.into()),
            },
            forwarded_count: number(get, "TOKEND_FORWARDED_COUNT", 0, 0, 16)?,
            request_timeout: Duration::from_secs(number(get, "TOKEND_REQUEST_TIMEOUT_SECS", 10, 1, 3_600)?.into()),
        })
    }
}
