//! Group commit. One thread owns the write connection and drains every queued write into
//! one `BEGIN IMMEDIATE` transaction: each job runs in its own SAVEPOINT, so a failing job
//! rolls back only its own changes and gets its own error; the batch commits once (one WAL
//! fsync for all of them under `synchronous=FULL`), the after-commit hook runs (it hands the
//! batch's cache invalidations to the caches), and only then is any job answered. Nothing is
//! acknowledged before it is durable, nor before the caches have forgotten what it changed.
//!
//! Jobs run one after another in arrival order, so a job that stamps `now` inside its
//! closure still stamps in commit order, exactly as with one transaction per write.

use super::Sql;
use crate::error::{Error, Result};
use crate::metrics::{METRICS, uncommitted};
use rusqlite::{Connection, TransactionBehavior};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use tokio::sync::oneshot;

/// Most jobs in one transaction: bounds how long the first job of a batch waits for the
/// commit (a job is a few inserts, so 256 of them take a few milliseconds).
const MAX_BATCH: usize = 256;

/// One queued write, type-erased so jobs of any result type share the queue.
pub(super) trait WriteJob: Send {
    /// Runs the work inside the batch transaction; true if it succeeded.
    fn run(&mut self, tx: &dyn Sql) -> bool;
    /// Answers the caller once the batch's fate is known: the work's own error if it
    /// failed, else the batch's (commit or rollback), else the work's value.
    fn answer(self: Box<Self>, batch: Result<()>);
}

type BoxedJob = Box<dyn WriteJob>;

/// A closure waiting for its turn, then its outcome waiting for the commit.
struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for Pending<T, F>
where
    F: FnOnce(&dyn Sql) -> Result<T> + Send,
    T: Send,
{
    fn run(&mut self, tx: &dyn Sql) -> bool {
        let Some(work) = self.work.take() else { return false };
        let outcome = work(tx);
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn answer(self: Box<Self>, batch: Result<()>) {
        let result = match (self.outcome, batch) {
            (Some(Err(own)), _) => Err(own),
            (_, Err(batch)) => Err(batch),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (None, Ok(())) => Err(Error::Internal("a write job panicked".into())),
        };
        // The caller may have gone away (a dropped request); the write stands regardless.
        let _ = self.reply.send(result);
    }
}

/// The sending side of the writer thread's queue. The thread ends, closing its
/// connection, when the last `Writer` (i.e. the last `Db` clone) is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: Sender<BoxedJob>,
}

impl Writer {
    /// Starts the writer thread on `conn` (already configured with the pragmas); `after_commit`
    /// runs on that connection after every committed batch, before its jobs are answered.
    pub fn start(conn: Connection, after_commit: Arc<AfterCommit>) -> std::io::Result<Writer> {
        let (jobs, queue) = channel::<BoxedJob>();
        std::thread::Builder::new().name("db-writer".into()).spawn(move || serve(conn, &queue, &*after_commit))?;
        Ok(Writer { jobs })
    }

    /// Queues `work` and waits (without blocking the caller's thread) for its durable result.
    pub async fn submit<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&dyn Sql) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending { work: Some(work), outcome: None, reply });
        self.jobs.send(job).map_err(|_| Error::Internal("the database writer has stopped".into()))?;
        answer.await.map_err(|_| Error::Internal("the database writer dropped a write".into()))?
    }
}

/// What runs after each committed batch, on the writer's connection.
pub type AfterCommit = dyn Fn(&Connection) + Send + Sync;

fn serve(mut conn: Connection, queue: &Receiver<BoxedJob>, after_commit: &AfterCommit) {
    while let Ok(first) = queue.recv() {
        run_batch(&mut conn, first, || queue.try_recv().map_err(|_: TryRecvError| ()), after_commit);
    }
}

/// Runs `first` and whatever `more` yields (up to `MAX_BATCH` jobs) in one transaction and
/// answers every job after the commit and `after_commit` (so a client that sees an answer
/// never meets a cached credential the write revoked). Returns whether the batch committed.
pub(super) fn run_batch(
    conn: &mut Connection,
    first: BoxedJob,
    mut more: impl FnMut() -> std::result::Result<BoxedJob, ()>,
    after_commit: &dyn Fn(&Connection),
) -> bool {
    uncommitted::forget();
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // The store is locked by another process beyond the busy timeout (or unwritable):
            // the jobs queued meanwhile would meet the same wall, so they fail now too rather
            // than each waiting out another timeout behind it.
            let mut failed = vec![first];
            while let Ok(job) = more() {
                failed.push(job);
            }
            answer_all(failed, || Err(replicate(&e)));
            return false;
        }
    };
    let mut done: Vec<BoxedJob> = Vec::new();
    let mut next = Some(first);
    while let Some(mut job) = next.take() {
        if let Err(e) = tx.execute_batch("SAVEPOINT job") {
            done.push(job);
            answer_all(done, || Err(replicate(&e)));
            return false;
        }
        let mark = uncommitted::mark();
        let succeeded = catch_unwind(AssertUnwindSafe(|| job.run(&*tx))).unwrap_or(false);
        if !succeeded {
            uncommitted::roll_back_to(mark);
        }
        done.push(job);
        if tx.is_autocommit() {
            // SQLite itself rolled the whole transaction back (e.g. disk full, I/O error):
            // every job of the batch is lost, not just the one that failed.
            answer_all(done, || Err(Error::Unavailable("a storage error rolled back this write; retry".into())));
            return false;
        }
        let end = if succeeded { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
        if let Err(e) = tx.execute_batch(end) {
            answer_all(done, || Err(replicate(&e)));
            return false;
        }
        if done.len() < MAX_BATCH {
            next = more().ok();
        }
    }
    match tx.commit() {
        Ok(()) => {
            uncommitted::committed();
            METRICS.write_batch(done.len());
            after_commit(conn);
            answer_all(done, || Ok(()));
            true
        }
        Err(e) => {
            answer_all(done, || Err(replicate(&e)));
            false
        }
    }
}

fn answer_all(jobs: Vec<BoxedJob>, fate: impl Fn() -> Result<()>) {
    for job in jobs {
        job.answer(fate());
    }
}

/// A fresh `Error` for each job from one SQLite error, classified as `Error::from` does
/// (busy, read-only, full, I/O → unavailable).
fn replicate(e: &rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            Error::from(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
