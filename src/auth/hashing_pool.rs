//! Where bcrypt runs: one thread per CPU at a lower scheduling weight (nice 9 on Linux).
//! Password hashing then uses the CPU that token lookups leave, and a thread serving a
//! lookup preempts it at once — a login burst cannot push authenticated requests' latency
//! up. Not SCHED_IDLE: that would yield to every other process on the machine too, and a
//! busy neighbour (a build, a co-hosted chat server) could stall logins for seconds.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

pub struct HashingPool {
    jobs: Mutex<Sender<Job>>,
}

impl HashingPool {
    pub fn new(threads: usize) -> Self {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("bcrypt-{i}")).spawn(move || worker(&receiver));
            if let Err(e) = spawned {
                log::error!("cannot start a password-hashing thread: {e}");
            }
        }
        HashingPool { jobs: Mutex::new(sender) }
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

fn worker(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return, // the pool was dropped
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy, thread_native_id,
    };
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let policy = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
    // 25 on the crate's 0..=99 scale maps to nice 9.
    let Ok(value) = ThreadPriorityValue::try_from(25u8) else {
        return;
    };
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Crossplatform(value), policy) {
        log::warn!("password hashing runs at normal priority ({e:?}); logins may slow token checks");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_and_return_their_results() {
        let pool = HashingPool::new(2);
        let results = futures_join(&pool).await;
        assert_eq!(results, vec![0, 1, 4, 9]);
    }

    async fn futures_join(pool: &HashingPool) -> Vec<u64> {
        let mut out = Vec::new();
        for i in 0..4u64 {
            out.push(pool.run(move || i * i).await.unwrap());
        }
        out
    }
}
