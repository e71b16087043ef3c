//! Reading users (spec/saymon.md §4.1–4.3) and creating them (§4.4).

use super::auth::Principal;
use super::error::{SaymonError, SaymonResult};
use super::extract::{SaymonBody, user_id};
use super::views::{self, STATUS_ACTIVE, STATUS_BLOCKED};
use crate::accounts::directory::{self, UserKey};
use crate::accounts::{self, CreateUserError, PolicyViolation, UserDraft};
use crate::api::state::AppState;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// §4.1: the caller's own full user object. With an API token it is rendered once per
/// cache entry, i.e. until the next write (which may change permissions or the token).
pub async fn current(state: web::Data<AppState>, me: Principal) -> SaymonResult<HttpResponse> {
    if let Some(body) = me.cached.as_ref().and_then(|entry| entry.me_body.get()) {
        return Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body.clone()));
    }
    let doc = views::full(&directory::saymon_profile(&state, me.user.as_ref().clone()).await?);
    let body = Bytes::from(serde_json::to_vec(&doc).map_err(|_| SaymonError::Internal)?);
    if let Some(entry) = &me.cached {
        // A concurrent request may have rendered it first; both bodies are the same.
        let _ = entry.me_body.set(body.clone());
    }
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
}

/// §4.2: every user; full objects only for holders of `manage-users`.
pub async fn list(state: web::Data<AppState>, me: Principal) -> SaymonResult<HttpResponse> {
    let full = me.has(&state, "manage-users").await?;
    let profiles = directory::saymon_profiles(&state).await?;
    let docs: Vec<_> = profiles.iter().map(|p| if full { views::full(p) } else { views::limited(&p.user) }).collect();
    Ok(HttpResponse::Ok().json(docs))
}

/// §4.3: one user; full for oneself or holders of `manage-users`.
pub async fn get(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    let id = user_id(&path)?;
    let full = id == me.user.id || me.has(&state, "manage-users").await?;
    let Some(user) = directory::find(&state, UserKey::Id(id)).await? else {
        return Err(SaymonError::NotFound(format!("User {} not found", path)));
    };
    let doc = if full { views::full(&directory::saymon_profile(&state, user).await?) } else { views::limited(&user) };
    Ok(HttpResponse::Ok().json(doc))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBody {
    login: Option<String>,
    email: Option<String>,
    password: String,
    display_name: Option<String>,
    permissions: Option<Vec<String>>,
    status: Option<i64>,
}

/// Account validation failures in SAYMON's envelope (4xx; SAYMON itself answers the
/// password policy with a 500 `Internal`, which tokend does not copy).
pub fn account_error(e: CreateUserError, login: &str) -> SaymonError {
    match e {
        CreateUserError::InvalidUsername => SaymonError::BadRequest(format!("Invalid login: {login:?}")),
        CreateUserError::InvalidEmail => SaymonError::BadRequest("Invalid email".into()),
        CreateUserError::InvalidName => SaymonError::BadRequest("displayName contains invalid characters".into()),
        CreateUserError::UsernameTaken => SaymonError::Conflict(format!("Login {login:?} is already in use")),
        CreateUserError::EmailTaken => SaymonError::Conflict("Email is already in use".into()),
        CreateUserError::UnknownRole(r) => SaymonError::BadRequest(format!("Unknown role {r:?}")),
        CreateUserError::UnknownPermission(p) => SaymonError::BadRequest(format!("Unknown permission {p:?}")),
        CreateUserError::Policy(PolicyViolation::TooShort { min }) => {
            SaymonError::BadRequest(format!("Password does not match policy: minimum number of characters - {min}"))
        }
        CreateUserError::Policy(PolicyViolation::TooLong { max }) => {
            SaymonError::BadRequest(format!("Password does not match policy: maximum number of characters - {max}"))
        }
        CreateUserError::Store(e) => e.into(),
    }
}

/// `status` as SAYMON numbers it: 2 active, 3 blocked.
pub fn active_from_status(status: i64) -> SaymonResult<bool> {
    match status {
        STATUS_ACTIVE => Ok(true),
        STATUS_BLOCKED => Ok(false),
        other => Err(SaymonError::BadRequest(format!("Unsupported status {other}: use 2 (active) or 3 (blocked)"))),
    }
}

/// §4.4: needs `manage-users`. `login` may be omitted when `email` is given. The core
/// refuses permissions the caller does not hold (the privilege ceiling).
pub async fn create(
    state: web::Data<AppState>,
    me: Principal,
    SaymonBody(body): SaymonBody<CreateBody>,
) -> SaymonResult<HttpResponse> {
    me.require(&state, "manage-users").await?;
    let login = match (&body.login, &body.email) {
        (Some(l), _) if !l.is_empty() => l.clone(),
        (_, Some(email)) => email.split('@').next().unwrap_or("").to_string(),
        _ => return Err(SaymonError::BadRequest("Mandatory \"login\" parameter is absent/empty.".into())),
    };
    let active = active_from_status(body.status.unwrap_or(STATUS_ACTIVE))?;
    let permissions = body.permissions.unwrap_or_default();
    let draft = UserDraft {
        name: body.display_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| views::masked_login(&login)),
        username: login.clone(),
        email: body.email.filter(|e| !e.is_empty()),
        email_verified: false,
        password: body.password,
        active,
        roles: vec!["user".into()],
        permissions,
        ..Default::default()
    };
    let user = accounts::create_user(&state, &me.acting(), draft).await.map_err(|e| account_error(e, &login))?;
    let doc = views::full(&directory::saymon_profile(&state, user).await?);
    log::info!("saymon: {} created user {}", me.user.id, doc["id"]);
    Ok(HttpResponse::Ok().json(doc))
}

/// For handlers that answer with an empty 200.
pub fn empty() -> HttpResponse {
    HttpResponse::Ok().finish()
}
