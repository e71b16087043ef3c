//! TOTP management (spec §10.6): the operations behind both the Meteor methods
//! (`2fa:enable`, `2fa:validateTempToken`, `2fa:disable`, `2fa:regenerateCodes`,
//! `2fa:checkCodesRemaining`) and the newer REST routes (`users.enableTotp`, ...).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::{client_addr, require_two_factor};
use super::session::ok;
use super::target::{self, UserParams};
use crate::accounts::Refusal;
use crate::accounts::totp::{self, TotpError};
use crate::accounts::two_factor::Options;
use crate::api::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// A Meteor method failure: `error` code and optional `reason`.
#[derive(Debug)]
pub enum OpError {
    Meteor(&'static str, &'static str),
    Rc(Box<RcError>),
}

impl From<crate::error::Error> for OpError {
    fn from(e: crate::error::Error) -> Self {
        OpError::Rc(Box::new(e.into()))
    }
}

impl From<RcError> for OpError {
    fn from(e: RcError) -> Self {
        OpError::Rc(Box::new(e))
    }
}

impl From<OpError> for RcError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Meteor(code, reason) => RcError::meteor(code, reason),
            OpError::Rc(e) => *e,
        }
    }
}

fn totp_error(e: TotpError) -> OpError {
    match e {
        TotpError::AlreadyEnabled => {
            OpError::Meteor("error-2fa-already-enabled", "Two-factor authentication is already enabled")
        }
        TotpError::NotEnabled | TotpError::InvalidCode => OpError::Meteor("invalid-totp", ""),
        TotpError::Blocked(by) => RcError::from(Refusal::Blocked(by)).into(),
    }
}

/// Changing one's own second factor needs a login token (`Acting::require_session`).
fn session_required(caller: &Caller, req: &HttpRequest) -> Result<(), OpError> {
    caller.require_login_token(req).map_err(OpError::from)
}

/// `2fa:enable` / `users.enableTotp`: gated, whichever way it is called — a stolen login
/// token must not enrol the thief's own seed.
pub async fn enable(state: &AppState, caller: &Caller, req: &HttpRequest) -> Result<Value, OpError> {
    session_required(caller, req)?;
    // Said before any challenge: a user who has TOTP would otherwise be asked for a code
    // only to hear it is already on.
    if totp::is_enabled(state, caller.id()).await? {
        return Err(totp_error(TotpError::AlreadyEnabled));
    }
    let gate = require_two_factor(state, caller, req, Options::default()).await.map_err(OpError::from)?;
    let e = totp::start_enrolment(state, caller.user(), &gate).await?.map_err(totp_error)?;
    Ok(json!({"secret": e.secret, "url": e.url}))
}

/// `2fa:validateTempToken` / `users.validateTotp`: gated like `enable`.
pub async fn validate(state: &AppState, caller: &Caller, req: &HttpRequest, code: &str) -> Result<Value, OpError> {
    session_required(caller, req)?;
    let gate = require_two_factor(state, caller, req, Options::default()).await.map_err(OpError::from)?;
    let acting = caller.acting(req);
    let codes = totp::confirm_enrolment(state, &acting, caller.user(), caller.current(), code, &gate)
        .await?
        .map_err(totp_error)?;
    log::info!("TOTP enabled for user {}", caller.id());
    Ok(json!({"codes": codes}))
}

/// Meteor's `2fa:disable` answers `false` for a wrong code rather than failing.
pub async fn disable(state: &AppState, caller: &Caller, req: &HttpRequest, code: &str) -> Result<bool, OpError> {
    session_required(caller, req)?;
    match totp::disable(state, caller.user(), code, client_addr(req).as_deref()).await? {
        Ok(()) => {
            log::info!("TOTP disabled for user {}", caller.id());
            Ok(true)
        }
        Err(TotpError::InvalidCode) => Ok(false),
        Err(e) => Err(totp_error(e)),
    }
}

pub async fn regenerate(state: &AppState, caller: &Caller, req: &HttpRequest, code: &str) -> Result<Value, OpError> {
    session_required(caller, req)?;
    let codes =
        totp::regenerate_codes(state, caller.user(), code, client_addr(req).as_deref()).await?.map_err(totp_error)?;
    Ok(json!({"codes": codes}))
}

pub async fn remaining(state: &AppState, caller: &Caller) -> Result<Value, OpError> {
    if !totp::is_enabled(state, caller.id()).await? {
        return Err(totp_error(TotpError::NotEnabled));
    }
    Ok(json!({"remaining": totp::backup_codes_remaining(state, caller.id()).await?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST users.enableTotp` (2FA-gated) → `{secret, url}`.
pub async fn rest_enable(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> RcResult<HttpResponse> {
    Ok(ok(enable(&state, &caller, &req).await?))
}

/// `POST users.validateTotp {code}` (2FA-gated) → `{codes}`.
pub async fn rest_validate(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    Ok(ok(validate(&state, &caller, &req, &b.code).await?))
}

/// `POST users.disableTotp {code}` → `{disabled}`.
pub async fn rest_disable(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    Ok(ok(json!({"disabled": disable(&state, &caller, &req, &b.code).await?})))
}

/// `POST users.regenerateTotpCodes {code}` → `{codes}`.
pub async fn rest_regenerate(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    Ok(ok(regenerate(&state, &caller, &req, &b.code).await?))
}

/// `GET users.totpCodesRemaining` → `{remaining}`.
pub async fn rest_remaining(state: web::Data<AppState>, caller: Caller) -> RcResult<HttpResponse> {
    Ok(ok(remaining(&state, &caller).await?))
}

/// `POST users.resetTOTP {userId|username|user}?` (2FA-gated, no remember window): turns
/// off the caller's TOTP, or another user's with `edit-other-user-totp`.
pub async fn rest_reset(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(params): RcBody<UserParams>,
) -> RcResult<HttpResponse> {
    if params.is_empty() {
        caller.require_login_token(&req)?;
    }
    let options = Options { disable_remember_me: true, ..Options::default() };
    let gate = require_two_factor(&state, &caller, &req, options).await?;
    let target = if params.is_empty() { caller.user().clone() } else { target::resolve(&state, &params).await? };
    if target.id == caller.id() {
        caller.require_login_token(&req)?;
    } else {
        if !caller.has(&state, "edit-other-user-totp").await? {
            return Err(RcError::meteor("error-not-allowed", "Not allowed"));
        }
        if !state.config.two_factor_enabled {
            return Err(RcError::meteor("error-two-factor-not-enabled", "Two factor authentication is not enabled"));
        }
    }
    totp::reset(&state, &caller.acting(&req), &target.id, &gate).await?;
    log::info!("users.resetTOTP: {} reset the TOTP of {}", caller.id(), target.id);
    Ok(ok(json!({})))
}
