//! Where bcrypt runs: one thread per CPU at idle priority (see `hashing_priority` for the
//! scheduling class and why), so password hashing uses the CPU that token lookups leave.
//!
//! A guard thread watches the hashes in progress. One that has run longer than
//! `STARVED_AFTER` is being kept off the CPU by other work (a request flood, a neighbour
//! process): the guard promotes its thread to nice 9 until the hash ends, so a login is
//! slowed at worst as much as it was at nice 9, never stalled indefinitely.

use crate::auth::hashing_priority::{self, Mode};
use crate::metrics::METRICS;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a hash may run at idle priority before it is promoted. bcrypt at the default
/// cost takes about 60 ms of CPU on a current server core; at over ten times that the thread
/// is plainly starved. With `/me` saturating 2 vCPUs while logins ran at the bcrypt bound,
/// 500 ms promoted about 13% of the hashes and 1 s 10%, and the reads' p99 was lower with 1 s
/// (bench/README, issue 14). At higher costs or on slow CPUs more hashes are promoted, which
/// is the nice-9 behaviour tokend had before, not worse.
const STARVED_AFTER: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce() + Send>;

pub struct HashingPool {
    jobs: Mutex<Sender<Job>>,
    watch: Arc<Watch>,
}

impl HashingPool {
    pub fn new(threads: usize) -> Self {
        Self::with_starvation_limit(threads, STARVED_AFTER)
    }

    fn with_starvation_limit(threads: usize, limit: Duration) -> Self {
        let mode = hashing_priority::probe();
        match mode {
            Mode::IdleUntilStarved => log::info!("password hashing at idle priority (SCHED_IDLE), nice 9 when starved"),
            Mode::Nice => log::info!(
                "password hashing at nice 9: leaving SCHED_IDLE is not permitted here \
                 (RLIMIT_NICE below 11; README: Logins and the CPU)"
            ),
            // Elsewhere than Linux this is the design, not a failure.
            Mode::Inherited if cfg!(target_os = "linux") => {
                log::warn!("password hashing at the process's priority; logins may slow token checks")
            }
            Mode::Inherited => {}
        }
        let threads = threads.max(1);
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let watch = Arc::new(Watch::new(threads));
        for index in 0..threads {
            let (receiver, watch) = (receiver.clone(), watch.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("bcrypt-{index}"))
                .spawn(move || worker(index, mode, &receiver, &watch));
            if let Err(e) = spawned {
                log::error!("cannot start a password-hashing thread: {e}");
            }
        }
        if mode == Mode::IdleUntilStarved {
            let watch = watch.clone();
            if let Err(e) = std::thread::Builder::new().name("bcrypt-guard".into()).spawn(move || guard(&watch, limit))
            {
                // Without the guard a starved hash would wait for idle CPU: keep nice 9.
                log::error!("cannot start the password-hashing guard: {e}");
            }
        }
        HashingPool { jobs: Mutex::new(sender), watch }
    }

    /// Runs `work` on a hashing thread and waits for its result without blocking the caller's
    /// thread. `None` if the pool has shut down.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).send(job).ok()?;
        rx.await.ok()
    }
}

impl Drop for HashingPool {
    fn drop(&mut self) {
        self.watch.lock().closed = true;
        self.watch.changed.notify_all();
    }
}

/// The hashes in progress, one slot per hashing thread, shared with the guard.
struct Watch {
    state: Mutex<Watched>,
    changed: Condvar,
}

struct Watched {
    running: Vec<Option<Running>>,
    closed: bool,
}

struct Running {
    thread: i32,
    since: Instant,
    promoted: bool,
}

impl Watch {
    fn new(threads: usize) -> Self {
        let running = (0..threads).map(|_| None).collect();
        Watch { state: Mutex::new(Watched { running, closed: false }), changed: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Watched> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin(&self, index: usize, thread: i32) {
        self.lock().running[index] = Some(Running { thread, since: Instant::now(), promoted: false });
        self.changed.notify_all();
    }

    /// Clears the slot; true if the guard promoted its thread. Done under the lock the guard
    /// promotes under, so a promotion never lands after the thread has moved on.
    fn end(&self, index: usize) -> bool {
        self.lock().running[index].take().is_some_and(|r| r.promoted)
    }
}

fn worker(index: usize, mode: Mode, receiver: &Mutex<Receiver<Job>>, watch: &Watch) {
    hashing_priority::enter(mode);
    let watched = mode == Mode::IdleUntilStarved;
    let thread = hashing_priority::thread_id();
    loop {
        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = job else {
            return; // the pool was dropped
        };
        if watched {
            watch.begin(index, thread);
        }
        job();
        if watched && watch.end(index) {
            hashing_priority::demote();
        }
    }
}

/// Sleeps until the oldest unpromoted hash reaches `limit`, promotes every hash past it, and
/// sleeps again; with no hash running it waits for one to start.
fn guard(watch: &Watch, limit: Duration) {
    let mut state = watch.lock();
    while !state.closed {
        let now = Instant::now();
        let mut next_due: Option<Instant> = None;
        for running in state.running.iter_mut().flatten().filter(|r| !r.promoted) {
            let due = running.since + limit;
            if due <= now {
                // Marked even if the call fails (a confinement that allowed the probe but
                // not this): retrying every wake-up would not change the answer.
                running.promoted = true;
                if !hashing_priority::promote(running.thread) {
                    log::warn!("a starved password hash could not be promoted; it waits for idle CPU");
                }
                METRICS.hash_promoted();
            } else {
                next_due = Some(next_due.map_or(due, |d| d.min(due)));
            }
        }
        state = match next_due {
            Some(due) => watch.changed.wait_timeout(state, due - now).unwrap_or_else(|e| e.into_inner()).0,
            None => watch.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

#[cfg(test)]
#[path = "hashing_pool_tests.rs"]
mod tests;
