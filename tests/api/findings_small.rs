//! Regressions for four findings of the attack run, each named after its finding: SAYMON
//! cookie sessions and same-site CSRF (8), the backup's file mode (9), a non-ASCII byte in
//! `X-Forwarded-For` (14) and account enumeration through `sendEmailCode` timing (15).

use crate::email_2fa::{SEND, app_mailing_to, email_user, login};
use crate::helpers::*;
use crate::helpers_smtp::*;
use crate::params;
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A SAYMON session of the bootstrap admin, as a browser holds it: the `sid` cookie.
async fn admin_cookie(app: &TestApp) -> String {
    let (sid, _) = app.saymon_login(json!({"login": ADMIN_USERNAME, "password": ADMIN_PASSWORD})).await;
    format!("sid={sid}")
}

/// `POST /node/api/users` creating `login`, authenticated by `cookie` only, plus `headers`.
async fn create_with_cookie(
    app: &TestApp,
    cookie: &str,
    login: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let body = json!({"login": login, "password": "a long password", "permissions": []});
    let mut req = app.saymon(Method::POST, "/node/api/users").header("Cookie", cookie).json(&body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    app.send(req).await
}

fn user_named(app: &TestApp, login: &str) -> i64 {
    app.store().query_row("SELECT count(*) FROM users WHERE username = ?1", params![login], |r| r.get(0)).unwrap()
}

fn cross_origin_refused() -> (StatusCode, serde_json::Value) {
    (StatusCode::FORBIDDEN, saymon_error("Forbidden", "Cross-origin request refused"))
}

#[tokio::test]
async fn finding_8_a_cross_origin_post_riding_the_sid_cookie_is_refused_and_creates_no_user() {
    let app = spawn_app().await;
    let cookie = admin_cookie(&app).await;

    // A page on another port of the same host: same-site, but another origin.
    let other_port = [("Origin", "http://127.0.0.1:1")];
    assert_eq!(create_with_cookie(&app, &cookie, "mallory", &other_port).await, cross_origin_refused());
    let same_site = [("Sec-Fetch-Site", "same-site"), ("Origin", app.address.as_str())];
    assert_eq!(create_with_cookie(&app, &cookie, "mallory", &same_site).await, cross_origin_refused());
    let null_origin = [("Origin", "null")];
    assert_eq!(create_with_cookie(&app, &cookie, "mallory", &null_origin).await, cross_origin_refused());
    assert_eq!(user_named(&app, "mallory"), 0, "no refused request created the user");

    // The server's own pages, and clients that send neither header (curl), go through.
    let (status, body) = create_with_cookie(&app, &cookie, "alice", &[("Origin", app.address.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = create_with_cookie(&app, &cookie, "bob", &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = create_with_cookie(&app, &cookie, "carol", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Reading is not guarded: a cross-origin page cannot read the answer anyway.
    let req = app.saymon(Method::GET, "/node/api/users/current").header("Cookie", &cookie).header("Origin", "http://x");
    assert_eq!(app.send(req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn finding_8_a_cross_origin_write_with_basic_credentials_is_refused_too() {
    let app = spawn_app().await;
    let body = json!({"login": "mallory", "password": "a long password", "permissions": []});
    let post = || app.as_admin(Method::POST, "/node/api/users").json(&body);
    assert_eq!(app.send(post().header("Origin", "http://127.0.0.1:1")).await, cross_origin_refused());
    assert_eq!(user_named(&app, "mallory"), 0);
    let (status, body) = app.send(post()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn finding_8_a_cross_origin_logout_is_refused_and_the_session_survives() {
    let app = spawn_app().await;
    let cookie = admin_cookie(&app).await;
    let sid = cookie.trim_start_matches("sid=").to_string();
    let delete = || app.saymon(Method::DELETE, "/node/api/users/session").header("Cookie", &cookie);

    assert_eq!(app.send(delete().header("Sec-Fetch-Site", "cross-site")).await, cross_origin_refused());
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::OK, "the session is still open");
    let (status, _) = app.send(delete().header("Origin", app.address.as_str())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.current_by_sid(&sid).await.0, StatusCode::UNAUTHORIZED, "the same-origin logout ended it");
}

#[cfg(unix)]
#[tokio::test]
async fn finding_9_a_backup_and_its_key_copy_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    if crate::helpers_store::on_postgres() {
        return; // `tokend backup` copies SQLite files; PostgreSQL is backed up with pg_dump.
    }
    // An operator restored the key with a plain `cp`, and the backup runs under umask 000:
    // neither may loosen the copies, which hold password and token hashes and the TOTP key.
    let key = app.data_dir.path().join("secret.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy.sqlite3");
    let mut cmd = std::process::Command::new("sh");
    without_inherited_settings(&mut cmd);
    let out = cmd
        .args(["-c", r#"umask 000 && exec "$0" backup "$1""#, TOKEND_BIN])
        .arg(&dest)
        .env("TOKEND_DATA_DIR", app.data_dir.path())
        .output()
        .expect("run tokend backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dest), 0o600, "the database copy");
    assert_eq!(mode(&dir.path().join("copy.sqlite3.key")), 0o600, "the key copy");
}

#[tokio::test]
async fn finding_14_a_non_ascii_byte_left_of_the_trusted_entry_does_not_hide_the_client_address() {
    let app = spawn_app_with(|c| c.limits.forwarded_count = 1).await;
    // The client wrote the left part; the one trusted proxy appended what it saw.
    let forwarded = HeaderValue::from_bytes(b"\xff-garbage, 203.0.113.9").unwrap();
    let body = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let req = app.client.post(app.url("/api/v1/login")).header("X-Forwarded-For", forwarded).json(&body);
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let token = body["data"]["authToken"].as_str().unwrap();
    let events = app.audit("event=token.created").await;
    let created = events.iter().find(|e| e["tokenLabel"] == json!(&token[37..])).expect("the login is audited");
    assert_eq!(created["clientAddress"], json!("203.0.113.9"), "{created}");
}

#[tokio::test]
async fn finding_15_send_email_code_answers_strangers_and_real_accounts_alike_and_still_mails_the_real_one() {
    let sink = SmtpSink::start().await;
    let app = app_mailing_to(&sink.url()).await;
    email_user(&app, "alice").await;

    let stranger = app.post(SEND, json!({"emailOrUsername": "nobody"}), None).await;
    let real = app.post(SEND, json!({"emailOrUsername": "alice"}), None).await;
    assert_eq!(stranger, (StatusCode::OK, json!({"success": true})));
    assert_eq!(real, stranger, "the answer does not tell which accounts exist");

    sink.wait_for(1).await;
    assert_eq!(sink.last().rcpt_to, vec!["<alice@example.com>"]);
    let (status, body) = login(&app, "alice", Some(&sink.last_code())).await;
    assert_eq!(status, StatusCode::OK, "the mailed code logs in: {body}");
    assert_eq!(sink.count(), 1, "nothing went to the stranger");
}

#[tokio::test]
async fn finding_15_send_email_code_answers_success_while_the_smtp_server_is_down() {
    let app = app_mailing_to(&closed_port_url()).await;
    email_user(&app, "alice").await;
    let answer = app.post(SEND, json!({"emailOrUsername": "alice"}), None).await;
    assert_eq!(answer, (StatusCode::OK, json!({"success": true})));
    // Malformed input is still the caller's error, in Rocket.Chat's envelope.
    let missing = meteor_error("error-parameter-required", "emailOrUsername is required");
    assert_eq!(app.post(SEND, json!({"emailOrUsername": 7}), None).await, (StatusCode::BAD_REQUEST, missing));
}

#[tokio::test]
async fn finding_15_send_email_code_answers_success_without_smtp_configured() {
    let app = spawn_app().await;
    for auth in [None, Some(&app.admin)] {
        let answer = app.post(SEND, json!({"emailOrUsername": "alice"}), auth).await;
        assert_eq!(answer, (StatusCode::OK, json!({"success": true})));
    }
}
