//! The client's address as tokend believes it: the TCP peer, or — behind a configured number
//! of trusted proxies — the `X-Forwarded-For` entry the outermost trusted proxy wrote. Every
//! per-address decision (rate limits, failed-login blocking, the 2FA remember window, the
//! audit log) uses this one answer.

use crate::api::state::AppState;
use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use actix_web::web;
use std::net::IpAddr;

/// The client address of `req`, in canonical text form.
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    client_ip(req).map(|ip| ip.to_string())
}

/// The client address of `req`.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let trusted = req.app_data::<web::Data<AppState>>().map_or(0, |s| s.config.limits.forwarded_count);
    resolve(req.peer_addr().map(|a| a.ip()), req.headers(), trusted)
}

/// With `trusted` proxies in front, each appends the address it received the request from,
/// so the client is the `trusted`-th entry from the right. Entries further left were written
/// by the client itself and prove nothing. A chain shorter than `trusted` means the request
/// skipped a proxy: its leftmost entry is then the best account of the client we have.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: u32) -> Option<IpAddr> {
    if trusted == 0 {
        return peer;
    }
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return peer };
        chain.extend(text.split(',').map(str::trim).filter(|s| !s.is_empty()));
    }
    if chain.is_empty() {
        return peer;
    }
    let index = chain.len().saturating_sub(trusted as usize);
    parse_entry(chain[index]).or(peer)
}

/// `192.0.2.1`, `192.0.2.1:5000`, `2001:db8::1` or `[2001:db8::1]:5000`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(resolve(PEER, &headers(&["203.0.113.9"]), 0), PEER);
    }

    #[test]
    fn one_proxy_means_the_last_entry() {
        assert_eq!(resolve(PEER, &headers(&["198.51.100.7, 203.0.113.9"]), 1), ip("203.0.113.9"));
    }

    #[test]
    fn two_proxies_mean_the_second_to_last_entry_across_repeated_headers() {
        assert_eq!(resolve(PEER, &headers(&["198.51.100.7", "203.0.113.9, 192.0.2.4"]), 2), ip("203.0.113.9"));
    }

    #[test]
    fn a_short_chain_gives_its_leftmost_entry() {
        assert_eq!(resolve(PEER, &headers(&["203.0.113.9"]), 2), ip("203.0.113.9"));
    }

    #[test]
    fn ports_and_brackets_are_understood() {
        assert_eq!(resolve(PEER, &headers(&["203.0.113.9:4711"]), 1), ip("203.0.113.9"));
        assert_eq!(resolve(PEER, &headers(&["[2001:db8::1]:4711"]), 1), ip("2001:db8::1"));
    }

    #[test]
    fn garbage_or_a_missing_header_falls_back_to_the_peer() {
        assert_eq!(resolve(PEER, &headers(&["not-an-address"]), 1), PEER);
        assert_eq!(resolve(PEER, &HeaderMap::new(), 1), PEER);
    }
}
