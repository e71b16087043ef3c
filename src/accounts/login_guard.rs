//! Failed-login blocking (spec/rocketchat.md §13): after N failures since the last success,
//! further password logins are refused — even with the right password — until the window
//! since the last failure has passed. Counted per account and per client address; the
//! address is checked first; allow-listed addresses are never blocked by address.
//!
//! Accounts are keyed by user id when the user exists and by the submitted name otherwise,
//! so a name that matches nobody is blocked exactly like a real account: blocking reveals
//! nothing about which accounts exist. Counters live in memory (one process owns the file).

use crate::clock::Millis;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Debug)]
pub struct GuardSettings {
    pub enabled: bool,
    pub user_attempts: u32,
    pub user_window_ms: Millis,
    pub ip_attempts: u32,
    pub ip_window_ms: Millis,
    pub ip_allowlist: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    ByIp,
    ByUser,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Millis,
}

/// Beyond this many tracked keys, entries whose window has passed are dropped.
const PRUNE_ABOVE: usize = 50_000;

pub struct LoginGuard {
    settings: GuardSettings,
    users: Mutex<HashMap<String, Failures>>,
    ips: Mutex<HashMap<String, Failures>>,
}

fn blocked(map: &Mutex<HashMap<String, Failures>>, key: &str, limit: u32, window: Millis, now: Millis) -> bool {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.get(key).is_some_and(|f| f.count >= limit && now - f.last < window)
}

fn record(map: &Mutex<HashMap<String, Failures>>, key: &str, window: Millis, now: Millis) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > PRUNE_ABOVE {
        map.retain(|_, f| now - f.last < window);
    }
    let entry = map.entry(key.to_string()).or_insert(Failures { count: 0, last: now });
    // A failure after the window has passed starts a new count.
    if now - entry.last >= window {
        entry.count = 0;
    }
    entry.count += 1;
    entry.last = now;
}

impl LoginGuard {
    pub fn new(settings: GuardSettings) -> Self {
        LoginGuard { settings, users: Mutex::default(), ips: Mutex::default() }
    }

    fn ip_counted<'a>(&self, ip: Option<&'a str>) -> Option<&'a str> {
        ip.filter(|ip| !self.settings.ip_allowlist.iter().any(|a| a == ip))
    }

    /// Whether a login for `account` from `ip` must be refused now (address first).
    pub fn check(&self, account: &str, ip: Option<&str>, now: Millis) -> Option<Blocked> {
        let s = &self.settings;
        if !s.enabled {
            return None;
        }
        if let Some(ip) = self.ip_counted(ip) {
            if blocked(&self.ips, ip, s.ip_attempts, s.ip_window_ms, now) {
                return Some(Blocked::ByIp);
            }
        }
        blocked(&self.users, account, s.user_attempts, s.user_window_ms, now).then_some(Blocked::ByUser)
    }

    pub fn failed(&self, account: &str, ip: Option<&str>, now: Millis) {
        if !self.settings.enabled {
            return;
        }
        record(&self.users, account, self.settings.user_window_ms, now);
        if let Some(ip) = self.ip_counted(ip) {
            record(&self.ips, ip, self.settings.ip_window_ms, now);
        }
    }

    /// A completed login: the counts are of failures since the last success.
    pub fn succeeded(&self, account: &str, ip: Option<&str>) {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).remove(account);
        if let Some(ip) = ip {
            self.ips.lock().unwrap_or_else(|e| e.into_inner()).remove(ip);
        }
    }
}

/// The key an account is counted under: its id, or the name as submitted when no user has it.
pub fn account_key(user_id: Option<&str>, submitted: &str) -> String {
    match user_id {
        Some(id) => format!("id:{id}"),
        None => format!("name:{}", submitted.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(GuardSettings {
            enabled: true,
            user_attempts: 3,
            user_window_ms: 1_000,
            ip_attempts: 5,
            ip_window_ms: 1_000,
            ip_allowlist: vec!["10.0.0.9".into()],
        })
    }

    #[test]
    fn an_account_is_blocked_after_n_failures_until_the_window_passes() {
        let g = guard();
        for _ in 0..3 {
            assert_eq!(g.check("id:a", None, 100), None);
            g.failed("id:a", None, 100);
        }
        assert_eq!(g.check("id:a", None, 500), Some(Blocked::ByUser));
        assert_eq!(g.check("id:a", None, 1_100), None, "window since the last failure passed");
        assert_eq!(g.check("id:b", None, 500), None, "other accounts are unaffected");
    }

    #[test]
    fn the_address_is_checked_first_and_allow_listed_addresses_are_never_blocked() {
        let g = guard();
        for i in 0..5 {
            g.failed(&format!("id:{i}"), Some("192.0.2.1"), 100);
            g.failed(&format!("id:{i}"), Some("10.0.0.9"), 100);
        }
        assert_eq!(g.check("id:fresh", Some("192.0.2.1"), 200), Some(Blocked::ByIp));
        assert_eq!(g.check("id:fresh", Some("10.0.0.9"), 200), None);
    }

    #[test]
    fn a_success_resets_the_counts() {
        let g = guard();
        g.failed("id:a", Some("192.0.2.1"), 100);
        g.failed("id:a", Some("192.0.2.1"), 100);
        g.succeeded("id:a", Some("192.0.2.1"));
        g.failed("id:a", Some("192.0.2.1"), 100);
        g.failed("id:a", Some("192.0.2.1"), 100);
        assert_eq!(g.check("id:a", Some("192.0.2.1"), 100), None);
    }

    #[test]
    fn unknown_names_are_keyed_case_insensitively() {
        assert_eq!(account_key(None, "Nobody"), account_key(None, "nobody"));
        assert_ne!(account_key(Some("x"), "x"), account_key(None, "x"));
    }
}
