//! Per-account turn-taking inside one process: checks of the same account's secrets run one
//! at a time. One account (a client hammering HTTP Basic, or an attacker) then holds at most
//! one password-hashing thread, however many connections it opens, and the logins of every
//! other account keep their share of the pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Slot = Arc<AsyncMutex<()>>;

#[derive(Default)]
pub struct Turns {
    slots: Arc<Mutex<HashMap<[u8; 32], Slot>>>,
}

/// The account's turn; the next waiter goes when it is dropped.
pub struct Turn {
    key: [u8; 32],
    slots: Arc<Mutex<HashMap<[u8; 32], Slot>>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits for `key`'s turn.
    pub async fn take(&self, key: [u8; 32]) -> Turn {
        let slot = self.slots.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().clone();
        let guard = slot.lock_owned().await;
        Turn { key, slots: self.slots.clone(), guard: Some(guard) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.guard.take();
        // Forget the slot once nobody holds or awaits it, so the map only ever holds the
        // accounts being checked right now.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.get(&self.key).is_some_and(|slot| Arc::strong_count(slot) == 1) {
            slots.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn turns_of_one_key_never_overlap_and_the_map_empties() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (turns, inside) = (turns.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = turns.take([7; 32]).await;
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two turns of one key at once");
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(turns.len(), 0);
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let turns = Turns::default();
        let _a = turns.take([1; 32]).await;
        let _b =
            tokio::time::timeout(std::time::Duration::from_secs(5), turns.take([2; 32])).await.expect("not blocked");
    }
}
