//! Changing and removing users: `users.update`, `users.setActiveStatus`, `users.delete`
//! (spec §9.5–9.7).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::require_two_factor;
use super::session::ok;
use super::target::{self, UserParams};
use super::users::check_role_assignment;
use super::views;
use crate::accounts::directory::{self, UserKey};
use crate::accounts::two_factor::Options;
use crate::accounts::user_edit::{UpdateUserError, UserUpdate, delete_user, update_user};
use crate::api::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateBody {
    user_id: String,
    data: UpdateData,
    #[serde(rename = "confirmRelinquish")]
    _confirm_relinquish: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateData {
    email: Option<String>,
    name: Option<String>,
    password: Option<String>,
    username: Option<String>,
    active: Option<bool>,
    bio: Option<String>,
    nickname: Option<String>,
    status_text: Option<String>,
    roles: Option<Vec<String>>,
    require_password_change: Option<bool>,
    verified: Option<bool>,
    // Accepted for compatibility; tokend has no channels, e-mail templates or custom fields.
    #[serde(rename = "joinDefaultChannels")]
    _join_default_channels: Option<bool>,
    #[serde(rename = "setRandomPassword")]
    _set_random_password: Option<bool>,
    #[serde(rename = "sendWelcomeEmail")]
    _send_welcome_email: Option<bool>,
    #[serde(rename = "customFields")]
    _custom_fields: Option<Map<String, Value>>,
    #[serde(rename = "status")]
    _status: Option<String>,
}

impl UpdateData {
    fn changes_only_the_password(&self) -> bool {
        let profile = [&self.email, &self.name, &self.username, &self.bio, &self.nickname, &self.status_text];
        self.password.is_some()
            && profile.iter().all(|f| f.is_none())
            && self.active.is_none()
            && self.roles.is_none()
            && self.verified.is_none()
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

fn last_admin() -> RcError {
    RcError::meteor("error-admin-required", "You need to have at least one admin")
}

/// §9.5: own profile freely; others' need `edit-other-user-info` (or only
/// `edit-other-user-password` for a password-only change); roles need `assign-roles`.
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<UpdateBody>,
) -> RcResult<HttpResponse> {
    let mut d = body.data;
    let is_self = body.user_id == caller.id();
    // One's own password and e-mail are credentials: a PAT cannot change them (the core's
    // rule, answered before the 2FA challenge).
    if is_self && (d.password.is_some() || d.email.is_some()) {
        caller.require_login_token(&req)?;
    }
    // `twoFactorRequired: true` (§9.5): after body validation, before any other check.
    require_two_factor(&state, &caller, &req, Options::default()).await?;
    // Clients often send the whole user back: an unchanged role list or active flag is
    // not a change and needs no permission (as in Rocket.Chat).
    if let Some(current) = directory::find(&state, UserKey::Id(body.user_id.clone())).await? {
        if d.roles.as_ref().is_some_and(|r| same_set(r, &current.roles)) {
            d.roles = None;
        }
        if d.active == Some(current.active) {
            d.active = None;
        }
    }
    let password_only = d.changes_only_the_password();
    if !is_self {
        let allowed = caller.has(&state, "edit-other-user-info").await?
            || (password_only && caller.has(&state, "edit-other-user-password").await?);
        if !allowed {
            return Err(target::save_user_not_allowed("Editing user is not allowed", "Editing_user"));
        }
        if d.password.is_some() && !caller.has(&state, "edit-other-user-password").await? {
            return Err(target::save_user_not_allowed("Edit user password is not allowed", "Edit_user_password"));
        }
    }
    if let Some(roles) = &d.roles {
        if !caller.has(&state, "assign-roles").await? {
            return Err(target::save_user_not_allowed("Assign roles is not allowed", "Assign_role"));
        }
        check_role_assignment(&state, &caller, roles).await?;
    }
    if d.active.is_some() && !caller.has(&state, "edit-other-user-active-status").await? {
        return Err(target::save_user_not_allowed("Edit user status is not allowed", "Edit_user_status"));
    }
    if d.nickname.as_ref().is_some_and(|n| n.chars().count() > 120) {
        return Err(RcError::meteor("error-nickname-size-exceeded", "Nickname size exceeds 120 characters"));
    }
    if d.bio.as_ref().is_some_and(|b| b.chars().count() > 260) {
        return Err(RcError::meteor("error-bio-size-exceeded", "Bio size exceeds 260 characters"));
    }
    let username = d.username.clone().unwrap_or_default();
    let email = d.email.clone().unwrap_or_default();
    let change = UserUpdate {
        username: d.username,
        name: d.name,
        email: d.email,
        verified: d.verified,
        password: d.password,
        active: d.active,
        roles: d.roles,
        nickname: d.nickname,
        bio: d.bio,
        status_text: d.status_text,
        require_password_change: d.require_password_change,
        permissions: None,
    };
    let user = update_user(&state, &caller.acting(&req), &body.user_id, change).await.map_err(|e| match e {
        UpdateUserError::NotFound => RcError::failure("User not found"),
        UpdateUserError::LastAdmin => last_admin(),
        UpdateUserError::Create(e) => target::create_error(e, &username, &email),
    })?;
    log::info!("users.update: {} updated user {}", caller.id(), user.id);
    let privileged = is_self || caller.has(&state, "view-full-other-user-info").await?;
    Ok(ok(json!({"user": views::user_document(&user, privileged)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActiveStatusBody {
    user_id: String,
    active_status: bool,
    #[serde(rename = "confirmRelinquish")]
    _confirm_relinquish: Option<bool>,
}

/// §9.6: needs `edit-other-user-active-status`; deactivation revokes every token.
pub async fn set_active_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<ActiveStatusBody>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "edit-other-user-active-status").await?;
    let change = UserUpdate { active: Some(body.active_status), ..Default::default() };
    let user = update_user(&state, &caller.acting(&req), &body.user_id, change).await.map_err(|e| match e {
        UpdateUserError::NotFound => target::user_not_found(),
        UpdateUserError::LastAdmin => last_admin(),
        UpdateUserError::Create(e) => target::create_error(e, "", ""),
    })?;
    log::info!("users.setActiveStatus: {} set user {} active={}", caller.id(), user.id, user.active);
    Ok(ok(json!({"user": {"_id": user.id, "active": user.active}})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteBody {
    user_id: Option<String>,
    username: Option<String>,
    user: Option<String>,
    #[serde(rename = "confirmRelinquish")]
    _confirm_relinquish: Option<bool>,
}

/// §9.7: needs `delete-user`; the user's tokens and role links go with it.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<DeleteBody>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "delete-user").await?;
    let params = UserParams { user_id: body.user_id, username: body.username, user: body.user };
    let user = target::resolve(&state, &params).await?;
    match delete_user(&state, &caller.acting(&req), &user.id).await {
        Ok(true) => {
            log::info!("users.delete: {} deleted user {}", caller.id(), user.id);
            Ok(ok(json!({})))
        }
        Ok(false) => Err(target::user_not_found()),
        Err(UpdateUserError::LastAdmin) => Err(last_admin()),
        Err(UpdateUserError::NotFound) => Err(target::user_not_found()),
        Err(UpdateUserError::Create(e)) => Err(target::create_error(e, "", "")),
    }
}
