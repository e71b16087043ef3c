//! The domain core owns the store: no code under `src/api/` (handlers, extractors, envelopes)
//! opens a transaction, runs a query or names a store or SQLite type. It calls `accounts`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What reaching the store looks like in source.
const FORBIDDEN: [&str; 6] = ["rusqlite", "crate::db", "tokend::db", ".db.read", ".db.write", ".db()"];

#[test]
fn no_code_under_src_api_reaches_the_store() {
    let mut files = Vec::new();
    rust_files(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api")), &mut files);
    assert!(files.len() > 20, "found only {} files under src/api", files.len());
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if let Some(word) = FORBIDDEN.iter().find(|w| line.contains(*w)) {
                offences.push(format!("{}:{}: {word}", file.display(), n + 1));
            }
        }
    }
    assert!(offences.is_empty(), "src/api reaches the store directly:\n{}", offences.join("\n"));
}

/// One set of SQL behind the store's executor (`src/db/sql.rs`): the SQLite engine's types
/// are named only under `src/db/`, so a second engine changes nothing outside it.
#[test]
fn only_src_db_names_the_sqlite_engine() {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let db = src.join("db");
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&db)) {
        let text = std::fs::read_to_string(file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if let Some(word) = ["rusqlite", "r2d2"].iter().find(|w| line.contains(*w)) {
                offences.push(format!("{}:{}: {word}", file.display(), n + 1));
            }
        }
    }
    assert!(offences.is_empty(), "the SQLite engine is named outside src/db:\n{}", offences.join("\n"));
}
