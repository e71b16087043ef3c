//! The secret-verification budget (DESIGN decision 14): every check of a password, TOTP
//! code, backup code or e-mail code, on every route of both dialects, first reserves an
//! attempt against the account and the client address. The reservation is atomic in the
//! store and counts as a failure until the secret proves right, so a burst of concurrent
//! guesses can never verify more than the limit — on one node or on several sharing the
//! store. After N failures since the last completed login the account (or address) is
//! refused, even with the right secret, until the window since the last failure passes.
//!
//! Accounts are keyed by user id when the user exists and by the submitted name otherwise,
//! so an unknown name is blocked exactly like a real account: blocking reveals nothing about
//! which accounts exist. Keys are keyed hashes: 32 bytes whatever a client submits.
//!
//! Within one process, checks of the same account also take turns (`turns.rs`): one
//! account can occupy at most one password-hashing thread, so it cannot starve the logins
//! of others, and a client's own burst queues instead of tripping its own limit.

use super::Accounts;
use super::turns::{Turn, Turns};
use crate::clock::{Millis, now_ms};
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::budget::{self as store, Limit, Scope};
use crate::db::scope::{LockKey, Scope as LockScope};
use crate::error::Result;

#[derive(Clone, Debug)]
pub struct GuardSettings {
    pub enabled: bool,
    pub user_attempts: u32,
    pub user_window_ms: Millis,
    pub ip_attempts: u32,
    pub ip_window_ms: Millis,
    pub ip_allowlist: Vec<String>,
}

/// Why an attempt was refused before its secret was even looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    ByIp,
    ByUser,
}

