//! Roles: `roles.list`, `roles.create`, `roles.addUserToRole`, `roles.removeUserFromRole`,
//! `roles.getUsersInRole` (spec §11.4–11.6).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{RcBody, RcQuery, decode};
use super::session::ok;
use super::target::{self, UserParams};
use super::users::pagination;
use super::views;
use crate::accounts::RoleRecord;
use crate::accounts::roles::{self, MembershipError};
use crate::api::state::AppState;
use crate::auth::random;
use crate::clock::now_ms;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// §11.4: every role.
pub async fn list(state: web::Data<AppState>, _caller: Caller) -> RcResult<HttpResponse> {
    let all = roles::list(&state).await?;
    let docs: Vec<Value> = all.iter().map(views::role_document).collect();
    Ok(ok(json!({"roles": docs})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateBody {
    name: String,
    description: Option<String>,
    scope: Option<String>,
    mandatory2fa: Option<bool>,
}

/// §11.5 (an enterprise feature upstream; always available here).
pub async fn create(state: web::Data<AppState>, caller: Caller, RcBody(body): RcBody<Value>) -> RcResult<HttpResponse> {
    let invalid = || RcError::meteor("error-invalid-role-properties", "The role properties are invalid.");
    let body: CreateBody = decode(body).map_err(|_| invalid())?;
    let scope = body.scope.unwrap_or_else(|| "Users".into());
    if !roles::is_valid_name(&body.name) || !(scope == "Users" || scope == "Subscriptions") {
        return Err(invalid());
    }
    if !caller.has(&state, "access-permissions").await? {
        return Err(RcError::action_not_allowed("Accessing permissions is not allowed"));
    }
    let role = RoleRecord {
        id: random::id_of_length(17),
        name: body.name,
        description: body.description.unwrap_or_default(),
        scope,
        protected: false,
        mandatory_2fa: body.mandatory2fa,
        updated_at: now_ms(),
    };
    if !roles::create(&state, role.clone()).await? {
        return Err(RcError::meteor("error-duplicate-role-names-not-allowed", "Role name already exists"));
    }
    log::info!("roles.create: {} created role {}", caller.id(), role.id);
    Ok(ok(json!({"role": views::role_document(&role)})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembershipBody {
    role_id: Option<String>,
    role_name: Option<String>,
    user_id: Option<String>,
    username: Option<String>,
    user: Option<String>,
    #[serde(rename = "roomId")]
    _room_id: Option<String>,
    #[serde(rename = "scope")]
    _scope: Option<String>,
}

impl MembershipBody {
    fn role(&self) -> String {
        self.role_id.clone().or_else(|| self.role_name.clone()).unwrap_or_default()
    }
    fn target(&self) -> UserParams {
        UserParams { user_id: self.user_id.clone(), username: self.username.clone(), user: self.user.clone() }
    }
}

/// §11.6, in the newest handler's order: user, role id, role, membership, then permissions;
/// the core applies the privilege ceiling to the target and to what it then holds.
pub async fn add_user_to_role(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    let body: MembershipBody = decode(body)?;
    let user = target::resolve(&state, &body.target()).await?;
    let role_key = body.role();
    if role_key.is_empty() {
        return Err(RcError::failure("error-invalid-role-properties"));
    }
    let Some(role) = roles::find(&state, &role_key).await? else {
        return Err(RcError::failure_typed("error-role-not-found", "Role not found"));
    };
    if roles::user_has_role(&state, &user.id, &role.id).await? {
        return Err(already_in_role());
    }
    if !caller.has(&state, "access-permissions").await? {
        return Err(RcError::action_not_allowed("Accessing permissions is not allowed"));
    }
    if role.id == "admin" && !caller.has(&state, "assign-admin-role").await? {
        return Err(RcError::action_not_allowed("Assigning admin is not allowed"));
    }
    if role.scope == "Subscriptions" {
        // A room-scoped role is held per subscription; tokend has no rooms, so nobody is part
        // of the given room. Granting it globally would widen its permissions to everywhere.
        return Err(RcError::meteor("error-invalid-user", "User is not part of given room"));
    }
    roles::add_user(&state, &caller.acting(&req), &user.id, &role.id).await?.map_err(|_| already_in_role())?;
    log::info!("roles.addUserToRole: {} added {} to {}", caller.id(), user.id, role.id);
    Ok(ok(json!({"role": views::role_document(&role)})))
}

fn already_in_role() -> RcError {
    RcError::meteor("error-user-already-in-role", "User already in role")
}

/// §11.6 related: needs `access-permissions`; the core applies the privilege ceiling and
/// keeps the last active admin in the role.
pub async fn remove_user_from_role(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "access-permissions").await?;
    let body: MembershipBody = decode(body)?;
    let role_key = body.role();
    if role_key.is_empty() {
        return Err(RcError::failure("error-invalid-role-properties"));
    }
    let user = target::resolve(&state, &body.target())
        .await
        .map_err(|_| RcError::meteor("error-invalid-user", "There is no user with this username"))?;
    let Some(role) = roles::find(&state, &role_key).await? else {
        return Err(RcError::meteor("error-invalid-roleId", "This role does not exist"));
    };
    match roles::remove_user(&state, &caller.acting(&req), &user.id, &role.id).await? {
        Ok(()) => {}
        Err(MembershipError::NotInRole | MembershipError::AlreadyInRole) => {
            return Err(RcError::meteor("error-user-not-in-role", "User is not in this role"));
        }
    }
    log::info!("roles.removeUserFromRole: {} removed {} from {}", caller.id(), user.id, role.id);
    Ok(ok(json!({"role": views::role_document(&role)})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersInRoleQuery {
    role: Option<String>,
    room_id: Option<String>,
    count: Option<String>,
    offset: Option<String>,
}

/// §11.6 related: members of a role, paginated; needs `access-permissions`.
pub async fn get_users_in_role(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<UsersInRoleQuery>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "access-permissions").await?;
    let Some(role_key) = q.role.filter(|r| !r.is_empty()) else {
        return Err(RcError::meteor("error-param-not-provided", "Query param \"role\" is required"));
    };
    if q.room_id.is_some() && !caller.has(&state, "view-other-user-channels").await? {
        return Err(RcError::meteor("error-not-allowed", "Not allowed"));
    }
    let (offset, limit) = pagination(q.count.as_deref(), q.offset.as_deref())?;
    let found = roles::members(&state, &role_key, offset, limit).await?;
    let Some((members, total)) = found else {
        return Err(RcError::meteor("error-invalid-roleId", ""));
    };
    let docs: Vec<Value> = members.iter().map(views::role_member).collect();
    Ok(ok(json!({"users": docs, "total": total})))
}
