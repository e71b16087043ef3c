//! Passwords as Rocket.Chat stores them: bcrypt over the lowercase hex SHA-256 of the
//! password, so clients may send either the plaintext or `{digest, algorithm:"sha-256"}`.
//! Hashing the 64-char digest also means bcrypt's 72-byte truncation never applies.
//!
//! bcrypt runs on the hashing pool (one idle-priority thread per CPU): a burst of logins
//! queues there and only uses CPU that token lookups leave free.

use crate::auth::hashing_pool::HashingPool;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The lowercase hex SHA-256 of a password: what bcrypt actually sees.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDigest(String);

impl PasswordDigest {
    pub fn of_plaintext(plain: &str) -> Self {
        PasswordDigest(hex::encode(Sha256::digest(plain.as_bytes())))
    }

    /// A client-computed digest: exactly 64 hex characters, compared lowercased.
    pub fn from_client_digest(digest: &str) -> Option<Self> {
        (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| PasswordDigest(digest.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordDigest(***)")
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    pool: Arc<HashingPool>,
    /// A hash of nothing in particular, verified when the user does not exist so that an
    /// unknown user costs the same time as a wrong password.
    dummy_hash: Arc<OnceLock<String>>,
}

impl PasswordHasher {
    pub fn new(cost: u32) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordHasher { cost, pool: Arc::new(HashingPool::new(cpus)), dummy_hash: Arc::new(OnceLock::new()) }
    }

    pub async fn hash(&self, digest: PasswordDigest) -> Result<String> {
        let cost = self.cost;
        let hashed = self.pool.run(move || bcrypt::hash(digest.as_str(), cost)).await;
        hashed
            .ok_or_else(|| Error::Internal("the hashing pool stopped".into()))?
            .map_err(|e| Error::Internal(format!("bcrypt: {e}")))
    }

    /// True only when `stored` exists and matches. With no stored hash a dummy hash is
    /// verified anyway, so both failures take the same time.
    pub async fn verify(&self, digest: PasswordDigest, stored: Option<String>) -> Result<bool> {
        let cost = self.cost;
        let dummy = self.dummy_hash.clone();
        let matched = self
            .pool
            .run(move || {
                let (hash, real) = match stored {
                    Some(h) => (h, true),
                    None => (dummy_hash(&dummy, cost).to_string(), false),
                };
                // A malformed stored hash is a failed verification, not a server error.
                bcrypt::verify(digest.as_str(), &hash).unwrap_or(false) && real
            })
            .await;
        matched.ok_or_else(|| Error::Internal("the hashing pool stopped".into()))
    }

    /// The blocking form, for the command line and startup.
    pub fn hash_blocking(&self, digest: &PasswordDigest) -> Result<String> {
        bcrypt::hash(digest.as_str(), self.cost).map_err(|e| Error::Internal(format!("bcrypt: {e}")))
    }
}

fn dummy_hash(cell: &OnceLock<String>, cost: u32) -> &str {
    cell.get_or_init(|| {
        let mut seed = [0u8; 16];
        crate::auth::random::fill(&mut seed);
        bcrypt::hash(hex::encode(seed), cost).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_lowercase_hex_sha256() {
        // SHA-256("password")
        assert_eq!(
            PasswordDigest::of_plaintext("password").as_str(),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }

    #[test]
    fn client_digests_must_be_64_hex_chars_and_are_lowercased() {
        let upper = "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8";
        assert_eq!(PasswordDigest::from_client_digest(upper), Some(PasswordDigest::of_plaintext("password")));
        assert!(PasswordDigest::from_client_digest("abc").is_none());
        assert!(PasswordDigest::from_client_digest(&"g".repeat(64)).is_none());
    }

    #[test]
    fn nul_bytes_and_case_changes_change_the_digest() {
        assert_ne!(PasswordDigest::of_plaintext("abc\0def"), PasswordDigest::of_plaintext("abc"));
        assert_ne!(PasswordDigest::of_plaintext("Secret"), PasswordDigest::of_plaintext("secret"));
    }
}
