//! A cluster has one clock per node, and tokend's rules read them: token expiry, TOTP steps,
//! the secret budget's windows, the token cap's "oldest". So each node compares its clock with
//! the database server's at start and at every purge interval (scale-out.md §2.3): beyond a
//! second it warns (NTP is drifting); beyond one TOTP step (30 s) it refuses to start, and a
//! running node reports itself not ready, so a load balancer stops sending it traffic.

use super::Accounts;
use crate::clock::now_ms;
use crate::db::Db;
use std::sync::atomic::Ordering;

/// A difference worth a warning in the log.
pub const WARN_MS: i64 = 1_000;
/// A difference that changes which TOTP code is accepted: the node must not serve.
pub const REFUSE_MS: i64 = 30_000;

#[derive(Debug, thiserror::Error)]
#[error(
    "this node's clock is {skew_ms} ms off the database server's (more than {REFUSE_MS} ms): token expiry and TOTP codes would be judged wrongly. Synchronise the clocks (NTP) of every node and the database"
)]
pub struct ClockError {
    pub skew_ms: i64,
}

/// How far this node's clock is from the store's (positive: the node is ahead), with the
/// round trip halved out; `None` when the store has no clock of its own (SQLite).
pub fn skew_ms(db: &Db) -> crate::error::Result<Option<i64>> {
    let before = now_ms();
    let Some(server) = db.server_clock_ms()? else { return Ok(None) };
    let after = now_ms();
    Ok(Some((before + after) / 2 - server))
}

/// At start: refuses a clock beyond `REFUSE_MS`, warns beyond `WARN_MS`. A store that cannot
/// be asked is not this check's business (opening it just worked).
pub fn check_at_start(db: &Db) -> Result<(), ClockError> {
    match skew_ms(db) {
        Ok(Some(skew)) if skew.abs() > REFUSE_MS => Err(ClockError { skew_ms: skew }),
        Ok(Some(skew)) => {
            warn_if_off(skew);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => {
            log::warn!("comparing this node's clock with the database's failed: {e}");
            Ok(())
        }
    }
}

/// Periodically: logs a drift, and marks the node not ready while it is beyond `REFUSE_MS`.
pub async fn recheck(state: &Accounts) {
    let db = state.db.clone();
    let skew = crate::blocking::run(move || skew_ms(&db)).await;
    match skew {
        Ok(Some(skew)) => {
            let off = skew.abs() > REFUSE_MS;
            if off {
                log::error!("{}; /api/ready answers 503 until it is fixed", ClockError { skew_ms: skew });
            } else {
                warn_if_off(skew);
            }
            state.readiness.clock_off.store(off, Ordering::SeqCst);
        }
        Ok(None) => {}
        Err(e) => log::warn!("comparing this node's clock with the database's failed: {e}"),
    }
}

fn warn_if_off(skew: i64) {
    if skew.abs() > WARN_MS {
        log::warn!("this node's clock is {skew} ms off the database server's; keep every node on NTP");
    }
}
