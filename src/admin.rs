//! `tokend admin ...`: operator commands that work on the database file directly, also
//! while the server runs (SQLite serialises the writers). Every change is audited with
//! the actor `cli`. Secrets are printed only by `mint-token`, once.

use crate::accounts;
use crate::accounts::Accounts;
use crate::accounts::sessions;
use crate::clock::iso;
use crate::db::Scope;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::inventory::{self, KindFilter};
use crate::db::users::{self, UserRecord};
use crate::error::Error;
use std::fmt::Write as _;

#[derive(Debug)]
pub enum AdminCommand {
    MintToken {
        user: String,
    },
    ListTokens {
        user: String,
    },
    /// One session (`login-N`, `saymon-N`) or PAT (by name) of a user.
    RevokeToken {
        user: String,
        session: Option<String>,
        pat: Option<String>,
    },
    RevokeTokens {
        user: String,
        kind: KindFilter,
    },
    Audit {
        limit: i64,
        user: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user with username or id {0:?}")]
    NoSuchUser(String),
    #[error("user {0:?} is deactivated; reactivate it first")]
    Inactive(String),
    #[error("{0} is not a token of this user (see list-tokens)")]
    NoSuchToken(String),
    #[error("give exactly one of --session or --pat")]
    OneTarget,
    #[error(transparent)]
    Store(#[from] Error),
}

async fn find_user(state: &Accounts, key: &str) -> Result<UserRecord, AdminError> {
    let k = key.to_string();
    let found = state
        .db
        .read(move |c| match users::find_by_username(c, &k)? {
            Some(u) => Ok(Some(u)),
            None => users::find_by_id(c, &k),
        })
        .await?;
    found.ok_or_else(|| AdminError::NoSuchUser(key.to_string()))
}

/// Runs one command and returns what to print on stdout.
pub async fn run(state: &Accounts, command: AdminCommand) -> Result<String, AdminError> {
    let mut out = String::new();
    match command {
        AdminCommand::MintToken { user } => {
            let user = find_user(state, &user).await?;
            if !user.active {
                return Err(AdminError::Inactive(user.username));
            }
            let (token, expires) =
                accounts::mint_login_token(state, &accounts::Acting::operator(), &user, "cli mint-token").await?;
            let _ = writeln!(out, "userId:    {}\nauthToken: {}\nexpires:   {}", user.id, token.expose(), iso(expires));
            let _ = writeln!(out, "Use it as the X-User-Id and X-Auth-Token headers. It is shown only this once.");
        }
        AdminCommand::ListTokens { user } => {
            let user = find_user(state, &user).await?;
            let id = user.id.clone();
            accounts::last_use::flush(state).await?;
            let rows = state.db.read(move |c| inventory::list(c, &id)).await?;
            let _ = writeln!(
                out,
                "{:<7} {:<12} {:<24} {:<8} {:<9} {:<25} {:<25} {:<16} {:<12} EXPIRES",
                "KIND", "ID", "NAME", "LAST", "SCOPE", "CREATED", "LAST USED", "FROM", "CREATED BY"
            );
            let dash = || "-".to_string();
            for t in rows {
                let _ = writeln!(
                    out,
                    "{:<7} {:<12} {:<24} {:<8} {:<9} {:<25} {:<25} {:<16} {:<12} {}",
                    t.kind,
                    t.id.unwrap_or_else(dash),
                    t.name.unwrap_or_else(dash),
                    t.last_part.unwrap_or_else(dash),
                    t.scope,
                    iso(t.created_at),
                    t.last_used_at.map_or_else(dash, iso),
                    t.last_used_addr.unwrap_or_else(dash),
                    t.created_by.unwrap_or_else(dash),
                    t.expires_at.map_or_else(|| "never".into(), iso)
                );
            }
        }
        AdminCommand::RevokeToken { user, session, pat } => {
            let user = find_user(state, &user).await?;
            let what = match (session, pat) {
                (Some(id), None) => {
                    let (kind, row) = sessions::parse_session_id(&id).ok_or(AdminError::NoSuchToken(id))?;
                    sessions::Target::Session(kind, row)
                }
                (None, Some(name)) => sessions::Target::Pat(name),
                _ => return Err(AdminError::OneTarget),
            };
            let label = format!("{what:?}");
            match sessions::revoke_for(state, &accounts::Acting::operator(), &user.id, what).await? {
                Some(true) => {
                    let _ = writeln!(out, "revoked {label} of {}", user.username);
                }
                _ => return Err(AdminError::NoSuchToken(label)),
            }
        }
        AdminCommand::RevokeTokens { user, kind } => {
            let user = find_user(state, &user).await?;
            let event = AuditEvent {
                event: "token.revoked",
                subject_id: Some(user.id.clone()),
                subject: Some(user.username.clone()),
                token_kind: Some(kind.name()),
                token_label: None,
                detail: Some("cli revoke-tokens".into()),
            };
            let id = user.id.clone();
            let n = state
                .db
                .write(Scope::user(&id), move |tx| {
                    let n = inventory::revoke(tx, &id, kind)?;
                    audit::record(tx, &Actor::cli(), &event, crate::clock::now_ms())?;
                    Ok(n)
                })
                .await?;
            let _ = writeln!(out, "revoked {n} {} token(s) of {}", kind.name(), user.username);
        }
        AdminCommand::Audit { limit, user } => {
            let (rows, total) = state.db.read(move |c| audit::page(c, user.as_deref(), None, 0, Some(limit))).await?;
            for r in rows.iter().rev() {
                let _ = writeln!(
                    out,
                    "{} {:<14} actor={} subject={} kind={} label={} from={} {}",
                    iso(r.at),
                    r.event,
                    r.actor,
                    r.subject.as_deref().unwrap_or("-"),
                    r.token_kind.as_deref().unwrap_or("-"),
                    r.token_label.as_deref().unwrap_or("-"),
                    r.client_addr.as_deref().unwrap_or("-"),
                    r.detail.as_deref().unwrap_or("")
                );
            }
            let _ = writeln!(out, "({} of {total} events)", rows.len());
        }
    }
    Ok(out)
}
