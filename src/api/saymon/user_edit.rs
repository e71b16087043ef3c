//! Changing users: `PATCH` and `DELETE /node/api/users/:id` and
//! `PUT /node/api/users/:id/password` (spec/saymon.md §4.5–4.7).

use super::auth::Principal;
use super::error::{SaymonError, SaymonResult};
use super::extract::{SaymonBody, user_id};
use super::users::{account_error, active_from_status, empty};
use super::views;
use crate::accounts::directory;
use crate::accounts::user_edit::{UpdateUserError, UserUpdate, delete_user, update_user};
use crate::accounts::{LoginName, PasswordCheck, check_password};
use crate::api::state::AppState;
use crate::auth::password::PasswordDigest;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// Fields a PATCH may change. Anything else (`activeTo`, `objectPermissions`, `password`...)
/// is refused by name rather than silently dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchBody {
    login: Option<String>,
    email: Option<String>,
    display_name: Option<String>,
    permissions: Option<Vec<String>>,
    status: Option<i64>,
}

fn update_error(e: UpdateUserError, id: &str, login: &str) -> SaymonError {
    match e {
        UpdateUserError::NotFound => SaymonError::NotFound(format!("User {id} not found")),
        UpdateUserError::LastAdmin => SaymonError::BadRequest("At least one active admin must remain".into()),
        UpdateUserError::Create(e) => account_error(e, login),
    }
}

/// §4.5: needs `manage-users`; answers the updated user. The core applies the privilege
/// ceiling to the target and to the permissions it ends up with.
pub async fn patch(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<String>,
    SaymonBody(body): SaymonBody<PatchBody>,
) -> SaymonResult<HttpResponse> {
    me.require(&state, "manage-users").await?;
    let id = user_id(&path)?;
    let login = body.login.clone().unwrap_or_default();
    let change = UserUpdate {
        username: body.login,
        email: body.email,
        name: body.display_name,
        permissions: body.permissions,
        active: body.status.map(active_from_status).transpose()?,
        ..Default::default()
    };
    let user = update_user(&state, &me.acting(), &id, change).await.map_err(|e| update_error(e, &id, &login))?;
    log::info!("saymon: {} updated user {}", me.user.id, user.id);
    let doc = views::full(&directory::saymon_profile(&state, user).await?);
    Ok(HttpResponse::Ok().json(doc))
}

/// §4.6: needs `manage-users`; the user's credentials go with it.
pub async fn delete(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    me.require(&state, "manage-users").await?;
    let id = user_id(&path)?;
    match delete_user(&state, &me.acting(), &id).await {
        Ok(true) => {
            log::info!("saymon: {} deleted user {id}", me.user.id);
            Ok(empty())
        }
        Ok(false) => Err(SaymonError::NotFound(format!("User {id} not found"))),
        Err(e) => Err(update_error(e, &id, "")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordBody {
    current_password: Option<String>,
    new_password: String,
}

/// §4.7: one's own password with `currentPassword` (a secret check, so on the budget);
/// anyone's with `manage-users`, under the privilege ceiling. Revocation: the core's
/// password-change policy.
pub async fn set_password(
    state: web::Data<AppState>,
    me: Principal,
    path: web::Path<String>,
    SaymonBody(body): SaymonBody<PasswordBody>,
) -> SaymonResult<HttpResponse> {
    let id = user_id(&path)?;
    if id == me.user.id {
        let Some(current) = body.current_password.filter(|p| !p.is_empty()) else {
            return Err(SaymonError::BadRequest("Mandatory \"currentPassword\" parameter is absent/empty.".into()));
        };
        let digest = PasswordDigest::of_plaintext(&current);
        let check = check_password(&state, LoginName::Id(id.clone()), digest, me.client_addr()).await?;
        if let PasswordCheck::Blocked(_) = check {
            return Err(SaymonError::TooManyFailedLogins);
        }
        if !matches!(check, PasswordCheck::Valid(_)) {
            return Err(SaymonError::BadRequest("The current password is not correct".into()));
        }
    } else {
        me.require(&state, "manage-users").await?;
    }
    let change = UserUpdate { password: Some(body.new_password), ..Default::default() };
    update_user(&state, &me.acting(), &id, change).await.map_err(|e| update_error(e, &id, ""))?;
    log::info!("saymon: {} changed the password of user {id}", me.user.id);
    Ok(empty())
}
