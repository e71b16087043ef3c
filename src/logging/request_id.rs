//! `X-Request-Id`: a client's (or proxy's) id is kept when it is short and plain, so one
//! request can be followed across services; anything else is replaced by a fresh id. The
//! id is echoed in the response and carried by every log line of the request.

use actix_web::http::header::{HeaderMap, HeaderName};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id accepted from a client (a UUID is 36 characters).
pub const MAX_LEN: usize = 64;

/// The id of a request with these headers: the client's if acceptable, else a new one.
pub fn accept_or_generate(headers: &HeaderMap) -> String {
    match headers.get(&HEADER).and_then(|v| v.to_str().ok()) {
        Some(sent) if is_acceptable(sent) => sent.to_string(),
        _ => generate(),
    }
}

/// 1 to `MAX_LEN` characters of letters, digits and `-_.:`: nothing that could break a log
/// line, a header or a query in a log store.
pub fn is_acceptable(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A random prefix drawn once per process and a counter: unique without a system call per
/// request.
fn generate() -> String {
    static PREFIX: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_string());
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{}-{:010}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_short_ids_are_kept_and_others_replaced() {
        assert!(is_acceptable("3f2a-b1.c_d:9"));
        assert!(is_acceptable(&"a".repeat(MAX_LEN)));
        for bad in ["", "a b", "x\"y", "line\nbreak", "é", "a/b", "{}", &"a".repeat(MAX_LEN + 1)] {
            assert!(!is_acceptable(bad), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_acceptable_and_distinct() {
        let (a, b) = (generate(), generate());
        assert!(is_acceptable(&a) && is_acceptable(&b), "{a} {b}");
        assert_ne!(a, b);
    }
}
