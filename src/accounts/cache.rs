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

use super::digest_map::DigestMap;
use crate::clock::{Millis, now_ms};
use crate::db::invalidations::{Feed, Invalidation};
use crate::db::saymon::ApiTokenOwner;
use crate::db::tokens::TokenOwner;
use crate::db::users::UserRecord;
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// Entries are trusted only while the invalidation feed was read this recently. The
/// watcher reads it every 100 ms; the writer after every commit.
pub const LEASE_MS: Millis = 1_000;

/// More distinct tokens than this and the cache starts over. A token's entry is about 150
/// bytes: its owner's record and rendered `/me` body (about 2.5 kB) are shared by every token
/// of that user and kept for up to `MAX_USERS` users, so the cache stays under about 60 MB.
const MAX_ENTRIES: usize = 131_072;

/// More distinct users than this and their shared records start over too (~2.5 kB each).
const MAX_USERS: usize = 16_384;

/// Whose credential a cached owner is; owners of one user share that user's record.
pub trait Owner {
    fn user_id(&self) -> &str;
    /// Takes the shared user record of `other`, an owner of the same user.
    fn share_user(&mut self, other: &Self);
}

impl Owner for TokenOwner {
    fn user_id(&self) -> &str {
        &self.user.id
    }

    fn share_user(&mut self, other: &Self) {
        self.user = other.user.clone();
    }
}

impl Owner for UserRecord {
    fn user_id(&self) -> &str {
        &self.id
    }

    fn share_user(&mut self, _: &Self) {}
}

impl Owner for ApiTokenOwner {
    fn user_id(&self) -> &str {
        &self.user.id
    }

    fn share_user(&mut self, other: &Self) {
        self.user = other.user.clone();
    }
}

pub struct AuthEntry<O = TokenOwner> {
    pub owner: O,
    /// The owner's own user document (`/me`, SAYMON's `users/current`), serialised once
    /// per user and shared by the user's cached tokens.
    pub me_body: Arc<OnceLock<Bytes>>,
}

impl<O> AuthEntry<O> {
    /// An entry for one request only (not cached).
    pub fn uncached(owner: O) -> Arc<Self> {
        Arc::new(AuthEntry { owner, me_body: Arc::default() })
    }
}

struct Entries<O> {
    by_hash: DigestMap<Arc<AuthEntry<O>>>,
    /// One entry of each cached user, whose record and body new entries of that user share.
    /// (Every user with a token in `by_hash` is here: both are cleared together.)
    by_user: HashMap<String, Arc<AuthEntry<O>>>,
}

pub struct AuthCache<O = TokenOwner> {
    entries: RwLock<Entries<O>>,
    /// Invalidations received so far; a lookup that started before the latest is not cached.
    /// Outside the lock, so that an invalidation touching nothing cached (the common case: a
    /// login trimming a never-used old token) takes no write lock, which would stall every
    /// request thread behind the writer thread.
    epoch: AtomicU64,
}

impl<O> Default for AuthCache<O> {
    fn default() -> Self {
        AuthCache {
            entries: RwLock::new(Entries { by_hash: DigestMap::default(), by_user: HashMap::new() }),
            epoch: AtomicU64::new(0),
        }
    }
}

/// Whether cached entries may be used now: the feed was read within the lease.
pub fn trusted(feed: &Feed) -> bool {
    now_ms() - feed.read_at() < LEASE_MS
}

