//! A request that rides the `sid` cookie must come from tokend's own origin when it changes
//! something. `SameSite=Lax` keeps the cookie off cross-*site* POSTs only: a page on another
//! port or subdomain of the same site still gets it sent, and may auto-submit a form.
//! Decided from the headers browsers add themselves (OWASP CSRF cheat sheet, "verifying
//! origin with standard headers"), always, whether or not the CSRF token layer is on.
//! Requests with neither header come from non-browser clients, which no page can drive.

use super::error::{SaymonError, SaymonResult};
use crate::api::client_addr::trusted_entry;
use actix_web::HttpRequest;
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;

/// Refuses an unsafe cookie-authenticated request from another origin (403).
pub fn check(req: &HttpRequest, forwarded_count: u32) -> SaymonResult<()> {
    if allows(req.method(), req.headers(), forwarded_count) {
        Ok(())
    } else {
        log::info!("saymon: refused a cross-origin {} {} carrying a session cookie", req.method(), req.path());
        Err(SaymonError::CrossOrigin)
    }
}

/// The decision: safe methods pass; then `Sec-Fetch-Site` decides if present, else `Origin`
/// must name the host the request was sent to (or, behind trusted proxies, the host the
/// outermost proxy was asked for); with neither header the request passes.
fn allows(method: &Method, headers: &HeaderMap, forwarded_count: u32) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let mut fetch_sites = headers.get_all("sec-fetch-site").peekable();
    if fetch_sites.peek().is_some() {
        // `none`: the user typed the URL or used a bookmark; no page chose to send it.
        return fetch_sites.all(|v| matches!(v.as_bytes(), b"same-origin" | b"none"));
    }
    let Some(origin) = headers.get("origin") else { return true };
    let Some((scheme, origin_host)) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        return false; // `null` (sandboxed pages, some redirects) or unreadable: no origin we know.
    };
    let host = headers.get("host").map(|h| h.as_bytes());
    let forwarded_host = (forwarded_count > 0).then(|| trusted_entry(headers, "x-forwarded-host", forwarded_count));
    [host, forwarded_host.flatten()].into_iter().flatten().any(|h| same_host(scheme, origin_host, h))
}

/// `host[:port]` of an origin against a `Host` value, ignoring case and the scheme's default port.
fn same_host(scheme: &str, origin_host: &str, host: &[u8]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    let bare = |h: &str| -> String {
        let h = h.trim().to_ascii_lowercase();
        match h.strip_suffix(default_port) {
            Some(stripped) if !default_port.is_empty() => stripped.to_string(),
            _ => h,
        }
    };
    !origin_host.is_empty() && bare(origin_host) == bare(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn post(pairs: &[(&'static str, &str)]) -> bool {
        allows(&Method::POST, &headers(pairs), 0)
    }

    const HOST: (&str, &str) = ("host", "127.0.0.1:3000");

    #[test]
    fn reads_pass_whatever_their_origin() {
        let foreign = headers(&[HOST, ("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")]);
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(allows(&method, &foreign, 0), "{method}");
        }
        assert!(!allows(&Method::DELETE, &foreign, 0));
        assert!(!allows(&Method::PATCH, &foreign, 0));
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        assert!(post(&[HOST, ("sec-fetch-site", "same-origin")]));
        assert!(post(&[HOST, ("sec-fetch-site", "none")]));
        assert!(!post(&[HOST, ("sec-fetch-site", "same-site")]));
        assert!(!post(&[HOST, ("sec-fetch-site", "cross-site")]));
        assert!(!post(&[HOST, ("sec-fetch-site", "")]));
        assert!(!post(&[HOST, ("sec-fetch-site", "same-origin"), ("sec-fetch-site", "cross-site")]));
        // A matching Origin does not overrule it.
        assert!(!post(&[HOST, ("sec-fetch-site", "same-site"), ("origin", "http://127.0.0.1:3000")]));
    }

    #[test]
    fn otherwise_the_origin_must_name_the_host() {
        assert!(post(&[HOST, ("origin", "http://127.0.0.1:3000")]));
        assert!(post(&[("host", "Tokend.Example"), ("origin", "https://tokend.example")]));
        assert!(post(&[("host", "tokend.example:443"), ("origin", "https://tokend.example")]));
        assert!(post(&[("host", "tokend.example"), ("origin", "http://tokend.example:80")]));
        assert!(!post(&[HOST, ("origin", "http://127.0.0.1:1")]));
        assert!(!post(&[HOST, ("origin", "http://127.0.0.1")]));
        assert!(!post(&[HOST, ("origin", "null")]));
        assert!(!post(&[HOST, ("origin", "http://")]));
        assert!(!post(&[("origin", "http://127.0.0.1:3000")]), "no Host to match");
    }

    #[test]
    fn clients_sending_neither_header_pass() {
        assert!(post(&[HOST]));
        assert!(post(&[]));
    }

    #[test]
    fn forwarded_host_counts_only_behind_trusted_proxies() {
        let proxied = headers(&[
            ("host", "10.0.0.5:3000"),
            ("x-forwarded-host", "tokend.example"),
            ("origin", "https://tokend.example"),
        ]);
        assert!(!allows(&Method::POST, &proxied, 0));
        assert!(allows(&Method::POST, &proxied, 1));
        // The client's own entry, left of the proxy's, proves nothing.
        let spoofed = headers(&[
            ("host", "10.0.0.5:3000"),
            ("x-forwarded-host", "evil.example, tokend.example"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!allows(&Method::POST, &spoofed, 1));
    }
}
