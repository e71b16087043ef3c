//! `permissions.listAll` and `permissions.update` (spec §11.2, §11.3).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{RcBody, RcQuery, decode};
use super::session::ok;
use super::views;
use crate::accounts::roles::{self, PermissionUpdateError};
use crate::api::state::AppState;
use crate::clock::parse_iso;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAllQuery {
    updated_since: Option<String>,
}

fn parse_since(raw: &str) -> Option<crate::clock::Millis> {
    let is_bare_date = raw.len() == 10 && raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-';
    if is_bare_date { parse_iso(&format!("{raw}T00:00:00Z")) } else { parse_iso(raw) }
}

/// §11.2: every permission with its roles; with `updatedSince`, only those changed after it.
pub async fn list_all(
    state: web::Data<AppState>,
    _caller: Caller,
    RcQuery(q): RcQuery<ListAllQuery>,
) -> RcResult<HttpResponse> {
    // An empty value is no filter, as in Rocket.Chat (`if (updatedSince)`); a bare date
    // means its midnight UTC, as JavaScript's `Date.parse` reads it.
    let since = match q.updated_since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(parse_since(raw).ok_or_else(|| {
            RcError::meteor("error-roomId-param-invalid", "The \"updatedSince\" query parameter must be a valid date.")
        })?),
    };
    let all = roles::list_permissions(&state, since).await?;
    let update: Vec<Value> = all.iter().map(views::permission_document).collect();
    Ok(ok(json!({"update": update, "remove": []})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    permissions: Vec<PermissionChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionChange {
    #[serde(rename = "_id")]
    id: String,
    roles: Vec<String>,
}

/// §11.3: needs `access-permissions`; all changes are validated, then applied together. The
/// core lets a caller edit only permissions they hold (the privilege ceiling).
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "access-permissions").await?;
    let invalid_body = || RcError::failure_typed("Invalid body params", "error-invalid-body-params");
    let body: UpdateBody = decode(body).map_err(|_| invalid_body())?;
    for change in &body.permissions {
        let mut unique = change.roles.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != change.roles.len() {
            return Err(invalid_body());
        }
    }
    let changes = body.permissions.into_iter().map(|c| (c.id, c.roles)).collect();
    let outcome = roles::update_permissions(&state, &caller.acting(&req), changes).await?;
    let all = outcome.map_err(|e| match e {
        PermissionUpdateError::UnknownPermission => {
            RcError::failure_typed("Invalid permission", "error-invalid-permission")
        }
        PermissionUpdateError::UnknownRole => RcError::failure_typed("Invalid role", "error-invalid-role"),
    })?;
    log::info!("permissions.update by {}", caller.id());
    let docs: Vec<Value> = all.iter().map(views::permission_document).collect();
    Ok(ok(json!({"permissions": docs})))
}
