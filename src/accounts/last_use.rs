//! When and from where each credential was last used, without a write per request: the
//! first use of a credential in a minute is queued, later ones only find it in a map; a
//! periodic task (and every listing, before it reads) writes the queue in one transaction
//! through the writer. Memory is bounded: past `MAX_TRACKED` credentials the map keeps only
//! those seen this minute (else starts over) and the queue drops what does not fit.

use super::Accounts;
use super::digest_map::DigestMap;
use crate::clock::{Millis, now_ms};
use crate::db::Scope;
use crate::db::lifecycle::{self, Use, UseOf};
use crate::error::Result;
use std::sync::{Mutex, RwLock};

/// At most one recorded use per credential in this long.
pub const EVERY_MS: Millis = 60_000;

/// Credentials remembered at once (about 48 bytes each) and uses queued at most.
const MAX_TRACKED: usize = 131_072;

/// The map is split by a byte of the credential hash: a first use in its minute takes a
/// write lock, and with one map each would briefly stall every request thread's lookup (many
/// users' tokens arriving at once do that hundreds of times a second).
const SHARDS: usize = 16;

#[derive(Default)]
pub struct LastUse {
    /// Credential hash → when its use was last queued, in `SHARDS` parts.
    queued_at: [RwLock<DigestMap<Millis>>; SHARDS],
    pending: Mutex<Vec<Use>>,
}

impl LastUse {
    /// Notes that a credential was used now from `addr` (asked for only when due). The
    /// common case — already noted this minute — is one read-locked map lookup.
    pub fn note(&self, of: UseOf, hash: &[u8; 32], addr: impl FnOnce() -> Option<String>) {
        let now = now_ms();
        let recent = |at: Option<&Millis>| at.is_some_and(|at| now - at < EVERY_MS);
        // The last byte: the map's own hash is the first eight (`digest_map`).
        let shard = &self.queued_at[usize::from(hash[31]) % SHARDS];
        if recent(shard.read().unwrap_or_else(|e| e.into_inner()).get(hash)) {
            return;
        }
        {
            let mut queued = shard.write().unwrap_or_else(|e| e.into_inner());
            if recent(queued.get(hash)) {
                return;
            }
            if queued.len() >= MAX_TRACKED / SHARDS {
                queued.retain(|_, at| now - *at < EVERY_MS);
                if queued.len() >= MAX_TRACKED / SHARDS {
                    queued.clear();
                }
            }
            queued.insert(*hash, now);
        }
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() < MAX_TRACKED {
            pending.push(Use { of, hash: *hash, at: now, addr: addr() });
        }
    }

    fn take(&self) -> Vec<Use> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Writes the queued uses, in one transaction. Called periodically and before listings.
pub async fn flush(state: &Accounts) -> Result<()> {
    let uses = state.last_use.take();
    if uses.is_empty() {
        return Ok(());
    }
    // Blind: one UPDATE per use, each standing alone (the newest stamp wins either way).
    state.db.write(Scope::Blind, move |tx| lifecycle::record_uses(tx, &uses)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_queued_once_a_minute() {
        let last_use = LastUse::default();
        for _ in 0..5 {
            last_use.note(UseOf::Token, &[7; 32], || Some("127.0.0.1".into()));
        }
        last_use.note(UseOf::SaymonApiToken, &[8; 32], || None);
        let uses = last_use.take();
        assert_eq!(uses.len(), 2);
        assert_eq!(uses[0].addr.as_deref(), Some("127.0.0.1"));
        last_use.note(UseOf::Token, &[7; 32], || panic!("not due: the address is not even asked for"));
        assert!(last_use.take().is_empty());
    }
}
