//! `GET /api/v1/tokend.audit` (beyond Rocket.Chat): the token audit log for holders of
//! `view-audit-log`, newest first, paginated like `users.list`.

use super::caller::Caller;
use super::error::RcResult;
use super::extract::RcQuery;
use super::session::ok;
use super::users::pagination;
use crate::accounts::AuditRecord;
use crate::accounts::directory;
use crate::api::state::AppState;
use crate::clock::iso;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct AuditQuery {
    count: Option<String>,
    offset: Option<String>,
    /// A user id or username, matched as actor or subject.
    user: Option<String>,
    /// `token.created`, `token.revoked`, `token.refused` or `secret.blocked`.
    event: Option<String>,
}

pub fn document(r: &AuditRecord) -> Value {
    json!({
        "_id": r.id, "at": iso(r.at), "event": r.event,
        "actor": {"_id": r.actor_id, "username": r.actor},
        "subject": {"_id": r.subject_id, "username": r.subject},
        "tokenKind": r.token_kind, "tokenLabel": r.token_label,
        "clientAddress": r.client_addr, "detail": r.detail,
    })
}

pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    RcQuery(q): RcQuery<AuditQuery>,
) -> RcResult<HttpResponse> {
    caller.require(&state, "view-audit-log").await?;
    let (offset, limit) = pagination(q.count.as_deref(), q.offset.as_deref())?;
    let (user, event) = (q.user.filter(|s| !s.is_empty()), q.event.filter(|s| !s.is_empty()));
    let (rows, total) = directory::audit_page(&state, user, event, offset, limit).await?;
    let events: Vec<Value> = rows.iter().map(document).collect();
    Ok(ok(json!({"events": events, "count": events.len(), "offset": offset, "total": total})))
}