impl<O: Owner> AuthCache<O> {
    /// The epoch to pass to `put` for a lookup starting now.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Arc<AuthEntry<O>>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).by_hash.get(hash).cloned()
    }

    /// Remembers `owner`, read from the store by a lookup that started at `epoch`; if an
    /// eviction came in since, the entry serves this request only.
    pub fn put(&self, hash: [u8; 32], epoch: u64, mut owner: O) -> Arc<AuthEntry<O>> {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the write lock: `forget` bumps the epoch before it looks for what to
        // evict, so either this insert sees the bump or `forget` sees the insert.
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return AuthEntry::uncached(owner);
        }
        if entries.by_hash.len() >= MAX_ENTRIES {
            // The users' shared records and bodies stay: a store of many tokens over fewer
            // users then pays only the token lookup on a miss, not a new `/me` rendering.
            entries.by_hash.clear();
            if entries.by_user.len() >= MAX_USERS {
                entries.by_user.clear();
            }
        }
        let entry = match entries.by_user.get(owner.user_id()) {
            Some(sibling) => {
                owner.share_user(&sibling.owner);
                Arc::new(AuthEntry { owner, me_body: sibling.me_body.clone() })
            }
            None => {
                let entry = AuthEntry::uncached(owner);
                entries.by_user.insert(entry.owner.user_id().to_string(), entry.clone());
                entry
            }
        };
        entries.by_hash.insert(hash, entry.clone());
        entry
    }

    /// Forgets what the store says changed.
    pub fn forget(&self, invalidations: &[Invalidation]) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let cached = |entries: &Entries<O>, invalidation: &Invalidation| match invalidation {
            Invalidation::Token(hash) => entries.by_hash.contains_key(hash),
            Invalidation::User(id) => entries.by_user.contains_key(id),
            Invalidation::Everything => !entries.by_user.is_empty() || !entries.by_hash.is_empty(),
        };
        let affected = {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            invalidations.iter().any(|i| cached(&entries, i))
        };
        if !affected {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        for invalidation in invalidations {
            match invalidation {
                Invalidation::Token(hash) => {
                    entries.by_hash.remove(hash);
                }
                Invalidation::User(id) => {
                    entries.by_user.remove(id);
                    entries.by_hash.retain(|_, e| e.owner.user_id() != id);
                }
                Invalidation::Everything => {
                    entries.by_hash.clear();
                    entries.by_user.clear();
                }
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

        fn share_user(&mut self, _: &Self) {}
    }

    #[test]
    fn entries_are_distrusted_until_the_feed_is_read_and_again_when_it_fails() {
        let feed = Feed::default();
        assert!(!trusted(&feed), "never read: fail closed");
        let conn = crate::db::empty_scratch_store();
        feed.catch_up_or_forget(&conn); // no such table: the read fails
        assert!(!trusted(&feed));
        let create =
            "CREATE TABLE cache_invalidations (id INTEGER PRIMARY KEY, token_hash BLOB, user_id TEXT, at INTEGER)";
        crate::db::Sql::exec(&conn, create, &[]).unwrap();
        feed.catch_up_or_forget(&conn);
        assert!(trusted(&feed));
    }

    #[test]
    fn tokens_of_one_user_share_its_rendered_body() {
        let cache = AuthCache::default();
        let a = cache.put([1; 32], cache.epoch(), Of("a"));
        let b = cache.put([2; 32], cache.epoch(), Of("a"));
        a.me_body.get_or_init(|| Bytes::from_static(b"{}"));
        assert_eq!(b.me_body.get().map(|b| b.len()), Some(2));
    }

    #[test]
    fn a_user_eviction_also_drops_the_shared_body() {
        let cache = AuthCache::default();
        let a = cache.put([1; 32], cache.epoch(), Of("a"));
        a.me_body.get_or_init(|| Bytes::from_static(b"{}"));
        cache.forget(&[Invalidation::User("a".into())]);
        let again = cache.put([1; 32], cache.epoch(), Of("a"));
        assert!(again.me_body.get().is_none(), "rendered anew after the user changed");
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
    fn an_eviction_of_something_not_cached_still_keeps_a_lookup_in_flight_uncached() {
        let cache = AuthCache::default();
        cache.put([2; 32], cache.epoch(), Of("b"));
        let started = cache.epoch();
        cache.forget(&[Invalidation::Token([1; 32])]); // not cached: no write lock taken
        cache.put([1; 32], started, Of("a"));
        assert!(cache.get(&[1; 32]).is_none(), "the lookup began before the eviction");
        assert!(cache.get(&[2; 32]).is_some());
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
