//! The hot path of every authenticated Rocket.Chat request, kept in memory: presented-token
//! hash → owner, valid only for the database write generation it was read at. Every
//! committed write in this process bumps the generation (so a revocation is seen by the
//! very next request), and a watcher bumps it when another process writes. Expiry and the
//! user id are still checked on every request. The rendered `/me` body rides along.
//! SAYMON's API tokens have a cache of their own (owner: the user record), so a token of
//! one dialect can never be looked up in the other's.

use crate::db::tokens::TokenOwner;
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// More distinct tokens than this in one generation and the cache starts over. An entry
/// with its rendered `/me` body takes about 2 kB, so this bounds the cache to ~20 MB even
/// when every request presents a different token.
const MAX_ENTRIES: usize = 10_000;

pub struct AuthEntry<O = TokenOwner> {
    pub owner: O,
    generation: u64,
    /// The owner's own user document (`/me`, SAYMON's `users/current`), serialised once
    /// per entry.
    pub me_body: OnceLock<Bytes>,
}

pub struct AuthCache<O = TokenOwner> {
    entries: RwLock<HashMap<[u8; 32], Arc<AuthEntry<O>>>>,
}

impl<O> Default for AuthCache<O> {
    fn default() -> Self {
        AuthCache { entries: RwLock::default() }
    }
}

impl<O> AuthCache<O> {
    /// The entry for `hash` if it was read at `generation`.
    pub fn get(&self, hash: &[u8; 32], generation: u64) -> Option<Arc<AuthEntry<O>>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(hash).filter(|e| e.generation == generation).cloned()
    }

    /// Remembers `owner`, read from the database at `generation`.
    pub fn put(&self, hash: [u8; 32], generation: u64, owner: O) -> Arc<AuthEntry<O>> {
        let entry = Arc::new(AuthEntry { owner, generation, me_body: OnceLock::new() });
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.generation == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, entry.clone());
        entry
    }
}
