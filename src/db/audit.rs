//! The audit log: token minted, revoked or refused — who, for whom, when, from where.
//! It never holds a token; only a PAT's name or a token's last characters.

use super::sql::{Sql, params};
use crate::clock::Millis;
use crate::error::Result;
use crate::metrics::{TokenActor, uncommitted};

/// Who did something: a signed-in user (with the client address) or the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
    pub client_addr: Option<String>,
}

impl Actor {
    pub fn user(id: &str, name: &str, client_addr: Option<String>) -> Self {
        Actor { id: Some(id.to_string()), name: name.to_string(), client_addr }
    }

    pub fn cli() -> Self {
        Actor { id: None, name: "cli".into(), client_addr: None }
    }
}

/// One line of the audit log, as written.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    /// `token.created`, `token.revoked` or `token.refused`.
    pub event: &'static str,
    pub subject_id: Option<String>,
    pub subject: Option<String>,
    /// `login`, `pat`, `saymon`, `session`, or `all` for bulk revocations.
    pub token_kind: Option<&'static str>,
    pub token_label: Option<String>,
    /// How it happened: `login`, `createToken`, `logout`, `password-change`, a refusal reason...
    pub detail: Option<String>,
}

pub fn record(conn: &dyn Sql, actor: &Actor, event: &AuditEvent, at: Millis) -> Result<()> {
    // Every mint and revocation is written here, so this is where they are counted (once
    // the transaction commits: `metrics::uncommitted`).
    let by = match (&actor.id, &event.subject_id) {
        (None, _) => TokenActor::Cli,
        (Some(id), Some(subject)) if id == subject => TokenActor::Own,
        (Some(_), _) => TokenActor::Admin,
    };
    uncommitted::note(event.event, event.token_kind, by);
    conn.exec("INSERT INTO audit_log (at, event, actor_id, actor, subject_id, subject, token_kind, token_label, client_addr, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", params![
        at, event.event, actor.id, actor.name, event.subject_id, event.subject, event.token_kind,
        event.token_label, actor.client_addr, event.detail
    ])?;
    Ok(())
}

/// One line of the audit log, as read.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Millis,
    pub event: String,
    pub actor_id: Option<String>,
    pub actor: String,
    pub subject_id: Option<String>,
    pub subject: Option<String>,
    pub token_kind: Option<String>,
    pub token_label: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

/// Newest first; `user` matches the actor or the subject (id, or username in any case),
/// `event` exactly.
pub fn page(
    conn: &dyn Sql,
    user: Option<&str>,
    event: Option<&str>,
    offset: i64,
    limit: Option<i64>,
) -> Result<(Vec<AuditRecord>, i64)> {
    // Ids match exactly; usernames case-insensitively, as everywhere else.
    let nocase = conn.dialect().nocase();
    let filter = format!(
        "(?1 IS NULL OR ?1 IN (actor_id, subject_id) OR actor = ?1 {nocase}
          OR subject = ?1 {nocase}) AND (?2 IS NULL OR event = ?2)"
    );
    let total =
        conn.query_one(&format!("SELECT count(*) FROM audit_log WHERE {filter}"), params![user, event], |r| r.get(0))?;
    let sql = format!(
        "SELECT id, at, event, actor_id, actor, subject_id, subject, token_kind, token_label, client_addr, detail
         FROM audit_log WHERE {filter} ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    );
    let rows = conn.query(&sql, params![user, event, crate::db::sql::no_limit(limit), offset.max(0)], |r| {
        Ok(AuditRecord {
            id: r.get(0)?,
            at: r.get(1)?,
            event: r.get(2)?,
            actor_id: r.get(3)?,
            actor: r.get(4)?,
            subject_id: r.get(5)?,
            subject: r.get(6)?,
            token_kind: r.get(7)?,
            token_label: r.get(8)?,
            client_addr: r.get(9)?,
            detail: r.get(10)?,
        })
    })?;
    Ok((rows, total))
}
