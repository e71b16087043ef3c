//! The hot path of every authenticated request, kept in memory: presented-token hash →
//! owner (and the rendered `/me` body). An entry lives until the store says what it was
//! drawn from changed: the store's triggers write each token deletion, user change and role
//! permission edit to the invalidation feed (`db::invalidations`), this process reads the
//! feed after every commit of its own — before the write is answered — and polls it for
//! other processes' (`tokend admin`, other nodes). A login, a mint or a new PAT evicts no one.
//!
//! Two rules keep an entry from outliving a revocation:
//! - **No late fills.** A lookup notes the epoch (the count of evictions applied) before it
//!   reads the store, and its result is cached only if no eviction came in meanwhile.
//! - **Fail closed.** Entries are trusted only while the feed was read within `LEASE_MS`; if
//!   the watcher stalls or the feed cannot be read, every lookup goes to the store.
//!
//! Expiry and the user id are still checked on every request. SAYMON's API tokens have a
//! cache of their own (owner: the user record), so a token of one dialect can never be
//! looked up in the other's.

use crate::clock::{Millis, now_ms};
use crate::db::invalidations::{Feed, Invalidation};
use crate::db::tokens::TokenOwner;
use crate::db::users::UserRecord;
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// Entries are trusted only while the invalidation feed was read this recently. The
/// watcher reads it every 100 ms; the writer after every commit.
pub const LEASE_MS: Millis = 1_000;

/// More distinct tokens than this and the cache starts over. An entry with its rendered
/// `/me` body takes about 2 kB, so this bounds the cache to ~20 MB even when every request
/// presents a different token.
const MAX_ENTRIES: usize = 10_000;

/// Whose credential a cached owner is.
pub trait Owner {
    fn user_id(&self) -> &str;
}

impl Owner for TokenOwner {
    fn user_id(&self) -> &str {
        &self.user.id
    }
}

impl Owner for UserRecord {
    fn user_id(&self) -> &str {
        &self.id
    }
}

pub struct AuthEntry<O = TokenOwner> {
    pub owner: O,
    /// The owner's own user document (`/me`, SAYMON's `users/current`), serialised once
    /// per entry.
    pub me_body: OnceLock<Bytes>,
}

struct Entries<O> {
    by_hash: HashMap<[u8; 32], Arc<AuthEntry<O>>>,
    /// Evictions applied so far; a lookup that started before the latest is not cached.
    epoch: u64,
}

pub struct AuthCache<O = TokenOwner> {
    entries: RwLock<Entries<O>>,
}

impl<O> Default for AuthCache<O> {
    fn default() -> Self {
        AuthCache { entries: RwLock::new(Entries { by_hash: HashMap::new(), epoch: 0 }) }
    }
}

/// Whether cached entries may be used now: the feed was read within the lease.
pub fn trusted(feed: &Feed) -> bool {
    now_ms() - feed.read_at() < LEASE_MS
}

impl<O: Owner> AuthCache<O> {
    /// The epoch to pass to `put` for a lookup starting now.
    pub fn epoch(&self) -> u64 {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).epoch
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Arc<AuthEntry<O>>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).by_hash.get(hash).cloned()
    }

    /// Remembers `owner`, read from the store by a lookup that started at `epoch`; if an
    /// eviction came in since, the entry serves this request only.
    pub fn put(&self, hash: [u8; 32], epoch: u64, owner: O) -> Arc<AuthEntry<O>> {
        let entry = Arc::new(AuthEntry { owner, me_body: OnceLock::new() });
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.epoch == epoch {
            if entries.by_hash.len() >= MAX_ENTRIES {
                entries.by_hash.clear();
            }
            entries.by_hash.insert(hash, entry.clone());
        }
        entry
    }

    /// Forgets what the store says changed.
    pub fn forget(&self, invalidations: &[Invalidation]) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.epoch += 1;
        for invalidation in invalidations {
            match invalidation {
                Invalidation::Token(hash) => {
                    entries.by_hash.remove(hash);
                }
                Invalidation::User(id) => entries.by_hash.retain(|_, e| e.owner.user_id() != id),
                Invalidation::Everything => entries.by_hash.clear(),
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap().by_hash.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Of(&'static str);
    impl Owner for Of {
        fn user_id(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn a_token_eviction_forgets_that_token_only() {
        let cache = AuthCache::default();
        cache.put([1; 32], cache.epoch(), Of("a"));
        cache.put([2; 32], cache.epoch(), Of("a"));
        cache.forget(&[Invalidation::Token([1; 32])]);
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[2; 32]).is_some());
    }

    #[test]
    fn a_user_eviction_forgets_every_token_of_that_user() {
        let cache = AuthCache::default();
        cache.put([1; 32], cache.epoch(), Of("a"));
        cache.put([2; 32], cache.epoch(), Of("a"));
        cache.put([3; 32], cache.epoch(), Of("b"));
        cache.forget(&[Invalidation::User("a".into())]);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&[3; 32]).is_some());
    }

    #[test]
    fn a_lookup_that_started_before_an_eviction_is_not_cached() {
        let cache = AuthCache::default();
        let started = cache.epoch();
        cache.forget(&[Invalidation::User("a".into())]);
        let served = cache.put([1; 32], started, Of("a"));
        assert_eq!(served.owner.user_id(), "a", "the request itself is still answered");
        assert!(cache.get(&[1; 32]).is_none(), "but nothing read before the eviction is kept");
    }
}
