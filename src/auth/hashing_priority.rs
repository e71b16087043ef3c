//! The scheduling class of the password-hashing threads (Linux; elsewhere they keep the
//! process's own).
//!
//! bcrypt is CPU work that can wait a hundred milliseconds; a token lookup cannot wait one.
//! At nice 9 a hashing thread still holds a CPU for up to a scheduler slice once it runs:
//! `/me` under logins at the bcrypt bound on 2 vCPUs read a p99 of 5.6 ms (median of 12
//! runs). `SCHED_IDLE` runs a thread only on a CPU that would otherwise idle, and any other
//! thread waking there preempts it at once: 4.3 ms, about what the same load reads without
//! logins (bench/README, issue 14).
//!
//! `SCHED_IDLE` alone would let a busy neighbour (a build, a co-hosted chat server) stall
//! logins for seconds, so a hash that has run too long is *promoted* to nice 9, today's
//! fair share, until it ends (`hashing_pool`'s guard). Leaving `SCHED_IDLE` needs
//! `RLIMIT_NICE` ≥ 11 (systemd `LimitNICE=+9`) or `CAP_SYS_NICE`; without either, the
//! threads never enter it and run at nice 9 throughout, as before.

/// How the hashing threads are scheduled, decided once per pool by `probe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `SCHED_IDLE`, promoted to nice 9 when a hash runs too long.
    IdleUntilStarved,
    /// nice 9 throughout: the process may not leave `SCHED_IDLE`, so it never enters it.
    Nice,
    /// The process's own priority: lowering it failed, or this is not Linux.
    Inherited,
}

/// The nice value of a hashing thread outside `SCHED_IDLE` (also kept while inside it, so
/// that leaving it restores this value in one call).
#[cfg(target_os = "linux")]
const HASHING_NICE: i32 = 9;

/// Tries, on a throwaway thread, what a hashing thread will do: take nice 9, enter
/// `SCHED_IDLE`, and leave it again. A thread that got stuck in `SCHED_IDLE` here just ends.
pub fn probe() -> Mode {
    std::thread::Builder::new()
        .name("bcrypt-probe".into())
        .spawn(probe_this_thread)
        .ok()
        .and_then(|handle| handle.join().ok())
        .unwrap_or(Mode::Inherited)
}

/// Sets the calling thread up for `mode`.
pub fn enter(mode: Mode) {
    let done = match mode {
        Mode::IdleUntilStarved => set_nice() && set_idle(true),
        Mode::Nice => set_nice(),
        Mode::Inherited => true,
    };
    if !done {
        log::warn!("a password-hashing thread could not lower its priority; logins may slow token checks");
    }
}

#[cfg(target_os = "linux")]
fn probe_this_thread() -> Mode {
    if !set_nice() {
        return Mode::Inherited;
    }
    if set_idle(true) && set_idle(false) { Mode::IdleUntilStarved } else { Mode::Nice }
}

/// The calling thread's id, as `promote` takes it.
#[cfg(target_os = "linux")]
pub fn thread_id() -> i32 {
    uapi::gettid()
}

/// Moves the thread `tid` (of this process) from `SCHED_IDLE` to nice 9.
#[cfg(target_os = "linux")]
pub fn promote(tid: i32) -> bool {
    set_policy(tid, uapi::c::SCHED_OTHER)
}

/// Puts the calling thread back into `SCHED_IDLE` (always permitted) after a promoted hash.
pub fn demote() {
    set_idle(true);
}

/// Enters (`true`) or leaves `SCHED_IDLE` on the calling thread.
#[cfg(target_os = "linux")]
fn set_idle(idle: bool) -> bool {
    set_policy(0, if idle { uapi::c::SCHED_IDLE } else { uapi::c::SCHED_OTHER })
}

/// On Linux the scheduling class and the nice value belong to a thread, and id 0 is the
/// calling thread.
#[cfg(target_os = "linux")]
fn set_policy(tid: i32, policy: i32) -> bool {
    uapi::sched_setscheduler(tid, policy, &uapi::c::sched_param { sched_priority: 0 }).is_ok()
}

#[cfg(target_os = "linux")]
fn set_nice() -> bool {
    uapi::setpriority(uapi::c::PRIO_PROCESS as i32, 0, HASHING_NICE).is_ok()
}

/// The calling thread's scheduling class and nice value, for the pool's tests.
#[cfg(all(test, target_os = "linux"))]
pub fn current_class() -> (i32, i32) {
    let policy = uapi::sched_getscheduler(0).unwrap_or(-1);
    (policy, uapi::getpriority(uapi::c::PRIO_PROCESS as i32, 0).unwrap_or(-100))
}

#[cfg(not(target_os = "linux"))]
fn probe_this_thread() -> Mode {
    Mode::Inherited
}

#[cfg(not(target_os = "linux"))]
pub fn thread_id() -> i32 {
    0
}

#[cfg(not(target_os = "linux"))]
pub fn promote(_tid: i32) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn set_idle(_idle: bool) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn set_nice() -> bool {
    false
}