/// Whose secret is being checked.
#[derive(Clone, Copy, Debug)]
pub enum AccountKey<'a> {
    /// An existing user, by id.
    User(&'a str),
    /// A name (username or e-mail) that matches no user, as submitted.
    Name(&'a str),
}

pub struct Budget {
    settings: GuardSettings,
    turns: Turns,
}

impl Budget {
    pub fn new(settings: GuardSettings) -> Self {
        Budget { settings, turns: Turns::default() }
    }

    fn account_limit(&self) -> Limit {
        Limit { attempts: self.settings.user_attempts, window_ms: self.settings.user_window_ms }
    }

    fn address_limit(&self) -> Limit {
        Limit { attempts: self.settings.ip_attempts, window_ms: self.settings.ip_window_ms }
    }

    /// The longest window: counters untouched for longer can be purged.
    pub fn longest_window(&self) -> Millis {
        self.settings.user_window_ms.max(self.settings.ip_window_ms)
    }
}

fn account_hash(state: &Accounts, account: AccountKey) -> [u8; 32] {
    match account {
        AccountKey::User(id) => state.vault.keyed_hash(&[b"budget-account-id", id.as_bytes()]),
        AccountKey::Name(name) => state.vault.keyed_hash(&[b"budget-account-name", name.to_lowercase().as_bytes()]),
    }
}

fn address_hash(state: &Accounts, addr: Option<&str>) -> Option<[u8; 32]> {
    let addr = addr.filter(|a| !state.budget.settings.ip_allowlist.iter().any(|allowed| allowed == a))?;
    Some(state.vault.keyed_hash(&[b"budget-address", addr.as_bytes()]))
}

/// One reserved attempt, holding the account's turn until it is settled. Dropped without
/// being settled (an error on the way), it stays counted as a failure.
pub struct Attempt {
    state: Accounts,
    account: [u8; 32],
    address: Option<[u8; 32]>,
    reserved: bool,
    /// Settling this attempt as failed reaches a limit: the lockout is audited.
    reaches_limit: bool,
    /// The limit reached is the address's (else the account's).
    limit_of_address: bool,
    subject: Option<String>,
    client_addr: Option<String>,
    _turn: Turn,
}

/// Reserves one attempt to verify a secret of `account` presented from `addr`, or says why
/// not. Waits for the account's turn first.
pub async fn begin(state: &Accounts, account: AccountKey<'_>, addr: Option<&str>) -> Result<Result<Attempt, Blocked>> {
    let (key, address) = (account_hash(state, account), address_hash(state, addr));
    let settings = &state.budget.settings;
    let (account_limit, address_limit) = (state.budget.account_limit(), state.budget.address_limit());
    if settings.enabled {
        // A cheap read first: a blocked flood is refused without queueing for a turn.
        let blocked = state.db.read(move |c| blocked_by(c, &key, address.as_ref(), account_limit, address_limit));
        if let Some(by) = blocked.await? {
            return Ok(Err(by));
        }
    }
    let turn = state.budget.turns.take(key).await;
    let mut attempt = Attempt {
        state: state.clone(),
        account: key,
        address,
        reserved: false,
        reaches_limit: false,
        limit_of_address: false,
        subject: match account {
            AccountKey::User(id) => Some(id.to_string()),
            AccountKey::Name(_) => None,
        },
        client_addr: addr.map(str::to_string),
        _turn: turn,
    };
    if !settings.enabled {
        return Ok(Ok(attempt));
    }
    let reserved = state
        .db
        .write(lock_scope(&key, address.as_ref()), move |tx| {
            let now = now_ms();
            if let Some(by) = blocked_by(tx, &key, address.as_ref(), account_limit, address_limit)? {
                return Ok(Err(by));
            }
            let on_account = store::reserve(tx, Scope::Account, &key, account_limit, now)?;
            let on_address = match &address {
                Some(a) => store::reserve(tx, Scope::Address, a, address_limit, now)?,
                None => 0,
            };
            let (account_full, address_full) =
                (on_account >= account_limit.attempts, on_address >= address_limit.attempts);
            Ok(Ok((account_full || address_full, address_full && !account_full)))
        })
        .await?;
    match reserved {
        Ok((reaches_limit, limit_of_address)) => {
            attempt.reserved = true;
            attempt.reaches_limit = reaches_limit;
            attempt.limit_of_address = limit_of_address;
            Ok(Ok(attempt))
        }
        Err(by) => {
            log::warn!("secret check refused: too many failures ({by:?})");
            Ok(Err(by))
        }
    }
}

/// Address first, as Rocket.Chat checks it.
fn blocked_by(
    conn: &dyn crate::db::Sql,
    account: &[u8; 32],
    address: Option<&[u8; 32]>,
    account_limit: Limit,
    address_limit: Limit,
) -> Result<Option<Blocked>> {
    let now = now_ms();
    if let Some(a) = address {
        if store::current(conn, Scope::Address, a, address_limit, now)? >= address_limit.attempts {
            return Ok(Some(Blocked::ByIp));
        }
    }
    let blocked = store::current(conn, Scope::Account, account, account_limit, now)? >= account_limit.attempts;
    Ok(blocked.then_some(Blocked::ByUser))
}

impl Attempt {
    /// The secret was right: the reservation is taken back.
    pub async fn passed(self) -> Result<()> {
        if !self.reserved {
            return Ok(());
        }
        let (account, address) = (self.account, self.address);
        self.state
            .db
            .write(lock_scope(&account, address.as_ref()), move |tx| {
                store::release(tx, Scope::Account, &account)?;
                match &address {
                    Some(a) => store::release(tx, Scope::Address, a),
                    None => Ok(()),
                }
            })
            .await
    }

    /// The secret was right and it completes a login: the account's failures are forgotten
    /// and the address's reservation taken back, in one write.
    pub async fn completed(self) -> Result<()> {
        if !self.reserved {
            return Ok(());
        }
        let (account, address) = (self.account, self.address);
        self.state
            .db
            .write(lock_scope(&account, address.as_ref()), move |tx| settle_completed(tx, &account, address.as_ref()))
            .await
    }

    /// The secret was wrong: the reservation stays counted. The failure that reaches a
    /// limit is audited, once per lockout.
    pub async fn failed(self) -> Result<()> {
        if !self.reaches_limit {
            return Ok(());
        }
        let actor = Actor { id: None, name: "-".into(), client_addr: self.client_addr.clone() };
        let event = AuditEvent {
            event: "secret.blocked",
            subject_id: self.subject.clone(),
            detail: Some("too many failed secret checks: further attempts are refused for a while".into()),
            ..AuditEvent::default()
        };
        log::warn!("secret checks: a limit was reached; further attempts are refused for a while");
        crate::metrics::METRICS.lockout(self.limit_of_address);
        self.state.db.write(LockScope::Blind, move |tx| audit::record(tx, &actor, &event, now_ms())).await
    }
}

/// A login completed (password and any second factor): the account's count starts over, as
/// Rocket.Chat's "failures since the last success". The address's count does not (unlike
/// Rocket.Chat): otherwise one address could guess at other accounts without end by logging
/// in to an account of its own between rounds; it runs out with its window.
pub async fn login_completed(state: &Accounts, user_id: &str) -> Result<()> {
    if !state.budget.settings.enabled {
        return Ok(());
    }
    let account = account_hash(state, AccountKey::User(user_id));
    state.db.write(lock_scope(&account, None), move |tx| store::clear(tx, Scope::Account, &account)).await
}

/// What a budget write is serialised against across nodes: an account's counter is its own
/// (keyed like the counter, which also covers names with no account); an address's counter
/// is shared by every account tried from that address, so a write touching one is global.
fn lock_scope(account: &[u8; 32], address: Option<&[u8; 32]>) -> LockScope {
    let account = LockKey::of(account);
    if address.is_some() { LockScope::Global(Some(account)) } else { LockScope::User(account) }
}

fn settle_completed(tx: &dyn crate::db::Sql, account: &[u8; 32], address: Option<&[u8; 32]>) -> Result<()> {
    store::clear(tx, Scope::Account, account)?;
    match address {
        Some(a) => store::release(tx, Scope::Address, a),
        None => Ok(()),
    }
}

/// Drops counters whose window has long passed (the periodic purge).
pub async fn purge(state: &Accounts) -> Result<usize> {
    let older_than = state.budget.longest_window();
    state.db.write(LockScope::Blind, move |tx| store::purge(tx, now_ms(), older_than)).await
}
