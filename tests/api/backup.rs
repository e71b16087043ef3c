use crate::helpers::*;
use reqwest::StatusCode;
use std::process::Command;

fn backup(app: &TestApp, dest: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tokend"))
        .arg("backup")
        .arg(dest)
        .env("TOKEND_DATA_DIR", app.data_dir.path())
        .output()
        .expect("run tokend backup")
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_the_state_it_was_taken_in() {
    if crate::helpers_store::on_postgres() {
        return; // `tokend backup` copies SQLite files; PostgreSQL is backed up with pg_dump.
    }
    let app = spawn_app().await;
    let kept = app.user_session("kept").await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("tokend-backup.sqlite3");

    let out = backup(&app, &dest);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dest.exists() && dir.path().join("tokend-backup.sqlite3.key").exists());

    // Change the live data after the backup: a new user, and the kept user's token revoked.
    app.create_user("later", "later-password", &["user"]).await;
    app.post("/api/v1/logout", serde_json::json!({}), Some(&kept)).await;

    // Restore into a fresh data directory: the database and the key beside it.
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&dest, restored_dir.path().join("tokend.sqlite3")).unwrap();
    std::fs::copy(dir.path().join("tokend-backup.sqlite3.key"), restored_dir.path().join("secret.key")).unwrap();
    let restored = spawn_app_with(|c| c.data_dir = restored_dir.path().to_path_buf()).await;

    assert!(restored.authenticates(&kept).await, "the token that existed at backup time is back");
    let (status, _) =
        restored.post("/api/v1/login", serde_json::json!({"user": "later", "password": "later-password"}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a user created after the backup does not exist");
}

#[tokio::test]
async fn a_backup_never_overwrites_and_reports_a_missing_database() {
    if crate::helpers_store::on_postgres() {
        return; // `tokend backup` copies SQLite files; PostgreSQL is backed up with pg_dump.
    }
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("b.sqlite3");
    assert!(backup(&app, &dest).status.success());
    let again = backup(&app, &dest);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tokend"))
        .arg("backup")
        .arg(dir.path().join("c.sqlite3"))
        .env("TOKEND_DATA_DIR", empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if crate::helpers_store::on_postgres() {
        return; // `tokend backup` copies SQLite files; PostgreSQL is backed up with pg_dump.
    }
    let app = spawn_app().await;
    let mode = std::fs::metadata(app.db_path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key = std::fs::metadata(app.data_dir.path().join("secret.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(key, 0o600);
}

#[tokio::test]
async fn on_postgresql_tokend_backup_points_to_postgresqls_own_tools_and_writes_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("b.dump");
    let mut cmd = crate::helpers::tokend_command(app.data_dir.path(), &["backup", dest.to_str().unwrap()]);
    // The same server seen as PostgreSQL's: what a node of a cluster runs.
    let pg = crate::helpers_store::store_env(&app.config);
    if pg.is_empty() {
        let key = dir.path().join("cluster.key");
        std::fs::write(&key, [7u8; 32]).unwrap();
        cmd.env("TOKEND_DATABASE_URL", "host=127.0.0.1 port=1 dbname=none").env("TOKEND_VAULT_KEY_FILE", &key);
    } else {
        cmd.envs(pg);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pg_dump --format=custom") && stderr.contains("vault key"), "{stderr}");
    assert!(!dest.exists() && !dir.path().join("b.dump.key").exists());
}
