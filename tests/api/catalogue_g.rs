//! Bad-input catalogue §6 G, expiry, revocation, disabled and deleted users (items 48–54).
//! Most items are feature tests elsewhere (token_lifecycle.rs, sessions.rs, pats.rs,
//! saymon_tokens.rs; see CATALOGUE.md); here item 54's case of a careless writer.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn catalogue_54_a_user_deleted_without_foreign_keys_leaves_orphan_tokens_that_authenticate_nobody() {
    let app = spawn_app().await;
    let bob = app.user_session("bob").await;
    let pat = app.generate_pat(&bob, "bob-password", "ci", false).await;
    let api_token = app.saymon_token(&bob.user_id).await;
    let (sid, _) = app.saymon_login(json!({"login": "bob", "password": "bob-password"})).await;
    if crate::helpers_store::on_postgres() {
        // SQLite only: PostgreSQL enforces foreign keys on every connection.
        return;
    }
    // A connection without `foreign_keys=ON`: deleting the user cascades nowhere.
    let conn = app.sqlite();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0, "the test connection must not enforce foreign keys");
    assert_eq!(conn.execute("DELETE FROM users WHERE id = ?1", [&bob.user_id]).unwrap(), 1);
    let orphans: i64 =
        conn.query_row("SELECT count(*) FROM tokens WHERE user_id = ?1", [&bob.user_id], |r| r.get(0)).unwrap();
    assert_eq!(orphans, 2, "the login token and the PAT are left behind");
    app.settle().await;
    for session in [&bob, &pat] {
        let req = app.client.get(app.url("/api/v1/me")).header("X-User-Id", &session.user_id);
        refused(&app, "item 54 Rocket.Chat token", req.header("X-Auth-Token", &session.token), rc_unauthorized()).await;
        let resume = app.client.post(app.url("/api/v1/login")).json(&json!({"resume": session.token}));
        refused(&app, "item 54 resume", resume, login_unauthorized()).await;
    }
    let invalid = saymon_401("Unauthorized", "Invalid API token.");
    let path = with_query("/node/api/users/current", &[("api-token", &api_token)]);
    refused_text(&app, "item 54 api-token", app.saymon(Method::GET, &path), (StatusCode::UNAUTHORIZED, &invalid)).await;
    let expired = saymon_401("Unauthorized", "Session expired.");
    let req = app.saymon(Method::GET, "/node/api/users/current").header("Cookie", format!("sid={sid}"));
    refused_text(&app, "item 54 sid", req, (StatusCode::UNAUTHORIZED, &expired)).await;
}

#[tokio::test]
async fn catalogue_section_g_revoked_credentials_leave_no_token_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let bob = logged.create_user("bob", "catalogue-G-secret-pw").await;
    let logout = logged.authed(Method::POST, "/api/v1/logout", &bob);
    logged.expect(logout, StatusCode::OK).await;
    logged.expect(logged.authed(Method::GET, "/api/v1/me", &bob), StatusCode::UNAUTHORIZED).await;
    let resume = logged.client.post(logged.url("/api/v1/login")).json(&json!({"resume": bob.token}));
    logged.expect(resume, StatusCode::UNAUTHORIZED).await;
    for value in ["", "null", "undefined"] {
        let req = logged.client.get(logged.url(&with_query("/node/api/users/current", &[("api-token", value)])));
        logged.expect(req, StatusCode::UNAUTHORIZED).await;
    }
    logged.assert_log_free_of(&["catalogue-G-secret-pw", &bob.token], &["\"GET /api/v1/me\" 401"]);
}
