//! Logging in and out, `me` and `info` (spec §5, §6.1, §7, §16).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::{actor, client_addr};
use super::gate::{challenge_details, delivery_failed};
use super::login_request::{self, LoginRequest};
use super::views;
use crate::accounts::login_guard::Blocked;
use crate::accounts::{self, PasswordCheck, revoke};
use crate::auth::two_factor::{self, Decision};
use crate::db::audit::Actor;
use crate::db::users::UserRecord;
use crate::state::AppState;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

/// §16: `{"version": ..., "success": true}`, no authentication.
pub async fn info(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": state.config.rc_version, "success": true}))
}

/// §5: every body form of §5.1; failures are 401 with the ambiguous body of §5.3.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    let addr = client_addr(&req);
    let ip = addr.as_deref();
    match login_request::parse(&body)? {
        LoginRequest::Resume(token) => {
            // A resume login returns the same token; nothing new is stored.
            let owner = accounts::authenticate_token(&state, None, &token).await?;
            let owner = owner.ok_or_else(RcError::login_unauthorized)?;
            login_success(&state, &owner.owner.user, &token).await
        }
        LoginRequest::Password { who, digest, code } => {
            match accounts::check_password(&state, who, digest, ip).await? {
                PasswordCheck::Valid(user) => {
                    // §10.5: the code may come in the body or in x-2fa-code. A challenge or a wrong
                    // code counts as a failed login, as in Rocket.Chat.
                    let code = code.or_else(|| header(&req, "x-2fa-code"));
                    if let Err(refusal) = login_second_factor(&state, &user, code).await {
                        accounts::login_failed(&state, &user.id, ip);
                        return Err(refusal);
                    }
                    accounts::login_succeeded(&state, &user.id, ip);
                    let actor = Actor::user(&user.id, &user.username, client_addr(&req));
                    let (token, _) = accounts::mint_login_token(&state, &actor, &user, "login").await?;
                    log::info!("login: user {} ({}) logged in with a password", user.id, user.username.escape_debug());
                    login_success(&state, &user, token.expose()).await
                }
                PasswordCheck::Inactive(_) => Err(RcError::Login {
                    error: "error-user-is-not-activated".into(),
                    message: "User is not activated".into(),
                    details: None,
                }),
                PasswordCheck::Failed => {
                    log::info!("login: failed password login");
                    Err(RcError::login_unauthorized())
                }
                PasswordCheck::Blocked(by) => {
                    let (error, message) = match by {
                        Blocked::ByIp => ("error-login-blocked-for-ip", "Login has been temporarily blocked For IP"),
                        Blocked::ByUser => {
                            ("error-login-blocked-for-user", "Login has been temporarily blocked For User")
                        }
                    };
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
async fn login_second_factor(state: &AppState, user: &UserRecord, code: Option<String>) -> RcResult<()> {
    let (error, message, challenge) = match two_factor::check_login(state, user, code).await? {
        Decision::Pass => return Ok(()),
        Decision::Required(c) => ("totp-required", "TOTP Required", c),
        Decision::Invalid(c) => {
            log::info!("login: invalid second factor for user {}", user.id);
            ("totp-invalid", "TOTP Invalid", c)
        }
        Decision::MaxAttempts(c) => {
            log::info!("login: too many wrong e-mail codes for user {}", user.id);
            ("totp-max-attempts", "TOTP Maximun Failed Attempts Reached", c)
        }
        Decision::DeliveryFailed => return Err(delivery_failed()),
    };
    Err(RcError::Login { error: error.into(), message: message.into(), details: Some(challenge_details(&challenge)) })
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
    revoke::revoke_token(&state, &actor(&caller, &req), caller.user(), caller.token_hash(), caller.owner().kind)
        .await?;
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
