//! Logging in and out, `me` and `info` (spec §5, §6.1, §7, §16).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::{challenge_details, client_addr, delivery_failed};
use super::login_request::{self, LoginRequest};
use super::refusal::blocked_message;
use super::views;
use crate::accounts::login::{LoginOutcome, password_login};
use crate::accounts::two_factor::{self, Decision};
use crate::accounts::{self, UserRecord, revoke};
use crate::api::state::AppState;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

/// §16: `{"version": ..., "success": true}`, no authentication.
pub async fn info(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": state.config.rc_version, "success": true}))
}

/// §5: every body form of §5.1; failures are 401 with the ambiguous body of §5.3. The
/// password and any second factor are checked by the core, against the budget.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    let done = log_in(&state, &req, &body).await?;
    login_success(&state, &done.user, &done.token).await
}

/// A completed login: the user and the token the client keeps.
pub struct LoggedIn {
    pub user: UserRecord,
    pub token: String,
    /// When the token expires (`None`: a PAT used to resume, which never expires).
    pub expires_at: Option<crate::clock::Millis>,
    /// True for `{resume}`: the token presented is the one returned.
    pub resumed: bool,
}

/// The one login path of the dialect, for `POST /api/v1/login` and the Meteor `login`
/// method alike: parses the body (`login_request`), then the core checks the password and
/// any second factor against the budget. Refusals are `RcError::Login` (§5.3).
pub async fn log_in(state: &AppState, req: &HttpRequest, body: &Value) -> RcResult<LoggedIn> {
    match login_request::parse(body)? {
        LoginRequest::Resume(token) => {
            // A resume login returns the same token; nothing new is stored.
            let owner = accounts::authenticate_token(state, None, &token).await?;
            let owner = owner.ok_or_else(RcError::login_unauthorized)?;
            let (user, expires_at) = ((*owner.owner.user).clone(), owner.owner.expires_at);
            Ok(LoggedIn { user, token, expires_at, resumed: true })
        }
        LoginRequest::Password { who, digest, code } => {
            // §10.5: the code may come in the body or in x-2fa-code.
            let code = code.or_else(|| header(req, "x-2fa-code"));
            let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok());
            match password_login(state, who, digest, code, client_addr(req), user_agent).await? {
                LoginOutcome::LoggedIn { user, token, expires_at } => Ok(LoggedIn {
                    user: *user,
                    token: token.expose().to_string(),
                    expires_at: Some(expires_at),
                    resumed: false,
                }),
                LoginOutcome::SecondFactor(decision) => Err(second_factor_refusal(decision)),
                // Rocket.Chat's `Accounts.validateLoginAttempt` error, details and all.
                LoginOutcome::Inactive => Err(RcError::Login {
                    error: "error-user-is-not-activated".into(),
                    message: "User is not activated".into(),
                    details: Some(json!({"function": "Accounts.validateLoginAttempt"})),
                }),
                LoginOutcome::Failed => {
                    log::info!("login: failed password login");
                    Err(RcError::login_unauthorized())
                }
                LoginOutcome::Blocked(by) => {
                    let (error, message) = blocked_message(by);
                    let details = Some(json!({"function": "Accounts.validateLoginAttempt"}));
                    Err(RcError::Login { error: error.into(), message: message.into(), details })
                }
            }
        }
        LoginRequest::Unrecognized => Err(RcError::login_unauthorized()),
    }
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The 2FA step of a password login: 401 `totp-required` / `totp-invalid` (spec §5.3).
fn second_factor_refusal(decision: Decision) -> RcError {
    let (error, message, challenge) = match decision {
        Decision::Required(c) => ("totp-required", "TOTP Required", c),
        Decision::Invalid(c) => ("totp-invalid", "TOTP Invalid", c),
        Decision::MaxAttempts(c) => ("totp-max-attempts", "TOTP Maximun Failed Attempts Reached", c),
        Decision::DeliveryFailed => return delivery_failed(),
        Decision::Blocked(by) => {
            let (error, message) = blocked_message(by);
            let details = Some(json!({"function": "Accounts.validateLoginAttempt"}));
            return RcError::Login { error: error.into(), message: message.into(), details };
        }
        Decision::Pass(_) => return RcError::Internal,
    };
    RcError::Login { error: error.into(), message: message.into(), details: Some(challenge_details(&challenge)) }
}

async fn login_success(state: &AppState, user: &UserRecord, token: &str) -> RcResult<HttpResponse> {
    let second_factors = second_factors(state, &user.id).await?;
    let data = json!({
        "userId": user.id,
        "authToken": token,
        "me": Value::Object(views::me(user, second_factors, &state.config.site_url)),
    });
    Ok(HttpResponse::Ok().json(json!({"status": "success", "data": data, "success": true})))
}

/// What `me.services` says of the user's TOTP and e-mail codes (Rocket.Chat sends both).
async fn second_factors(state: &AppState, user_id: &str) -> RcResult<views::SecondFactors> {
    let methods = two_factor::enabled_methods(state, user_id).await?;
    Ok(views::SecondFactors {
        totp: methods.contains(&two_factor::Method::Totp),
        email: methods.contains(&two_factor::Method::Email),
    })
}

/// §6.1: removes only the token that authenticated this request.
pub async fn logout(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> RcResult<HttpResponse> {
    revoke::revoke_token(&state, &caller.acting(&req), caller.user(), caller.token_hash(), caller.owner().kind).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "success", "data": {"message": "You've been logged out!"}})))
}

/// §7: the caller's own "me" object.
/// The body is rendered once per cached token entry, i.e. until the next write.
pub async fn me(state: web::Data<AppState>, caller: Caller) -> RcResult<HttpResponse> {
    let body = match caller.auth.me_body.get() {
        Some(body) => body,
        None => {
            let second_factors = second_factors(&state, caller.id()).await?;
            caller.auth.me_body.get_or_init(|| {
                let doc = views::success(views::me(caller.user(), second_factors, &state.config.site_url));
                Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
            })
        }
    };
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body.clone()))
}

/// Helper for handlers answering `{...fields, success: true}`.
pub fn ok(fields: Value) -> HttpResponse {
    let map = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    HttpResponse::Ok().json(views::success(map))
}
