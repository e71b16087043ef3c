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
        return Err(RcError::action_not_allowed("Adding user is not allowed"));
    }
    // Missing or empty `roles` means the default roles, as in Rocket.Chat's `saveNewUser`.
    let roles = body.roles.filter(|r| !r.is_empty()).unwrap_or_else(|| vec!["user".to_string()]);
    check_role_assignment(&state, &caller, &roles).await?;
    for (value, field) in [(&body.name, "Name"), (&body.username, "Username")] {
        if value.trim().is_empty() {
            return Err(RcError::meteor("error-the-field-is-required", &format!("The field {field} is required")));
        }
    }
    let random_password = body.set_random_password == Some(true);
    if body.password.is_empty() && !random_password {
        return Err(RcError::meteor("error-the-field-is-required", "The field Password is required"));
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
        return Err(RcError::action_not_allowed("The field Roles consist invalid role id"));
    }
    if wanted.iter().any(|r| r == "admin") && !caller.has(state, "assign-admin-role").await? {
        return Err(RcError::action_not_allowed("Assigning admin is not allowed"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoQuery {
    #[serde(flatten)]
    target: UserParams,
    import_id: Option<String>,
}

/// §9.3: limited fields for others unless the caller holds `view-full-other-user-info`.
pub async fn info(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<InfoQuery>,
) -> RcResult<HttpResponse> {
    if q.target.is_empty() {
        // tokend imports nothing, so an importId can match no one.
        return Err(RcError::failure(if q.import_id.is_some() { "User not found." } else { "Invalid search query." }));
    }
    let user = target::resolve(&state, &q.target).await.map_err(|_| RcError::failure("User not found."))?;
    let is_self = user.id == caller.id();
    let can_view_all = caller.has(&state, "view-full-other-user-info").await?;
    Ok(ok(json!({"user": views::user_info(&user, can_view_all, is_self)})))
}

#[derive(Deserialize)]
pub struct ListQuery {
    count: Option<String>,
    offset: Option<String>,
    sort: Option<String>,
    query: Option<String>,
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

/// Parses `sort` (§1.5): a JSON object of known fields to 1 or -1.
fn sort_order(raw: Option<&str>) -> RcResult<Vec<(&'static str, bool)>> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(vec![("u.username", true)]);
    };
    let invalid = || RcError::meteor("error-invalid-sort", &format!("Invalid sort parameter provided: \"{raw}\""));
    let Ok(Value::Object(fields)) = crate::api::strict_json::parse_json(raw.as_bytes()) else {
        return Err(invalid());
    };
    fields
        .iter()
        .map(|(field, dir)| match (directory::sort_column(field), dir.as_i64()) {
            (Some(col), Some(1)) => Ok((col, true)),
            (Some(col), Some(-1)) => Ok((col, false)),
            _ => Err(invalid()),
        })
        .collect()
}

/// §9.4: needs `view-d-room`; privileged callers see the full projection.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<ListQuery>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "view-d-room").await?;
    if q.query.is_some() {
        return Err(RcError::meteor(
            "error-invalid-query",
            "The \"query\" parameter is not supported; use sort, count and offset",
        ));
    }
    let (offset, limit) = pagination(q.count.as_deref(), q.offset.as_deref())?;
    let order = sort_order(q.sort.as_deref())?;
    let privileged = caller.has(&state, "view-full-other-user-info").await?;
    let (page, total) = directory::page(&state, order, offset, limit).await?;
    let docs: Vec<Value> = page.iter().map(|u| views::user_document(u, privileged)).collect();
    Ok(ok(json!({"users": docs, "count": docs.len(), "offset": offset, "total": total})))
}
