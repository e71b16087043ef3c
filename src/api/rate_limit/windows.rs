//! Fixed-window call counters, Rocket.Chat's rule shape (§12): a window opens with a
//! client's first call to a route and closes `window` later; within it at most `calls` are
//! allowed. Pure bookkeeping over an injected clock, so it is unit-tested without sleeping.

use crate::clock::Millis;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Beyond this many live counters, clients not yet counted share one counter per route:
/// memory stays bounded under a flood of forged or rotating addresses, and the flood is
/// still limited, just collectively.
const MAX_COUNTERS: usize = 200_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    /// `None` is the shared overflow counter.
    client: Option<IpAddr>,
    route: String,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    opened_at: Millis,
    calls: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the window closes, epoch milliseconds (`X-RateLimit-Reset`).
    pub reset_at: Millis,
}

impl Verdict {
    /// Whole seconds until the window closes, rounded up, as Rocket.Chat words it.
    pub fn wait_secs(&self, now: Millis) -> u64 {
        ((self.reset_at - now).max(0) as u64).div_ceil(1000)
    }
}

pub struct Windows {
    calls: u32,
    window_ms: Millis,
    counters: Mutex<HashMap<Key, Window>>,
    /// Set once any window has been used up: until then `exhausted` answers without locking,
    /// which keeps the check off the hot path of ordinary authenticated requests.
    ever_exhausted: AtomicBool,
}

impl Windows {
    pub fn new(calls: u32, window_ms: Millis) -> Self {
        Windows { calls, window_ms, counters: Mutex::default(), ever_exhausted: AtomicBool::new(false) }
    }

    /// Whether `client`'s window for `route` is used up at `now`, without counting a call.
    pub fn exhausted(&self, client: IpAddr, route: &str, now: Millis) -> Option<Verdict> {
        if !self.ever_exhausted.load(Ordering::Relaxed) {
            return None;
        }
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let key = Key { client: Some(bucket(client)), route: route.to_string() };
        let window = counters.get(&key).or_else(|| counters.get(&Key { client: None, route: key.route.clone() }))?;
        let open = now < window.opened_at + self.window_ms;
        (open && window.calls >= self.calls).then_some(Verdict {
            allowed: false,
            limit: self.calls,
            remaining: 0,
            reset_at: window.opened_at + self.window_ms,
        })
    }

    /// Counts one call of `client` to `route` at `now` and says whether it may proceed.
    pub fn hit(&self, client: IpAddr, route: &str, now: Millis) -> Verdict {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = Key { client: Some(bucket(client)), route: route.to_string() };
        if !counters.contains_key(&key) && counters.len() >= MAX_COUNTERS {
            counters.retain(|_, w| now < w.opened_at + self.window_ms);
            if counters.len() >= MAX_COUNTERS {
                key.client = None;
            }
        }
        let window = counters.entry(key).or_insert(Window { opened_at: now, calls: 0 });
        if now >= window.opened_at + self.window_ms {
            *window = Window { opened_at: now, calls: 0 };
        }
        let allowed = window.calls < self.calls;
        if allowed {
            window.calls += 1;
        }
        if window.calls >= self.calls {
            self.ever_exhausted.store(true, Ordering::Relaxed);
        }
        Verdict {
            allowed,
            limit: self.calls,
            remaining: self.calls - window.calls,
            reset_at: window.opened_at + self.window_ms,
        }
    }
}

/// IPv6 clients are counted per /64: one host usually owns a whole /64, so counting single
/// addresses would let it rotate through billions of them.
fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allows_the_configured_calls_then_refuses_until_the_window_closes() {
        let w = Windows::new(3, 60_000);
        let a = ip("192.0.2.1");
        let remaining: Vec<u32> = (0..3).map(|i| w.hit(a, "/api/v1/loginpost", 1_000 + i).remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = w.hit(a, "/api/v1/loginpost", 30_000);
        assert!(!refused.allowed);
        assert_eq!(refused.reset_at, 61_000);
        assert_eq!(refused.wait_secs(30_000), 31);
        assert!(w.hit(a, "/api/v1/loginpost", 61_000).allowed, "a new window opens");
    }

    #[test]
    fn counts_per_client_and_per_route() {
        let w = Windows::new(1, 60_000);
        assert!(w.hit(ip("192.0.2.1"), "/api/v1/loginpost", 0).allowed);
        assert!(w.hit(ip("192.0.2.2"), "/api/v1/loginpost", 0).allowed);
        assert!(w.hit(ip("192.0.2.1"), "/api/v1/users.createTokenpost", 0).allowed);
        assert!(!w.hit(ip("192.0.2.1"), "/api/v1/loginpost", 0).allowed);
    }

    #[test]
    fn an_ipv6_host_cannot_escape_by_rotating_within_its_64() {
        let w = Windows::new(1, 60_000);
        assert!(w.hit(ip("2001:db8:1:2::1"), "r", 0).allowed);
        assert!(!w.hit(ip("2001:db8:1:2:ffff::9"), "r", 0).allowed);
        assert!(w.hit(ip("2001:db8:1:3::1"), "r", 0).allowed);
    }

    #[test]
    fn exhausted_looks_without_counting() {
        let w = Windows::new(2, 1_000);
        let a = ip("192.0.2.1");
        assert_eq!(w.exhausted(a, "r", 0), None);
        w.hit(a, "r", 0);
        assert_eq!(w.exhausted(a, "r", 0), None);
        w.hit(a, "r", 10);
        assert_eq!(w.exhausted(a, "r", 20).map(|v| v.reset_at), Some(1_000));
        assert_eq!(w.exhausted(a, "r", 1_000), None, "the window has closed");
    }

    #[test]
    fn wait_rounds_up_to_whole_seconds() {
        let v = Verdict { allowed: false, limit: 1, remaining: 0, reset_at: 10_001 };
        assert_eq!(v.wait_secs(10_000), 1);
        assert_eq!(v.wait_secs(0), 11);
        assert_eq!(v.wait_secs(20_000), 0);
    }
}
