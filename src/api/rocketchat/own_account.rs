//! Self-service on one's own account: `users.updateOwnBasicInfo` (Rocket.Chat
//! `v1/users.ts` → `saveUserProfile`). The rules are the core's (`accounts::user_edit`).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::require_two_factor_or_password;
use super::session::ok;
use super::target;
use super::views;
use crate::accounts::presence::{self, STATUSES};
use crate::accounts::two_factor::Options;
use crate::accounts::user_edit::{UpdateUserError, UserUpdate, update_user};
use crate::accounts::users::CreateUserError;
use crate::api::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicInfoBody {
    data: BasicInfo,
    /// Accepted for compatibility; tokend keeps no custom fields.
    #[serde(rename = "customFields")]
    _custom_fields: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BasicInfo {
    email: Option<String>,
    name: Option<String>,
    username: Option<String>,
    nickname: Option<String>,
    bio: Option<String>,
    status_text: Option<String>,
    status_type: Option<String>,
    /// Lowercase hex SHA-256 of the current password, as Rocket.Chat's client sends it.
    current_password: Option<String>,
    new_password: Option<String>,
}

/// `POST users.updateOwnBasicInfo {data: {...}}`: a new password or address is a credential
/// change, 2FA-gated like Rocket.Chat's `saveUserProfile` (the body's `currentPassword`
/// digest standing in for the password-method code), the check never skipped (no remember
/// window, no fresh-account grace) and only with a login token; other changes are not gated.
pub async fn update_own_basic_info(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<BasicInfoBody>,
) -> RcResult<HttpResponse> {
    let d = body.data;
    let email = d.email.filter(|e| caller.user().email.as_deref() != Some(e.as_str()));
    // Rocket.Chat wraps `saveUserProfile` in `twoFactorRequired` only for an address or a
    // new password; the rest of a profile changes without a code.
    if d.new_password.is_some() || email.is_some() {
        caller.require_login_token(&req)?;
        let options = Options { disable_remember_me: true, require_second_factor: true, ..Options::default() };
        require_two_factor_or_password(&state, &caller, &req, options, d.current_password.as_deref()).await?;
    }
    let status = match d.status_type.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(wanted) => Some(STATUSES.into_iter().find(|s| *s == wanted).ok_or_else(|| {
            RcError::meteor("error-invalid-status", "Valid status types include online, away, offline, and busy.")
        })?),
    };
    if d.nickname.as_ref().is_some_and(|n| n.chars().count() > 120) {
        return Err(profile_error("error-nickname-size-exceeded", "Nickname size exceeds 120 characters"));
    }
    if d.bio.as_ref().is_some_and(|b| b.chars().count() > 260) {
        return Err(profile_error("error-bio-size-exceeded", "Bio size exceeds 260 characters"));
    }
    let (username, shown_email) = (d.username.clone().unwrap_or_default(), email.clone().unwrap_or_default());
    let change = UserUpdate {
        username: d.username,
        name: d.name,
        email,
        password: d.new_password.filter(|p| !p.is_empty()),
        nickname: d.nickname,
        bio: d.bio,
        status_text: d.status_text.map(|t| presence::clean_status_text(&t)),
        ..UserUpdate::default()
    };
    let acting = caller.acting(&req);
    let user = update_user(&state, &acting, caller.id(), change).await.map_err(|e| match e {
        UpdateUserError::NotFound => RcError::failure("User not found"),
        UpdateUserError::LastAdmin => RcError::meteor("error-admin-required", "You need to have at least one admin"),
        UpdateUserError::Create(e) => own_change_error(e, &username, &shown_email),
    })?;
    if status.is_some() {
        presence::set_status(&state, &acting, caller.id(), status, None).await?;
    }
    log::info!("users.updateOwnBasicInfo: user {} updated their profile", caller.id());
    let mut user = user;
    if let Some(s) = status {
        user.status = Some(s.to_string());
    }
    Ok(ok(json!({"user": views::user_document(&user, true)})))
}

/// A refusal of `saveUserProfile` itself, which names the method in `details`.
fn profile_error(code: &str, reason: &str) -> RcError {
    RcError::meteor_with_details(code, reason, json!({"method": "saveUserProfile"}))
}

/// Rocket.Chat's words for a refused own change, which differ from `users.update`'s:
/// `saveUserProfile` sets the username through `saveUserIdentity` (a taken or invalid name
/// is only "could not save"), and the address through `setEmail` (`function` details).
fn own_change_error(err: CreateUserError, username: &str, email: &str) -> RcError {
    match err {
        CreateUserError::UsernameTaken | CreateUserError::InvalidUsername => {
            profile_error("error-could-not-save-identity", "Could not save user identity")
        }
        CreateUserError::EmailTaken => RcError::meteor_with_details(
            "error-field-unavailable",
            &format!("{email} is already in use :("),
            json!({"function": "_setEmail", "field": email}),
        ),
        CreateUserError::InvalidEmail => RcError::meteor_with_details(
            "error-invalid-email",
            &format!("Invalid email {email}"),
            json!({"function": "RocketChat.validateEmailDomain", "email": email}),
        ),
        other => target::create_error(other, username, email),
    }
}
