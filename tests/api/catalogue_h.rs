//! Bad-input catalogue §6 H, privilege escalation (items 55–61). Items 56–61 are feature
//! tests in create_token.rs, saymon_tokens.rs, users_admin.rs, saymon_users.rs, roles.rs and
//! pats.rs (see CATALOGUE.md); here item 55, the 8.x secret in a non-admin's hands.

use crate::catalogue_support::*;
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokend::config::Secret;

const CREATE: &str = "/api/v1/users.createToken";

#[tokio::test]
async fn catalogue_55_a_non_admin_holding_the_deployment_secret_still_mints_for_nobody_else() {
    let app = spawn_app_with(|c| c.create_tokens_secret = Some(Secret::new("s3cret"))).await;
    let alice = app.user_session("alice").await;
    let code = two_factor_code("alice-password");
    for target in [app.admin.user_id.clone(), app.create_user("bob", "bob-password", &["user"]).await] {
        let req = app.client.post(app.url(CREATE)).json(&json!({"userId": target, "secret": "s3cret"}));
        let req = req.header("X-User-Id", &alice.user_id).header("X-Auth-Token", &alice.token);
        let req = req.header("x-2fa-code", &code).header("x-2fa-method", "password");
        let expected = (StatusCode::BAD_REQUEST, meteor_error("error-not-authorized", "Not authorized"));
        refused(&app, &format!("item 55 for {target}"), req, expected).await;
    }
}

#[tokio::test]
async fn catalogue_section_h_refused_escalations_leave_no_credential_in_a_debug_log() {
    let logged = LoggedServer::start().await;
    let alice = logged.create_user("alice", "catalogue-H-secret-pw").await;
    let mint = logged.authed(Method::POST, CREATE, &alice).json(&json!({"userId": logged.admin.user_id}));
    logged.expect(mint, StatusCode::BAD_REQUEST).await;
    let path = format!("/node/api/users/{}/auth-token", logged.admin.user_id);
    let req = logged.client.post(logged.url(&path)).basic_auth("alice", Some("catalogue-H-secret-pw"));
    logged.expect(req, StatusCode::FORBIDDEN).await;
    let escalate = json!({"userId": alice.user_id, "data": {"roles": ["admin"]}});
    let req = logged.authed(Method::POST, "/api/v1/users.update", &alice).json(&escalate);
    logged.expect(req, StatusCode::BAD_REQUEST).await;
    logged.assert_log_free_of(&["catalogue-H-secret-pw", &alice.token], &["\"POST /api/v1/users.createToken\" 400"]);
}
