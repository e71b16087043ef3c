use super::*;

#[tokio::test]
async fn jobs_run_and_return_their_results() {
    let pool = HashingPool::new(2);
    let mut results = Vec::new();
    for i in 0..4u64 {
        results.push(pool.run(move || i * i).await.unwrap());
    }
    assert_eq!(results, vec![0, 1, 4, 9]);
}

#[cfg(target_os = "linux")]
mod scheduling {
    use super::*;
    use crate::auth::hashing_priority::current_class;
    use uapi::c::{SCHED_IDLE, SCHED_OTHER};

    fn current_policy() -> i32 {
        current_class().0
    }

    /// Waits, inside a job, for the guard to move this thread out of SCHED_IDLE; what the
    /// thread runs at when it is (or when ten seconds have passed, which fails the test).
    fn wait_for_promotion() -> (i32, i32) {
        let start = Instant::now();
        while current_policy() == SCHED_IDLE && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        current_class()
    }

    #[tokio::test]
    async fn a_hash_runs_at_idle_priority_and_is_promoted_to_nice_9_when_it_runs_too_long() {
        let mode = hashing_priority::probe();
        let pool = HashingPool::with_starvation_limit(1, Duration::from_millis(50));
        let short = pool.run(current_class).await.unwrap();
        let long = pool.run(wait_for_promotion).await.unwrap();
        let after = pool.run(current_policy).await.unwrap();
        match mode {
            Mode::IdleUntilStarved => {
                assert_eq!(short, (SCHED_IDLE, 9), "a hash starts at idle priority");
                assert_eq!(long, (SCHED_OTHER, 9), "a hash past the limit runs at nice 9");
                assert_eq!(after, SCHED_IDLE, "the next hash is back at idle priority");
            }
            // Not permitted to leave SCHED_IDLE here (an unprivileged test run): nice 9 throughout.
            Mode::Nice => {
                assert_eq!(short, (SCHED_OTHER, 9));
                assert_eq!(long, (SCHED_OTHER, 9));
                assert_eq!(after, SCHED_OTHER);
            }
            Mode::Inherited => {}
        }
    }

    #[tokio::test]
    async fn a_short_hash_is_never_promoted() {
        if hashing_priority::probe() != Mode::IdleUntilStarved {
            return; // nothing to promote
        }
        let pool = HashingPool::with_starvation_limit(1, Duration::from_secs(60));
        for _ in 0..3 {
            let policy = pool
                .run(|| {
                    std::thread::sleep(Duration::from_millis(20));
                    current_policy()
                })
                .await
                .unwrap();
            assert_eq!(policy, SCHED_IDLE);
        }
    }

    #[test]
    fn the_guard_ends_with_the_pool() {
        let pool = HashingPool::with_starvation_limit(1, Duration::from_millis(50));
        let watch = pool.watch.clone();
        drop(pool);
        assert!(watch.lock().closed);
        let start = Instant::now();
        // The guard and the worker drop their references as they end.
        while Arc::strong_count(&watch) > 1 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(Arc::strong_count(&watch), 1, "the hashing threads ended");
    }
}
