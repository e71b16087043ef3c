//! `tokend admin mint-token | list-tokens | revoke-tokens | audit`, run as the real binary
//! on the database of a server that keeps running, checked over that server's HTTP API.

use crate::helpers::*;
use crate::helpers_store::store_env;
use crate::params;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Output;

const PASSWORD: &str = "bob-password";

/// Runs `tokend admin <args>` against `app`'s data directory.
fn admin(app: &TestApp, args: &[&str]) -> Output {
    let mut full = vec!["admin"];
    full.extend_from_slice(args);
    tokend_command(app.data_dir.path(), &full).envs(store_env(&app.config)).output().expect("run tokend admin")
}

/// Runs a command that must succeed; returns its stdout.
fn admin_ok(app: &TestApp, args: &[&str]) -> String {
    let out = admin(app, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tokend admin {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// True once `session` is refused: a revocation by another process reaches the server's token
/// cache through the invalidation feed, which the server polls every 100 ms (README,
/// "Storage and durability"). Gives it two seconds.
async fn refused_soon(app: &TestApp, session: &Session) -> bool {
    for _ in 0..40 {
        if !app.authenticates(session).await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// The value printed after `label:` by `mint-token`.
fn field(stdout: &str, label: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label} in {stdout}"));
    line[label.len()..].trim().to_string()
}

#[tokio::test]
async fn mint_token_prints_a_token_that_authenticates_as_the_user_and_is_audited_as_cli() {
    let app = spawn_app().await;
    let bob = app.create_user("bob", PASSWORD, &["user"]).await;
    for key in ["bob", bob.as_str()] {
        let stdout = admin_ok(&app, &["mint-token", "--user", key]);
        let session = Session { user_id: field(&stdout, "userId:"), token: field(&stdout, "authToken:") };
        assert_eq!(session.user_id, bob);
        assert_eq!(session.token.len(), 43);
        let (status, me) = app.get("/api/v1/me", Some(&session)).await;
        assert_eq!((status, &me["username"]), (StatusCode::OK, &json!("bob")), "{me}");
    }
    assert_eq!(app.login_token_rows(&bob), 2);
    let minted = app.audit("user=bob&event=token.created").await;
    assert_eq!(minted.len(), 2);
    for e in &minted {
        assert_eq!(e["actor"], json!({"_id": null, "username": "cli"}));
        assert_eq!((&e["tokenKind"], &e["detail"]), (&json!("login"), &json!("cli mint-token")));
        assert_eq!(e["subject"]["_id"], json!(bob));
    }
}

#[tokio::test]
async fn list_tokens_shows_kinds_names_and_last_parts_but_never_a_token() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, PASSWORD, "deploy-bot", false).await;
    let stdout = admin_ok(&app, &["list-tokens", "--user", "bob"]);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    let login_row = rows.iter().find(|r| r.starts_with("login")).expect("a login row");
    let pat_row = rows.iter().find(|r| r.starts_with("pat")).expect("a pat row");
    assert!(login_row.contains(&bob.token[37..]), "{stdout}");
    assert!(pat_row.contains("deploy-bot") && pat_row.contains(&pat.token[37..]), "{stdout}");
    assert!(pat_row.trim_end().ends_with("never"), "PATs never expire: {stdout}");
    for token in [&bob.token, &pat.token, &app.admin.token] {
        assert!(!stdout.contains(token.as_str()), "list-tokens printed a token: {stdout}");
    }
}

#[tokio::test]
async fn revoke_tokens_takes_exactly_the_kind_asked_for() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let other_login = app.login("bob", PASSWORD).await;
    let pats = [app.generate_pat(&bob, PASSWORD, "a", false).await, app.generate_pat(&bob, PASSWORD, "b", false).await];
    let carol = app.user_session("carol").await;

    let stdout = admin_ok(&app, &["revoke-tokens", "--user", "bob", "--kind", "login"]);
    assert!(stdout.contains("revoked 2 login"), "{stdout}");
    assert!(refused_soon(&app, &bob).await && refused_soon(&app, &other_login).await);
    for pat in &pats {
        assert!(app.authenticates(pat).await);
    }
    let fresh = app.login("bob", PASSWORD).await;
    admin_ok(&app, &["revoke-tokens", "--user", bob.user_id.as_str(), "--kind", "pat"]);
    for pat in &pats {
        assert!(refused_soon(&app, pat).await);
    }
    assert!(app.authenticates(&fresh).await);
    let last_pat = app.generate_pat(&fresh, PASSWORD, "c", false).await;
    admin_ok(&app, &["revoke-tokens", "--user", "bob", "--kind", "all"]);
    assert!(refused_soon(&app, &fresh).await && refused_soon(&app, &last_pat).await);
    assert!(app.authenticates(&carol).await && app.authenticates(&app.admin).await);

    let revocations = app.audit("user=bob&event=token.revoked").await;
    let kinds: Vec<_> =
        revocations.iter().rev().map(|e| (e["actor"]["username"].clone(), e["tokenKind"].clone())).collect();
    assert_eq!(kinds, [(json!("cli"), json!("login")), (json!("cli"), json!("pat")), (json!("cli"), json!("all"))]);
}

#[tokio::test]
async fn an_unknown_or_deactivated_user_is_a_failure_with_a_message() {
    let app = spawn_app().await;
    for args in [
        vec!["mint-token", "--user", "nobody"],
        vec!["list-tokens", "--user", "nobody"],
        vec!["revoke-tokens", "--user", "nobody", "--kind", "all"],
    ] {
        let out = admin(&app, &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nobody"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let bob = app.create_user("bob", PASSWORD, &["user"]).await;
    let deactivate = json!({"userId": bob, "activeStatus": false});
    app.post("/api/v1/users.setActiveStatus", deactivate, Some(&app.admin)).await;
    let out = admin(&app, &["mint-token", "--user", "bob"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("deactivated"));
    let rows: i64 = app.store().query_row("SELECT count(*) FROM tokens", params![], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1, "only the admin's own login token");
}

#[tokio::test]
async fn audit_prints_the_events_oldest_first_including_the_clis_own() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    admin_ok(&app, &["mint-token", "--user", "bob"]);
    app.get("/api/v1/logout", Some(&bob)).await;
    let stdout = admin_ok(&app, &["audit"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines[0].contains("token.created") && lines[0].contains("actor=admin"), "{stdout}");
    assert!(lines[1].contains("actor=bob subject=bob kind=login") && lines[1].contains("from=127.0.0.1"));
    assert!(lines[2].contains("actor=cli subject=bob kind=login") && lines[2].contains("from=-"));
    assert!(lines[3].contains("token.revoked") && lines[3].contains("logout"), "{stdout}");
    assert_eq!(lines[4], "(4 of 4 events)");
    let only_bob = admin_ok(&app, &["audit", "--user", "bob", "--limit", "2"]);
    assert!(only_bob.ends_with("(2 of 3 events)\n"), "{only_bob}");
    assert!(!only_bob.contains("actor=admin"), "{only_bob}");
    for token in [&bob.token, &app.admin.token] {
        assert!(!stdout.contains(token.as_str()));
    }
}
