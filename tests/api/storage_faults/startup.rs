//! Startup on a store tokend cannot use: the process stops within seconds, without a
//! panic, with one message that names the file and says what to do.

use super::scratch::Scratch;
use super::server_on;
use crate::helpers::{expect_start_refused, tokend_command};
use std::path::Path;

/// Starts the server on `data` and expects it to give up; returns its stderr.
fn start_expecting_refusal(data: &Path) -> String {
    let stderr = expect_start_refused(tokend_command(data, &[]), "an unusable store");
    assert!(stderr.contains("tokend.sqlite3"), "the message does not name the file: {stderr}");
    stderr
}

/// A data directory whose database a real server created and then shut down cleanly.
fn data_dir_with_a_database(parent: &Path) -> std::path::PathBuf {
    let data = parent.join("data");
    let mut server = server_on(&data);
    server.stop();
    data
}

#[test]
fn a_database_of_another_application_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("tokend.sqlite3")).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);").unwrap();
    drop(conn);
    let stderr = start_expecting_refusal(dir.path());
    assert!(stderr.contains("did not create"), "{stderr}");
}

#[test]
fn a_database_from_a_newer_tokend_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir_with_a_database(dir.path());
    rusqlite::Connection::open(data.join("tokend.sqlite3"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    let stderr = start_expecting_refusal(&data);
    assert!(stderr.contains("newer tokend") && stderr.contains("999"), "{stderr}");
}

#[test]
fn a_truncated_database_is_refused_as_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir_with_a_database(dir.path());
    let file = std::fs::OpenOptions::new().write(true).open(data.join("tokend.sqlite3")).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len / 2).unwrap();
    drop(file);
    let stderr = start_expecting_refusal(&data);
    assert!(stderr.contains("not a usable SQLite database"), "{stderr}");
}

#[tokio::test]
async fn a_read_only_file_system_is_refused_and_the_data_serves_again_once_writable() {
    let Some(scratch) = Scratch::tmpfs("a_read_only_file_system_is_refused", 8) else { return };
    let data = data_dir_with_a_database(scratch.path());
    scratch.remount(true);
    let stderr = start_expecting_refusal(&data);
    assert!(stderr.contains("points to a writable directory"), "{stderr}");
    scratch.remount(false);
    let mut server = server_on(&data);
    let probe = super::probe::Probe::connect(&server).await;
    assert_eq!(probe.info().await, reqwest::StatusCode::OK);
    server.stop();
}
