//! Storage faults while tokend runs (spec/security.md §5.2 "Disk full", issue 8): with the
//! disk full or the database file read-only, writes get 503 in each dialect's envelope —
//! never a 2xx for a write that was not stored, never a panic — reads go on, and once the
//! fault is gone new writes succeed and every token from before (and every one
//! acknowledged during the fault) still works, also after a restart on an intact file.

mod probe;
mod scratch;
mod startup;

use crate::helpers::{ADMIN_PASSWORD, ServerProcess, Session, saymon_error};
use probe::{Probe, session};
use reqwest::StatusCode;
use scratch::Scratch;
use serde_json::{Value, json};
use std::path::Path;

fn rc_unavailable() -> (StatusCode, Value) {
    (StatusCode::SERVICE_UNAVAILABLE, json!({"success": false, "error": "Service Unavailable"}))
}

fn saymon_unavailable() -> (StatusCode, Value) {
    (StatusCode::SERVICE_UNAVAILABLE, saymon_error("ServiceUnavailable", "Service temporarily unavailable"))
}

fn server_on(data: &Path) -> ServerProcess {
    ServerProcess::start(&[
        ("TOKEND_DATA_DIR", data.to_str().unwrap()),
        ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("CREATE_TOKENS_FOR_USERS", "yes"),
        // Every token acknowledged during the fault must still work afterwards: no eviction.
        ("MAX_RESUME_LOGIN_TOKENS", "10000"),
        ("TOKEND_2FA", "off"),
        ("TOKEND_RATE_LIMIT", "off"),
    ])
}

/// Credentials from before the fault, which must work throughout.
struct Before {
    bob: Session,
    pat: Session,
    api_token: String,
    carol: String,
}

