//! Lock scopes: what a write must be serialised against where several processes write to
//! one store (scale-out.md §2.4). Every `Db::write` names one.

/// What a write must be serialised against on an engine with several writers: writes of
/// one scope run one at a time. `User` for whatever concerns one account
/// only (its tokens, counters, second factors); `Global` for invariants across accounts
/// (the last active admin, unique names, the first admin, roles and permissions), and it
/// also excludes the subject's own per-user writes; `Blind` for writes whose statements
/// each stand alone (nothing read, then written on what was read). SQLite has one writer
/// and ignores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    User(LockKey),
    Global(Option<LockKey>),
    Blind,
}

/// A user id (or another account key) folded to the 64-bit key an advisory lock takes
/// (FNV-1a: stable across processes and builds; a collision only serialises two users'
/// writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockKey(pub i64);

impl LockKey {
    pub fn of(user_id: impl AsRef<[u8]>) -> LockKey {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in user_id.as_ref() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        LockKey(i64::from_ne_bytes(hash.to_ne_bytes()))
    }
}

impl Scope {
    /// Writes that touch only this account's rows.
    pub fn user(user_id: &str) -> Scope {
        Scope::User(LockKey::of(user_id))
    }

    /// Writes that protect an invariant across accounts and change no one account's rows
    /// (or many of them: roles, permissions, purges).
    pub fn global() -> Scope {
        Scope::Global(None)
    }

    /// A cross-account write that changes `user_id`'s rows: excludes the other cross-account
    /// writes and that user's own writes (global first, then the user: one lock order).
    pub fn global_over(user_id: &str) -> Scope {
        Scope::Global(Some(LockKey::of(user_id)))
    }

    /// The advisory keys to take, in order (the global key is 0).
    pub fn keys(self) -> Vec<i64> {
        match self {
            Scope::User(user) => vec![user.0],
            Scope::Global(None) => vec![0],
            Scope::Global(Some(user)) => vec![0, user.0],
            Scope::Blind => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_the_global_one_comes_first() {
        // Fixed values: every node of a cluster, of any build, must take the same key.
        assert_eq!(LockKey::of(""), LockKey(i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes())));
        assert_eq!(LockKey::of("u1"), LockKey::of("u1"));
        assert_ne!(LockKey::of("u1"), LockKey::of("u2"));
        assert_eq!(Scope::user("u1").keys(), vec![LockKey::of("u1").0]);
        assert_eq!(Scope::global().keys(), vec![0]);
        assert_eq!(Scope::global_over("u1").keys(), vec![0, LockKey::of("u1").0]);
    }
}
