//! Reading and creating users: `users.create`, `users.info`, `users.list` (spec §9.2–9.4).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{RcBody, RcQuery};
use super::session::ok;
use super::target::{self, UserParams};
use super::views;
use crate::accounts::directory;
use crate::accounts::{self, UserDraft, roles};
use crate::api::state::AppState;
use crate::auth::random;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    email: String,
    name: String,
    password: String,
    username: String,
    active: Option<bool>,
    bio: Option<String>,
    nickname: Option<String>,
    status_text: Option<String>,
    roles: Option<Vec<String>>,
    require_password_change: Option<bool>,
    set_random_password: Option<bool>,
    verified: Option<bool>,
    // Accepted for compatibility; tokend has no channels, e-mail templates or custom fields.
    #[serde(rename = "joinDefaultChannels")]
    _join_default_channels: Option<bool>,
    #[serde(rename = "sendWelcomeEmail")]
    _send_welcome_email: Option<bool>,
    #[serde(rename = "customFields")]
    _custom_fields: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "settings")]
    _settings: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "fields")]
    _fields: Option<String>,
}

/// §9.2: checks in Rocket.Chat's order (name characters, permission, roles, required
/// fields), then the shared account validation; the core applies the privilege ceiling to
/// what the new account holds. Not 2FA-gated: Rocket.Chat 7.x and 8.x are not.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<CreateBody>,
) -> RcResult<HttpResponse> {
    if !body.name.is_empty() && !crate::auth::ids::is_valid_display_name(&body.name) {
        return Err(RcError::failure("Name contains invalid characters"));
    }
    if !caller.has(&state, "create-user").await? {
        return Err(target::save_user_not_allowed("Adding user is not allowed", "Adding_user"));
    }
    // Missing or empty `roles` means the default roles, as in Rocket.Chat's `saveNewUser`.
    let roles = body.roles.filter(|r| !r.is_empty()).unwrap_or_else(|| vec!["user".to_string()]);
    check_role_assignment(&state, &caller, &roles).await?;
    for (value, field) in [(&body.name, "Name"), (&body.username, "Username")] {
        if value.trim().is_empty() {
            return Err(target::field_required(field));
        }
    }
    let random_password = body.set_random_password == Some(true);
    if body.password.is_empty() && !random_password {
        return Err(target::field_required("Password"));
    }
    let (username, email) = (body.username.clone(), body.email.clone());
    let draft = UserDraft {
        username: body.username,
        name: body.name,
        email: Some(body.email).filter(|e| !e.is_empty()),
        email_verified: body.verified.unwrap_or(false),
        password: if random_password { random::id_of_length(24) } else { body.password },
        active: body.active.unwrap_or(true),
        roles,
        require_password_change: body.require_password_change.unwrap_or(false) || random_password,
        nickname: body.nickname,
        bio: body.bio,
        status_text: body.status_text,
        permissions: Vec::new(),
    };
    let user = accounts::create_user(&state, &caller.acting(&req), draft)
        .await
        .map_err(|e| target::create_error(e, &username, &email))?;
    log::info!("users.create: {} created user {} ({})", caller.id(), user.id, user.username.escape_debug());
    let privileged = caller.has(&state, "view-full-other-user-info").await?;
    Ok(ok(json!({"user": views::user_document(&user, privileged)})))
}

