use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn table(dir: &tempfile::TempDir) -> Connection {
    let conn = Connection::open(dir.path().join("w.sqlite3")).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER PRIMARY KEY);").unwrap();
    conn
}

/// A job inserting `v`, with the receiver its answer arrives on.
fn insert(v: i64) -> (BoxedJob, oneshot::Receiver<Result<i64>>) {
    let (reply, answer) = oneshot::channel();
    let work = move |tx: &dyn Sql| {
        tx.exec("INSERT INTO t (v) VALUES (?1)", crate::db::sql::params![v])?;
        Ok(v)
    };
    (Box::new(Pending { work: Some(work), outcome: None, reply }), answer)
}

fn values(conn: &Connection) -> Vec<i64> {
    let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(|v| v.unwrap()).collect()
}

/// Runs the jobs as one batch, as the writer thread does with a full queue.
/// `commits` counts the after-commit hook's runs.
fn batch(conn: &mut Connection, jobs: Vec<BoxedJob>, commits: &AtomicU64) -> bool {
    let mut jobs = jobs.into_iter();
    let first = jobs.next().unwrap();
    run_batch(conn, first, || jobs.next().ok_or(()), &|_: &Connection| {
        commits.fetch_add(1, Ordering::SeqCst);
    })
}

#[test]
fn a_failing_job_rolls_back_only_itself_and_gets_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = table(&dir);
    let (a, a_answer) = insert(1);
    let (dup, dup_answer) = insert(1); // the primary key is taken by `a`
    let (b, b_answer) = insert(2);
    let generation = AtomicU64::new(7);
    assert!(batch(&mut conn, vec![a, dup, b], &generation));
    assert_eq!(a_answer.blocking_recv().unwrap().unwrap(), 1);
    assert!(matches!(dup_answer.blocking_recv().unwrap(), Err(Error::Conflict(_))));
    assert_eq!(b_answer.blocking_recv().unwrap().unwrap(), 2);
    assert_eq!(values(&conn), vec![1, 2]);
    assert_eq!(generation.load(Ordering::SeqCst), 8, "one commit, one run of the hook");
}

#[test]
fn a_panicking_job_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = table(&dir);
    let (reply, panicked_answer) = oneshot::channel::<Result<()>>();
    let panicking = |tx: &dyn Sql| -> Result<()> {
        tx.exec("INSERT INTO t (v) VALUES (5)", crate::db::sql::params![])?;
        panic!("a bug in a write job");
    };
    let panicking: BoxedJob = Box::new(Pending { work: Some(panicking), outcome: None, reply });
    let (after, after_answer) = insert(6);
    assert!(batch(&mut conn, vec![panicking, after], &AtomicU64::new(0)));
    assert!(matches!(panicked_answer.blocking_recv().unwrap(), Err(Error::Internal(_))));
    assert_eq!(after_answer.blocking_recv().unwrap().unwrap(), 6);
    assert_eq!(values(&conn), vec![6], "the panicking job's insert was rolled back");
}

#[test]
fn a_store_locked_by_another_connection_fails_the_queued_writes_and_acknowledges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = table(&dir);
    conn.busy_timeout(Duration::from_millis(10)).unwrap();
    let other = Connection::open(dir.path().join("w.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (a, a_answer) = insert(1);
    let (queued, queued_answer) = insert(2);
    let generation = AtomicU64::new(0);
    assert!(!batch(&mut conn, vec![a, queued], &generation));
    assert!(matches!(a_answer.blocking_recv().unwrap(), Err(Error::Unavailable(_))));
    assert!(matches!(queued_answer.blocking_recv().unwrap(), Err(Error::Unavailable(_))), "the queue fails at once");
    assert_eq!(generation.load(Ordering::SeqCst), 0);
    other.execute_batch("ROLLBACK").unwrap();
    assert!(values(&conn).is_empty());
}

#[tokio::test]
async fn submitted_writes_are_answered_after_their_commit() {
    let dir = tempfile::tempdir().unwrap();
    let conn = table(&dir);
    let generation = Arc::new(AtomicU64::new(0));
    let commits = generation.clone();
    let writer = Writer::start(
        conn,
        Arc::new(move |_: &Connection| {
            commits.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    let writes = (10..42).map(|v| {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer.submit(move |tx| tx.exec("INSERT INTO t (v) VALUES (?1)", crate::db::sql::params![v])).await
        })
    });
    for write in writes.collect::<Vec<_>>() {
        assert_eq!(write.await.unwrap().unwrap(), 1);
    }
    let reader = Connection::open(dir.path().join("w.sqlite3")).unwrap();
    assert_eq!(values(&reader), (10..42).collect::<Vec<_>>(), "every acknowledged write is visible elsewhere");
    let commits = generation.load(Ordering::SeqCst);
    assert!((1..=32).contains(&commits), "{commits} commits for 32 writes");
}

/// A job noting a mint of `kind` for the metrics (as `audit::record` does), then failing or not.
fn mint(kind: &'static str, fails: bool) -> BoxedJob {
    let (reply, _answer) = oneshot::channel();
    let work = move |_: &dyn Sql| {
        crate::metrics::uncommitted::note("token.created", Some(kind), crate::metrics::TokenActor::Own);
        if fails { Err(Error::Internal("refused".into())) } else { Ok(()) }
    };
    Box::new(Pending { work: Some(work), outcome: None, reply })
}

#[test]
fn mints_are_counted_when_their_job_commits_and_not_when_it_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = table(&dir);
    let commits = AtomicU64::new(0);
    assert!(batch(&mut conn, vec![mint("test-kept", false), mint("test-rolled-back", true)], &commits));
    let exposition = crate::metrics::METRICS.encode();
    assert!(exposition.contains(r#"tokend_tokens_minted_total{kind="test-kept",actor="self"} 1"#), "{exposition}");
    assert!(!exposition.contains("test-rolled-back"), "{exposition}");
}
