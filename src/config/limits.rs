//! Settings that bound what one client can ask of the server: the REST rate limiter,
//! how many proxies' `X-Forwarded-For` entries to trust, and how long a request may take
//! to arrive.

use super::read::{number, text};
use super::{ConfigError, variables as v};
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
        let raw = text(get, &v::RATE_LIMIT);
        let scope = match raw.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" => RateLimitScope::Sensitive,
            "off" | "false" | "no" | "0" => RateLimitScope::Off,
            "all" => RateLimitScope::All,
            _ => {
                return Err(ConfigError {
                    variable: v::RATE_LIMIT.variable,
                    value: raw,
                    fix: "use 'on' (sign-in and token routes), 'all' (every API route) or 'off'".into(),
                });
            }
        };
        Ok(RequestLimits {
            rate_limit: RateLimitSettings {
                scope,
                calls: number(get, &v::RATE_LIMIT_CALLS)?,
                window: Duration::from_secs(number(get, &v::RATE_LIMIT_WINDOW_SECS)?.into()),
            },
            forwarded_count: number(get, &v::FORWARDED_COUNT)?,
            request_timeout: Duration::from_secs(number(get, &v::REQUEST_TIMEOUT_SECS)?.into()),
        })
    }
}
