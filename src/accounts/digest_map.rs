//! Maps keyed by a SHA-256 digest (a credential's hash) without hashing the key again.
//! std's SipHash exists to stop clients from choosing keys that collide; these keys are
//! digests of secrets the server generated, already uniform in every bit, so their first
//! eight bytes are as good a hash as any — and every authenticated request looks one up in
//! two such maps (the token cache and the last-use map).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub type DigestMap<V> = HashMap<[u8; 32], V, BuildHasherDefault<DigestHasher>>;

#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    /// Folds in the first eight bytes of what is written: for a `[u8; 32]` key, its length
    /// (the same for every key) and then the digest's leading bytes.
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(8) ^ u64::from_le_bytes(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash_of(key: &[u8; 32]) -> u64 {
        BuildHasherDefault::<DigestHasher>::default().hash_one(key)
    }

    #[test]
    fn keys_differing_in_their_leading_bytes_hash_apart_and_lookups_work() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        a[0] = 1;
        b[7] = 1;
        assert_ne!(hash_of(&a), hash_of(&b));
        let mut map = DigestMap::default();
        map.insert(a, "a");
        map.insert(b, "b");
        assert_eq!((map.get(&a), map.get(&b), map.get(&[0; 32])), (Some(&"a"), Some(&"b"), None));
    }
}