async fn arrange(p: &Probe) -> Before {
    for name in ["bob", "carol"] {
        let (status, body) = p.create_user(name).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = p.login("bob", "bob-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bob = session(&body);
    let (status, body) = p.generate_pat(&bob, "before").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pat = Session { user_id: bob.user_id.clone(), token: body["token"].as_str().unwrap().into() };
    let (status, body) = p.saymon_token(&bob.user_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, carol) = p.login("carol", "carol-password").await;
    Before { bob, pat, api_token: body.as_str().unwrap().into(), carol: session(&carol).user_id }
}

/// Writes acknowledged while the fault was on; each must have been stored.
#[derive(Default)]
struct Acknowledged {
    rocketchat: Vec<Session>,
    saymon: Vec<String>,
}

/// Mints for carol in both dialects until each is refused: the refusal must be the 503
/// envelope; whatever was acknowledged before it is kept for checking later.
async fn write_until_refused(p: &Probe, carol: &str) -> Acknowledged {
    let mut acked = Acknowledged::default();
    loop {
        let (status, body) = p.create_token(carol).await;
        if status != StatusCode::OK {
            assert_eq!((status, body), rc_unavailable());
            break;
        }
        acked.rocketchat.push(session(&body));
        assert!(acked.rocketchat.len() < 2000, "2000 mints acknowledged on a store that cannot take writes");
    }
    loop {
        let (status, body) = p.saymon_token(carol).await;
        if status != StatusCode::OK {
            assert_eq!((status, body), saymon_unavailable());
            break;
        }
        acked.saymon.push(body.as_str().unwrap().into());
        assert!(acked.saymon.len() < 2000, "2000 SAYMON mints acknowledged on a store that cannot take writes");
    }
    acked
}

/// Tokens from before and those acknowledged during the fault authenticate.
async fn assert_all_work(p: &Probe, before: &Before, acked: &Acknowledged) {
    for who in [&before.bob, &before.pat].into_iter().chain(&acked.rocketchat) {
        assert_eq!(p.me(who).await, StatusCode::OK, "a stored token stopped working");
    }
    assert_eq!(p.current(&before.api_token).await, StatusCode::OK);
    if let Some(last) = acked.saymon.last() {
        assert_eq!(p.current(last).await, StatusCode::OK, "an acknowledged SAYMON token was lost");
    }
}

/// New writes in both dialects succeed, and what they return works.
async fn assert_writes_work(p: &Probe, before: &Before) {
    let (status, body) = p.create_token(&before.carol).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(p.me(&session(&body)).await, StatusCode::OK);
    let (status, body) = p.login("bob", "bob-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = p.saymon_token(&before.carol).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(p.current(body.as_str().unwrap()).await, StatusCode::OK);
}

/// The whole story around one fault: `fault(data_dir, true)` switches it on, `false` off.
/// The server's log must name the cause with `advice`.
async fn survive(scratch: &Scratch, fault: impl Fn(&Path, bool), exact_refusals: bool, advice: &str) {
    let data = scratch.path().join("data");
    let mut server = server_on(&data);
    let p = Probe::connect(&server).await;
    let before = arrange(&p).await;

    fault(&data, true);
    let mut acked = write_until_refused(&p, &before.carol).await;
    println!(
        "{} Rocket.Chat and {} SAYMON mints acknowledged before the first 503",
        acked.rocketchat.len(),
        acked.saymon.len()
    );
    if exact_refusals {
        // Nothing can be written at all, so every kind of write is refused, each in its dialect.
        assert!(acked.rocketchat.is_empty() && acked.saymon.is_empty(), "a write was acknowledged");
        assert_eq!(p.login("bob", "bob-password").await, rc_unavailable());
        assert_eq!(p.generate_pat(&before.bob, "during").await, rc_unavailable());
        assert_eq!(p.create_user("dave").await, rc_unavailable());
        assert_eq!(p.saymon_session("bob", "bob-password").await, saymon_unavailable());
    } else {
        // A small write may still fit in pages SQLite already holds: refused, or stored.
        let (status, body) = p.login("bob", "bob-password").await;
        if status == StatusCode::OK {
            acked.rocketchat.push(session(&body));
        } else {
            assert_eq!((status, body), rc_unavailable());
        }
        let answer = p.saymon_session("bob", "bob-password").await;
        assert!(answer.0 == StatusCode::OK || answer == saymon_unavailable(), "{answer:?}");
    }
    assert_eq!(p.info().await, StatusCode::OK);
    assert_all_work(&p, &before, &acked).await;

    fault(&data, false);
    assert_all_work(&p, &before, &acked).await;
    assert_writes_work(&p, &before).await;
    server.stop();
    let log = server.log();
    let logged = log.lines().any(|l| l.contains("storage unavailable") && l.contains(advice));
    assert!(logged, "the fault was not logged with advice ({advice}):\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    drop(server);

    let mut again = server_on(&data);
    let p = Probe::connect(&again).await;
    assert_all_work(&p, &before, &acked).await;
    again.stop();
    assert!(!again.log().contains("panicked"), "{}", again.log());
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_and_recovers_when_space_returns() {
    let Some(scratch) = Scratch::tmpfs("a_full_disk_refuses_writes", 8) else { return };
    let fault = |_: &Path, on: bool| {
        if on {
            scratch.fill();
        } else {
            scratch.free();
        }
    };
    // Writes may still fit in space SQLite had already taken, so some may succeed before
    // the first refusal: those are checked to have been stored.
    survive(&scratch, fault, false, "is full; writes resume once space is freed").await;
}

#[tokio::test]
async fn a_read_only_database_file_refuses_writes_with_503_and_recovers_when_writable() {
    let Some(scratch) = Scratch::ext4("a_read_only_database_file", 16) else { return };
    let fault = |data: &Path, on: bool| {
        let (db, wal) = (data.join("tokend.sqlite3"), data.join("tokend.sqlite3-wal"));
        scratch.set_immutable(&[&db, &wal], on);
    };
    survive(&scratch, fault, true, "check that its file system is writable").await;
}
