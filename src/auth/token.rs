//! Bearer tokens: generated from the OS CSPRNG, shown to the client once, stored only as
//! SHA-256. `PlainToken` and `TokenHash` print nothing useful in `Debug` so neither ends
//! up in a log by accident.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;

/// Length of every token tokend issues on the Rocket.Chat side (as Meteor's `Random.secret()`).
pub const TOKEN_LENGTH: usize = 43;

/// A token in plaintext. Only the response that creates it ever sees `expose()`.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// 32 random bytes as unpadded URL-safe base64: 43 chars, 256 bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        crate::auth::random::fill(&mut bytes);
        PlainToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a token a client presented (e.g. to echo it back to its owner).
    pub fn from_presented(presented: &str) -> Self {
        PlainToken(presented.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The last six characters, shown in PAT listings (`lastTokenPart`).
    pub fn last_part(&self) -> String {
        self.0[self.0.len().saturating_sub(6)..].to_string()
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(***)")
    }
}

/// SHA-256 of a presented token: the only form stored and the lookup key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(presented: &str) -> Self {
        TokenHash(Sha256::digest(presented.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// True when `presented` could be a token tokend issued. Anything else cannot match a
/// stored hash, so it is refused without touching the database.
pub fn is_plausible(presented: &str) -> bool {
    presented.len() == TOKEN_LENGTH && presented.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_tokens_are_43_url_safe_chars() {
        for _ in 0..1000 {
            let t = PlainToken::generate();
            assert_eq!(t.expose().len(), TOKEN_LENGTH);
            assert!(is_plausible(t.expose()), "{}", t.expose());
        }
    }

    #[test]
    fn ten_thousand_tokens_are_all_distinct() {
        let set: HashSet<String> = (0..10_000).map(|_| PlainToken::generate().expose().to_string()).collect();
        assert_eq!(set.len(), 10_000);
    }

    #[test]
    fn hash_is_sha256_of_the_utf8_token() {
        // SHA-256("abc") from FIPS 180-2.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(hex::encode(TokenHash::of("abc").as_bytes()), expected);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = PlainToken::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_eq!(format!("{:?}", t.hash()), "TokenHash(..)");
    }

    #[test]
    fn last_part_is_the_last_six_characters() {
        let t = PlainToken::generate();
        assert_eq!(t.last_part(), &t.expose()[37..]);
    }

    #[test]
    fn implausible_tokens_are_recognised() {
        assert!(!is_plausible(""));
        assert!(!is_plausible("' OR 1=1 --"));
        assert!(!is_plausible(&"a".repeat(44)));
        assert!(!is_plausible(&format!("{}=", "a".repeat(42))));
    }
}