/// Roles must exist, and `admin` needs `assign-admin-role` (Rocket.Chat's `validateUserData`).
pub async fn check_role_assignment(state: &AppState, caller: &Caller, wanted: &[String]) -> RcResult<()> {
    if !roles::all_exist(state, wanted).await? {
        return Err(target::invalid_role());
    }
    if wanted.iter().any(|r| r == "admin") && !caller.has(state, "assign-admin-role").await? {
        return Err(target::save_user_not_allowed("Assigning admin is not allowed", "Assign_admin"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoQuery {
    #[serde(flatten)]
    target: UserParams,
    import_id: Option<String>,
    email: Option<String>,
}

/// Rocket.Chat 8.4 added `users.info?email=`; older versions ignore the parameter.
fn looks_up_by_email(rc_version: &str) -> bool {
    let mut parts = rc_version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (8, 4)
}

/// §9.3: limited fields for others unless the caller holds `view-full-other-user-info`.
pub async fn info(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<InfoQuery>,
) -> RcResult<HttpResponse> {
    let can_view_all = caller.has(&state, "view-full-other-user-info").await?;
    let email = q.email.filter(|e| !e.trim().is_empty() && looks_up_by_email(&state.config.rc_version));
    if let (true, Some(email)) = (q.target.is_empty(), email) {
        // Beyond Rocket.Chat: only those who may see others' addresses learn whether an
        // address has an account; anyone else finds only themself this way.
        let found = directory::find(&state, directory::UserKey::Email(email.trim().to_string())).await?;
        let user =
            found.filter(|u| can_view_all || u.id == caller.id()).ok_or_else(|| RcError::failure("User not found."))?;
        let is_self = user.id == caller.id();
        return Ok(ok(json!({"user": views::user_info(&user, can_view_all, is_self)})));
    }
    if q.target.is_empty() {
        // tokend imports nothing, so an importId can match no one.
        return Err(RcError::failure(if q.import_id.is_some() { "User not found." } else { "Invalid search query." }));
    }
    let user = target::resolve(&state, &q.target).await.map_err(|_| RcError::failure("User not found."))?;
    let is_self = user.id == caller.id();
    Ok(ok(json!({"user": views::user_info(&user, can_view_all, is_self)})))
}

#[derive(Deserialize)]
pub struct ListQuery {
    count: Option<String>,
    offset: Option<String>,
    sort: Option<String>,
    #[serde(rename = "query")]
    _query: Option<String>,
    #[serde(rename = "fields")]
    _fields: Option<String>,
}

/// Parses `count`/`offset` (§1.5): count defaults to 50, is capped at 100; 0 means all.
pub fn pagination(count: Option<&str>, offset: Option<&str>) -> RcResult<(i64, Option<i64>)> {
    let number = |name: &str, raw: Option<&str>| -> RcResult<Option<i64>> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| RcError::invalid_params(&format!("'{name}' must be a non-negative integer"))),
        }
    };
    let limit = match number("count", count)? {
        None => Some(50),
        Some(0) => None,
        Some(n) => Some(n.min(100)),
    };
    Ok((number("offset", offset)?.unwrap_or(0), limit))
}

/// Parses `sort` (§1.5): a JSON object of fields to 1 or -1. As in Rocket.Chat (errata 5),
/// any key is accepted: `status` sorts by `active`, a field tokend does not keep is ignored.
fn sort_order(raw: Option<&str>) -> RcResult<Vec<(&'static str, bool)>> {
    let default = vec![("u.username", true)];
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(default);
    };
    let invalid = || RcError::meteor("error-invalid-sort", &format!("Invalid sort parameter provided: \"{raw}\""));
    let Ok(Value::Object(fields)) = crate::api::strict_json::parse_json(raw.as_bytes()) else {
        return Err(invalid());
    };
    let mut order = Vec::new();
    for (field, dir) in &fields {
        let ascending = match dir.as_i64() {
            Some(1) => true,
            Some(-1) => false,
            _ => return Err(invalid()),
        };
        let field = if field == "status" { "active" } else { field.as_str() };
        if let Some(col) = directory::sort_column(field) {
            order.push((col, ascending));
        }
    }
    Ok(if order.is_empty() { default } else { order })
}

/// §9.4: needs `view-d-room`. `query` and `fields` are accepted and ignored, as Rocket.Chat
/// 7.x/8.x do unless run with `ALLOW_UNSAFE_QUERY_AND_FIELDS_API_PARAMS` (errata 5).
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<ListQuery>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "view-d-room").await?;
    let (offset, limit) = pagination(q.count.as_deref(), q.offset.as_deref())?;
    let order = sort_order(q.sort.as_deref())?;
    let privileged = caller.has(&state, "view-full-other-user-info").await?;
    let (page, total) = directory::page(&state, order, offset, limit).await?;
    let docs: Vec<Value> = page.iter().map(|u| views::list_entry(u, privileged)).collect();
    Ok(ok(json!({"users": docs, "count": docs.len(), "offset": offset, "total": total})))
}
