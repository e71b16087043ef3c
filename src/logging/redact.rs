//! The text access line logs the request's path (never its query, which may carry an
//! `api-token`): a path segment that looks like a token is replaced first.

/// A segment this long made only of token characters is not a user id (17 characters) or a
/// route name (those contain a dot) but could be a token someone pasted into a path
/// (SAYMON tokens are 36 characters, Rocket.Chat's 43).
const LONGEST_LOGGED_SEGMENT: usize = 24;

fn looks_like_a_token(segment: &str) -> bool {
    segment.len() > LONGEST_LOGGED_SEGMENT
        && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%')
}

/// `path` with every token-like segment replaced by `<redacted>`.
pub fn redact_long_segments(path: &str) -> String {
    path.split('/')
        .map(|segment| if looks_like_a_token(segment) { "<redacted>" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_like_path_segments_are_redacted_and_route_names_kept() {
        let token = "32925106-8c56-41d1-8713-410f203e8ce0";
        assert_eq!(
            super::redact_long_segments(&format!("/node/api/users/{token}/auth-token")),
            "/node/api/users/<redacted>/auth-token"
        );
        let route = "/api/v1/users.regeneratePersonalAccessToken";
        assert_eq!(super::redact_long_segments(route), route);
        let rc_token = "Xq3f9a_Kd-8mN2pL5sT7vW1yZ4bC6eG0hJ9kM3nP5rS";
        assert_eq!(super::redact_long_segments(&format!("/x/{rc_token}")), "/x/<redacted>");
        assert_eq!(
            super::redact_long_segments("/node/api/users/aBcDeFgHiJkLmNoPq"),
            "/node/api/users/aBcDeFgHiJkLmNoPq"
        );
    }
}
