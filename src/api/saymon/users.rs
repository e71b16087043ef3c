//! Reading users (spec/saymon.md §4.1–4.3) and creating them (§4.4).

use super::auth::Principal;
use super::error::{SaymonError, SaymonResult};
use super::extract::{SaymonBody, user_id};
use super::views::{self, STATUS_ACTIVE, STATUS_BLOCKED};
use crate::accounts::{self, CreateUserError, PolicyViolation, UserDraft};
use crate::db::{roles, users};
use crate::state::AppState;
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
    let user = me.user.clone();
    let doc = state.db.read(move |c| views::full(c, &user)).await?;
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
    let docs = state
        .db
        .read(move |c| {
            let (all, _) = users::page(c, &[("u.username", true)], 0, None)?;
            all.iter()
                .map(|u| if full { views::full(c, u) } else { Ok(views::limited(u)) })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(docs))
}

/// §4.3: one user; full for oneself or holders of `manage-users`.
pub async fn get(state: web::Data<AppState>, me: Principal, path: web::Path<String>) -> SaymonResult<HttpResponse> {
    let id = user_id(&path)?;
    let full = id == me.user.id || me.has(&state, "manage-users").await?;
    let doc = state
        .db
        .read(move |c| match users::find_by_id(c, &id)? {
            Some(u) if full => views::full(c, &u).map(Some),
            Some(u) => Ok(Some(views::limited(&u))),
            None => Ok(None),
        })
        .await?;
    doc.map(|d| HttpResponse::Ok().json(d)).ok_or_else(|| SaymonError::NotFound(format!("User {} not found", path)))
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
        CreateUserError::Policy(PolicyViolation::TooShort { min }) => {
            SaymonError::BadRequest(format!("Password does not match policy: minimum number of characters - {min}"))
        }
        CreateUserError::Policy(PolicyViolation::TooLong { max }) => {
            SaymonError::BadRequest(format!("Password does not match policy: maximum number of characters - {max}"))
        }
        CreateUserError::Store(e) => e.into(),
    }
}

/// Permissions to grant directly must exist, and (privilege ceiling) the caller must hold
/// each of them.
pub async fn check_grantable(state: &AppState, me: &Principal, wanted: &[String]) -> SaymonResult<()> {
    let (wanted, id) = (wanted.to_vec(), me.user.id.clone());
    let (unknown, missing) = state
        .db
        .read(move |c| {
            let mine = roles::permissions_of_user(c, &id)?;
            let mut unknown = None;
            for p in &wanted {
                if !roles::permission_exists(c, p)? {
                    unknown = Some(p.clone());
                    break;
                }
            }
            Ok((unknown, wanted.iter().find(|p| !mine.contains(p)).cloned()))
        })
        .await?;
    if let Some(p) = unknown {
        return Err(SaymonError::BadRequest(format!("Unknown permission {p:?}")));
    }
    if let Some(p) = missing {
        return Err(SaymonError::Forbidden(format!("You cannot grant the permission {p:?}, which you do not hold")));
    }
    Ok(())
}

/// `status` as SAYMON numbers it: 2 active, 3 blocked.
pub fn active_from_status(status: i64) -> SaymonResult<bool> {
    match status {
        STATUS_ACTIVE => Ok(true),
        STATUS_BLOCKED => Ok(false),
        other => Err(SaymonError::BadRequest(format!("Unsupported status {other}: use 2 (active) or 3 (blocked)"))),
    }
}

/// §4.4: needs `manage-users`. `login` may be omitted when `email` is given.
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
    check_grantable(&state, &me, &permissions).await?;
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
    let user = accounts::create_user(&state, draft).await.map_err(|e| account_error(e, &login))?;
    let doc = state.db.read(move |c| views::full(c, &user)).await?;
    log::info!("saymon: {} created user {}", me.user.id, doc["id"]);
    Ok(HttpResponse::Ok().json(doc))
}

/// For handlers that answer with an empty 200.
pub fn empty() -> HttpResponse {
    HttpResponse::Ok().finish()
}
