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
    let entry = trusted_entry(headers, "x-forwarded-for", trusted);
    entry.and_then(|e| std::str::from_utf8(e).ok()).and_then(parse_entry).or(peer)
}

/// The entry of the comma-separated list header `name` (all its lines, in order) that the
/// outermost of `trusted` proxies wrote: the `trusted`-th from the right, or the leftmost of
/// a shorter chain. Read as bytes: the client writes the entries left of it, and a byte
/// that is not visible ASCII there must not cost us the proxy's entry.
pub fn trusted_entry<'h>(headers: &'h HeaderMap, name: &str, trusted: u32) -> Option<&'h [u8]> {
    let chain: Vec<&[u8]> = headers
        .get_all(name)
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|entry| !entry.is_empty())
        .collect();
    chain.get(chain.len().saturating_sub(trusted as usize)).copied()
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
        raw_headers(&values.iter().map(|v| v.as_bytes()).collect::<Vec<_>>())
    }

    fn raw_headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_bytes(v).unwrap());
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
        assert_eq!(resolve(PEER, &headers(&[" , ,"]), 1), PEER);
    }

    #[test]
    fn non_ascii_bytes_the_client_wrote_do_not_hide_the_trusted_entry() {
        assert_eq!(resolve(PEER, &raw_headers(&[b"\xff-garbage, 203.0.113.9"]), 1), ip("203.0.113.9"));
        assert_eq!(resolve(PEER, &raw_headers(&[b"1.2.3.4\xc3\xa9", b"203.0.113.9, 192.0.2.4"]), 2), ip("203.0.113.9"));
        // ... also when the client's bytes sit in a line of their own.
        assert_eq!(resolve(PEER, &raw_headers(&[b"\x80\xfe", b"203.0.113.9"]), 1), ip("203.0.113.9"));
    }

    #[test]
    fn a_non_ascii_selected_entry_falls_back_to_the_peer() {
        assert_eq!(resolve(PEER, &raw_headers(&[b"203.0.113.9, 192.0.2.4\xff"]), 1), PEER);
        // A short chain: the leftmost entry is the selected one, garbage or not.
        assert_eq!(resolve(PEER, &raw_headers(&[b"\xff"]), 2), PEER);
    }

    #[test]
    fn the_trusted_entry_is_counted_from_the_right() {
        let map = headers(&["a, b", "c"]);
        let pick = |n| trusted_entry(&map, "x-forwarded-for", n);
        assert_eq!(
            (pick(1), pick(2), pick(3), pick(9)),
            (Some(&b"c"[..]), Some(&b"b"[..]), Some(&b"a"[..]), Some(&b"a"[..]))
        );
        assert_eq!(trusted_entry(&HeaderMap::new(), "x-forwarded-for", 1), None);
    }
}
