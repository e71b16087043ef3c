//! Whether this node can serve: the store answers a read (`GET /api/ready`, for load
//! balancers). The answer is kept for a second, so a balancer polling every 100 ms costs one
//! probe a second; at most one probe runs at a time, and one that hangs (a dead disk, a
//! stuck network file system) counts as "not ready" after `PROBE_TIMEOUT` instead of
//! holding every poll.

use super::Accounts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long an answer is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// How long a probe may take before the store counts as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// A fixed phrase saying why, safe to show an unauthenticated caller.
    NotReady(&'static str),
}

#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Verdict)>>,
    /// Set while a probe runs on the blocking pool, also after it timed out, so that a
    /// hung store does not collect one stuck thread per second.
    probing: Arc<AtomicBool>,
    /// This node's clock is too far off the database's (`clock_check`).
    pub clock_off: AtomicBool,
}

/// The store's readiness, probed at most once per `FRESH_FOR`.
pub async fn check(accounts: &Accounts) -> Verdict {
    let readiness = &accounts.readiness;
    // Concurrent polls wait here for the one probe and share its answer.
    let mut last = readiness.last.lock().await;
    if let Some((at, verdict)) = *last {
        if at.elapsed() < FRESH_FOR {
            return verdict;
        }
    }
    let verdict = probe(accounts, &readiness.probing).await;
    let previous = last.replace((Instant::now(), verdict)).map(|(_, v)| v);
    if previous.is_some_and(|p| p != Verdict::Ready) && verdict == Verdict::Ready {
        log::info!("readiness: the store answers again");
    }
    verdict
}

async fn probe(accounts: &Accounts, probing: &Arc<AtomicBool>) -> Verdict {
    if accounts.readiness.clock_off.load(Ordering::SeqCst) {
        return Verdict::NotReady("this node's clock is off the database's");
    }
    if probing.swap(true, Ordering::SeqCst) {
        return Verdict::NotReady("the previous check of the store has not returned");
    }
    let db = accounts.db.clone();
    let done = probing.clone();
    let work = actix_web::web::block(move || {
        let result = db.probe_readable();
        done.store(false, Ordering::SeqCst);
        result
    });
    match tokio::time::timeout(PROBE_TIMEOUT, work).await {
        Ok(Ok(Ok(()))) => Verdict::Ready,
        Ok(Ok(Err(not_readable))) => {
            log::warn!("readiness: {} ({})", not_readable.reason, not_readable.cause);
            Verdict::NotReady(not_readable.reason)
        }
        Ok(Err(blocking)) => {
            probing.store(false, Ordering::SeqCst);
            log::warn!("readiness: the probe could not run: {blocking}");
            Verdict::NotReady("the store could not be checked")
        }
        Err(_) => {
            log::warn!("readiness: the store did not answer within {} s", PROBE_TIMEOUT.as_secs());
            Verdict::NotReady("the store did not answer in time")
        }
    }
}
