//! One lane = one user whose writes a single worker sends one after another. Because a
//! lane never overlaps with itself, the client knows the exact order of its acknowledged
//! writes, so after a crash the expected store contents are exact — up to the one request
//! that was in flight when the server died, whose outcome may go either way.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub type Hash = [u8; 32];

pub fn hash_of(token: &str) -> Hash {
    Sha256::digest(token.as_bytes()).into()
}

/// A small seeded generator (splitmix64): reproducible choices without another crate.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A credential the store holds: its hash, and its value when a response carried it
/// (a mint whose response was lost to the crash is known only by the hash found stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub hash: Hash,
    pub token: Option<String>,
}

impl Held {
    pub fn acknowledged(token: String) -> Held {
        Held { hash: hash_of(&token), token: Some(token) }
    }
}

#[derive(Clone, Debug)]
pub enum Op {
    Login,
    CreateToken,
    Logout(String),
    GeneratePat(String),
    RemovePat(String),
    /// Generating a name the user already has: must be refused and change nothing.
    DuplicatePat(String),
    SaymonPost,
    SaymonDelete,
    /// The admin sets a new password: the user's login tokens die in the same transaction.
    ChangePassword(String),
}

impl Op {
    pub fn label(&self) -> &'static str {
        match self {
            Op::Login => "login",
            Op::CreateToken => "users.createToken",
            Op::Logout(_) => "logout",
            Op::GeneratePat(_) => "generatePersonalAccessToken",
            Op::RemovePat(_) => "removePersonalAccessToken",
            Op::DuplicatePat(_) => "duplicate PAT name (refused)",
            Op::SaymonPost => "SAYMON auth-token POST",
            Op::SaymonDelete => "SAYMON auth-token DELETE",
            Op::ChangePassword(_) => "password change (users.update)",
        }
    }
}

/// What an acknowledged response said.
#[derive(Clone, Debug)]
pub enum Outcome {
    Minted(Held),
    Done,
    Refused,
}

/// A token that an acknowledged write killed: it must answer 401 after the restart.
#[derive(Clone, Debug)]
pub enum Revoked {
    RocketChat(String),
    Saymon(String),
}

/// What the store should hold for the lane's user, in the store's own order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub logins: Vec<Hash>,
    pub pats: BTreeMap<String, Hash>,
    pub saymon: Option<Hash>,
    /// Password changes committed, as the audit log (written in the same transaction) says.
    pub password_changes: u64,
}

/// PATs a lane keeps at most, far below the per-user cap, so generation never hits it.
const MAX_LANE_PATS: usize = 6;

#[derive(Clone, Debug)]
pub struct Lane {
    pub user_id: String,
    pub username: String,
    pub password: String,
    /// Login tokens, oldest first (the server evicts from the front beyond the cap).
    pub logins: Vec<Held>,
    pub pats: BTreeMap<String, Held>,
    pub saymon: Option<Held>,
    pub password_changes: u64,
    /// Killed by acknowledged writes since the last restart; checked once, then dropped.
    pub revoked: Vec<Revoked>,
    /// The write in flight when the server died.
    pub pending: Option<Op>,
    /// Acknowledged writes by kind, over the whole run.
    pub acknowledged: BTreeMap<&'static str, u64>,
    rng: Rng,
    next_pat: u64,
    cap: usize,
}

impl Lane {
    pub fn new(user_id: String, username: String, password: String, seed: u64, cap: usize) -> Lane {
        Lane {
            user_id,
            username,
            password,
            logins: Vec::new(),
            pats: BTreeMap::new(),
            saymon: None,
            password_changes: 0,
            revoked: Vec::new(),
            pending: None,
            acknowledged: BTreeMap::new(),
            rng: Rng::new(seed),
            next_pat: 0,
            cap,
        }
    }

    /// The next write, drawn from a fixed mix.
    pub fn choose(&mut self) -> Op {
        let known_logins: Vec<&String> = self.logins.iter().filter_map(|h| h.token.as_ref()).collect();
        let names: Vec<String> = self.pats.keys().cloned().collect();
        let roll = self.rng.below(100);
        match roll {
            // PAT routes authenticate as the lane's user: first it needs a login token.
            0..15 => Op::Login,
            35..80 if known_logins.is_empty() => Op::Login,
            35..50 => Op::Logout(known_logins[self.rng.below(known_logins.len() as u64) as usize].clone()),
            50..65 if names.len() < MAX_LANE_PATS => {
                self.next_pat += 1;
                Op::GeneratePat(format!("pat-{}", self.next_pat))
            }
            50..75 if !names.is_empty() => Op::RemovePat(names[self.rng.below(names.len() as u64) as usize].clone()),
            75..80 if !names.is_empty() => Op::DuplicatePat(names[self.rng.below(names.len() as u64) as usize].clone()),
            80..92 => Op::SaymonPost,
            92..97 => Op::SaymonDelete,
            97..100 => Op::ChangePassword(format!("{}-{:x}", self.username, self.rng.next())),
            _ => Op::CreateToken,
        }
    }

    /// Records an acknowledged write.
    pub fn acknowledge(&mut self, op: &Op, outcome: Outcome) {
        *self.acknowledged.entry(op.label()).or_default() += 1;
        self.apply(op, outcome);
    }

    /// Applies a write that took effect to the expected state, noting what it killed.
    pub fn apply(&mut self, op: &Op, outcome: Outcome) {
        match (op, outcome) {
            (Op::Login | Op::CreateToken, Outcome::Minted(held)) => {
                self.logins.push(held);
                while self.logins.len() > self.cap {
                    let evicted = self.logins.remove(0);
                    self.revoke_rocketchat(evicted);
                }
            }
            (Op::Logout(token), Outcome::Done) => {
                let at = self.logins.iter().position(|h| h.token.as_ref() == Some(token)).expect("a held token");
                let gone = self.logins.remove(at);
                self.revoke_rocketchat(gone);
            }
            (Op::GeneratePat(name), Outcome::Minted(held)) => {
                self.pats.insert(name.clone(), held);
            }
            (Op::RemovePat(name), Outcome::Done) => {
                if let Some(gone) = self.pats.remove(name) {
                    self.revoke_rocketchat(gone);
                }
            }
            (Op::DuplicatePat(_), Outcome::Refused) => {}
            (Op::SaymonPost, Outcome::Minted(held)) => {
                if let Some(old) = self.saymon.replace(held) {
                    self.revoke_saymon(old);
                }
            }
            (Op::SaymonDelete, Outcome::Done) => {
                if let Some(old) = self.saymon.take() {
                    self.revoke_saymon(old);
                }
            }
            (Op::ChangePassword(password), Outcome::Done) => {
                self.password = password.clone();
                self.password_changes += 1;
                for gone in std::mem::take(&mut self.logins) {
                    self.revoke_rocketchat(gone);
                }
            }
            (op, outcome) => panic!("lane {}: {op:?} cannot end in {outcome:?}", self.username),
        }
    }

    fn revoke_rocketchat(&mut self, held: Held) {
        if let Some(token) = held.token {
            self.revoked.push(Revoked::RocketChat(token));
        }
    }

    fn revoke_saymon(&mut self, held: Held) {
        if let Some(token) = held.token {
            self.revoked.push(Revoked::Saymon(token));
        }
    }

    pub fn view(&self) -> View {
        View {
            logins: self.logins.iter().map(|h| h.hash).collect(),
            pats: self.pats.iter().map(|(name, h)| (name.clone(), h.hash)).collect(),
            saymon: self.saymon.as_ref().map(|h| h.hash),
            password_changes: self.password_changes,
        }
    }
}
