//! The revocation policy (DESIGN decision 6), written once: which credentials each event
//! kills, in both dialects. Every operation that causes one of these events calls `apply_in`
//! inside its own write transaction, so the change and its revocations commit together.
//!
//! | event | login tokens | PATs | SAYMON sessions | SAYMON API token |
//! |---|---|---|---|---|
//! | password change | all | kept | all | kept |
//! | 2FA enrolment (TOTP, e-mail) | all but the one in use | kept | all but the one in use | kept |
//! | sign out other clients | all but the one in use | kept | all but the one in use | kept |
//! | deactivation, deletion, admin `users.logout` | all | all | all | all |
//!
//! PATs and the SAYMON API token are API keys the owner made on purpose: what ends them is
//! removing them, or an administrator's decision about the whole account.

use crate::auth::token::TokenHash;
use crate::clock::now_ms;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::users::UserRecord;
use crate::db::{saymon, tokens};
use crate::error::Result;
use rusqlite::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    PasswordChanged,
    SecondFactorEnrolled,
    SignedOutOthers,
    Deactivated,
    Deleted,
    LoggedOutByAdmin,
}

/// What an event kills. "Sessions" are login tokens and SAYMON cookie sessions; the one
/// the request itself used survives where the table says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kills {
    pub sessions: Sessions,
    pub api_keys: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sessions {
    All,
    AllButCurrent,
}

/// The policy table.
pub const fn kills(event: Event) -> Kills {
    match event {
        Event::PasswordChanged => Kills { sessions: Sessions::All, api_keys: false },
        Event::SecondFactorEnrolled | Event::SignedOutOthers => {
            Kills { sessions: Sessions::AllButCurrent, api_keys: false }
        }
        Event::Deactivated | Event::Deleted | Event::LoggedOutByAdmin => {
            Kills { sessions: Sessions::All, api_keys: true }
        }
    }
}

impl Event {
    fn detail(self) -> &'static str {
        match self {
            Event::PasswordChanged => "password change",
            Event::SecondFactorEnrolled => "second factor enrolled",
            Event::SignedOutOthers => "signed out other clients",
            Event::Deactivated => "deactivation",
            Event::Deleted => "user deleted",
            Event::LoggedOutByAdmin => "users.logout",
        }
    }
}

/// The credential the request that caused the event authenticated with.
#[derive(Clone, Copy, Debug)]
pub enum Current {
    None,
    LoginToken(TokenHash),
    SaymonSession(TokenHash),
}

/// Applies `event` to `user`'s credentials in the caller's transaction and audits it.
/// `why` overrides the audit detail (e.g. the route that signed others out). Returns how
/// many credentials died.
pub fn apply_in(
    tx: &Connection,
    actor: &Actor,
    user: &UserRecord,
    event: Event,
    current: Current,
    why: Option<&str>,
) -> Result<usize> {
    let policy = kills(event);
    let spare = |c| if policy.sessions == Sessions::AllButCurrent { c } else { None };
    let login_spare = spare(match current {
        Current::LoginToken(hash) => Some(hash),
        _ => None,
    });
    let session_spare = spare(match current {
        Current::SaymonSession(hash) => Some(hash),
        _ => None,
    });
    let mut n = match login_spare {
        Some(keep) => tokens::delete_other_login_tokens(tx, &user.id, &keep)?,
        None => tokens::delete_login_tokens_of(tx, &user.id)?,
    };
    n += match session_spare {
        Some(keep) => saymon::delete_other_sessions(tx, &user.id, &keep)?,
        None => saymon::delete_sessions_of(tx, &user.id)?,
    };
    if policy.api_keys {
        n += tokens::delete_pats_of(tx, &user.id)? + usize::from(saymon::delete_api_token(tx, &user.id)?);
    }
    // Events about the whole account are always recorded; "sign out the others" only
    // when it signed someone out.
    if n > 0 || policy.sessions == Sessions::All {
        let kind = if policy.api_keys { "all" } else { "login" };
        let event = AuditEvent {
            event: "token.revoked",
            subject_id: Some(user.id.clone()),
            subject: Some(user.username.clone()),
            token_kind: Some(kind),
            token_label: None,
            detail: Some(format!("{}: {n} token(s)", why.unwrap_or(event.detail()))),
        };
        audit::record(tx, actor, &event, now_ms())?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_die_only_with_the_account_decisions() {
        for e in [Event::PasswordChanged, Event::SecondFactorEnrolled, Event::SignedOutOthers] {
            assert!(!kills(e).api_keys, "{e:?}");
        }
        for e in [Event::Deactivated, Event::Deleted, Event::LoggedOutByAdmin] {
            assert_eq!(kills(e), Kills { sessions: Sessions::All, api_keys: true }, "{e:?}");
        }
    }

    #[test]
    fn a_password_change_spares_no_session_but_enrolment_spares_the_current_one() {
        assert_eq!(kills(Event::PasswordChanged).sessions, Sessions::All);
        assert_eq!(kills(Event::SecondFactorEnrolled).sessions, Sessions::AllButCurrent);
        assert_eq!(kills(Event::SignedOutOthers).sessions, Sessions::AllButCurrent);
    }
}
