//! TOTP management (spec §10.6): the operations behind both the Meteor methods
//! (`2fa:enable`, `2fa:validateTempToken`, `2fa:disable`, `2fa:regenerateCodes`,
//! `2fa:checkCodesRemaining`) and the newer REST routes (`users.enableTotp`, ...).

use super::caller::{Caller, LOGIN_TOKEN_REQUIRED, LOGIN_TOKEN_REQUIRED_REASON};
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::{actor, require_two_factor};
use super::session::ok;
use super::target::{self, UserParams};
use crate::accounts::totp::{self, TotpError};
use crate::auth::two_factor::Options;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// A Meteor method failure: `error` code and optional `reason`.
#[derive(Debug)]
pub enum OpError {
    Meteor(&'static str, &'static str),
    Rc(RcError),
}

impl From<crate::error::Error> for OpError {
    fn from(e: crate::error::Error) -> Self {
        OpError::Rc(e.into())
    }
}

impl From<OpError> for RcError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Meteor(code, reason) => RcError::meteor(code, reason),
            OpError::Rc(e) => e,
        }
    }
}

fn totp_error(e: TotpError) -> OpError {
    match e {
        TotpError::AlreadyEnabled => {
            OpError::Meteor("error-2fa-already-enabled", "Two-factor authentication is already enabled")
        }
        TotpError::NotEnabled | TotpError::InvalidCode => OpError::Meteor("invalid-totp", ""),
    }
}

/// Changing one's own second factor needs a login token (`Caller::require_login_token`).
const PAT_REFUSED: OpError = OpError::Meteor(LOGIN_TOKEN_REQUIRED, LOGIN_TOKEN_REQUIRED_REASON);

pub async fn enable(state: &AppState, caller: &Caller) -> Result<Value, OpError> {
    if caller.is_pat() {
        return Err(PAT_REFUSED);
    }
    let e = totp::start_enrolment(state, caller.user()).await?.map_err(totp_error)?;
    Ok(json!({"secret": e.secret, "url": e.url}))
}

pub async fn validate(state: &AppState, caller: &Caller, req: &HttpRequest, code: &str) -> Result<Value, OpError> {
    if caller.is_pat() {
        return Err(PAT_REFUSED);
    }
    let codes = totp::confirm_enrolment(state, &actor(caller, req), caller.user(), Some(caller.token_hash()), code)
        .await?
        .map_err(totp_error)?;
    log::info!("TOTP enabled for user {}", caller.id());
    Ok(json!({"codes": codes}))
}

/// Meteor's `2fa:disable` answers `false` for a wrong code rather than failing.
pub async fn disable(state: &AppState, caller: &Caller, code: &str) -> Result<bool, OpError> {
    if caller.is_pat() {
        return Err(PAT_REFUSED);
    }
    match totp::disable(state, caller.user(), code).await? {
        Ok(()) => {
            log::info!("TOTP disabled for user {}", caller.id());
            Ok(true)
        }
        Err(TotpError::InvalidCode) => Ok(false),
        Err(e) => Err(totp_error(e)),
    }
}

pub async fn regenerate(state: &AppState, caller: &Caller, code: &str) -> Result<Value, OpError> {
    if caller.is_pat() {
        return Err(PAT_REFUSED);
    }
    let codes = totp::regenerate_codes(state, caller.user(), code).await?.map_err(totp_error)?;
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
    caller.require_login_token()?;
    require_two_factor(&state, &caller, &req, Options::default()).await?;
    Ok(ok(enable(&state, &caller).await?))
}

/// `POST users.validateTotp {code}` (2FA-gated) → `{codes}`.
pub async fn rest_validate(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    caller.require_login_token()?;
    require_two_factor(&state, &caller, &req, Options::default()).await?;
    Ok(ok(validate(&state, &caller, &req, &b.code).await?))
}

/// `POST users.disableTotp {code}` → `{disabled}`.
pub async fn rest_disable(
    state: web::Data<AppState>,
    caller: Caller,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    Ok(ok(json!({"disabled": disable(&state, &caller, &b.code).await?})))
}

/// `POST users.regenerateTotpCodes {code}` → `{codes}`.
pub async fn rest_regenerate(
    state: web::Data<AppState>,
    caller: Caller,
    RcBody(b): RcBody<CodeBody>,
) -> RcResult<HttpResponse> {
    Ok(ok(regenerate(&state, &caller, &b.code).await?))
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
        caller.require_login_token()?;
    }
    require_two_factor(&state, &caller, &req, Options { disable_remember_me: true, ..Options::default() }).await?;
    let target = if params.is_empty() { caller.user().clone() } else { target::resolve(&state, &params).await? };
    if target.id == caller.id() {
        caller.require_login_token()?;
    } else {
        if !caller.has(&state, "edit-other-user-totp").await? {
            return Err(RcError::meteor("error-not-allowed", "Not allowed"));
        }
        if !state.config.two_factor_enabled {
            return Err(RcError::meteor("error-two-factor-not-enabled", "Two factor authentication is not enabled"));
        }
    }
    totp::reset(&state, &target.id).await?;
    log::info!("users.resetTOTP: {} reset the TOTP of {}", caller.id(), target.id);
    Ok(ok(json!({})))
}
