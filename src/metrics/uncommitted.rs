//! Mints and revocations are counted when their audit record *commits*: the audit log is
//! the one place every mint and revocation of every route, dialect and the command line is
//! written down, but a write can still roll back after it. `db::audit::record` notes each
//! event here, on the thread running the transaction; the store's writer counts them after
//! its commit, or forgets them with a rolled-back job or batch.

use super::{METRICS, TokenActor};
use std::cell::RefCell;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Minted,
    Revoked,
}

thread_local! {
    static NOTED: RefCell<Vec<(Change, &'static str, TokenActor)>> = const { RefCell::new(Vec::new()) };
}

/// Notes an audit event about to be written: `event` is the audit log's event name, `kind`
/// its token kind; other events are not counted.
pub fn note(event: &str, kind: Option<&'static str>, actor: TokenActor) {
    let change = match event {
        "token.created" => Change::Minted,
        "token.revoked" => Change::Revoked,
        _ => return,
    };
    let kind = kind.unwrap_or("unknown");
    NOTED.with(|n| n.borrow_mut().push((change, kind, actor)));
}

/// Where the events of the job about to run start (for `roll_back_to`).
pub fn mark() -> usize {
    NOTED.with(|n| n.borrow().len())
}

/// Forgets the events of a job that rolled back to its savepoint.
pub fn roll_back_to(mark: usize) {
    NOTED.with(|n| n.borrow_mut().truncate(mark));
}

/// Forgets every noted event: the transaction rolled back (or is about to start afresh).
pub fn forget() {
    NOTED.with(|n| n.borrow_mut().clear());
}

/// The transaction committed: counts its events.
pub fn committed() {
    NOTED.with(|n| {
        for (change, kind, actor) in n.borrow_mut().drain(..) {
            match change {
                Change::Minted => METRICS.token_minted(kind, actor),
                Change::Revoked => METRICS.token_revoked(kind, actor),
            }
        }
    });
}
