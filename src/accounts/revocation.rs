//! The revocation policy (DESIGN decision 6), written once: which credentials each event
//! kills, in both dialects. Every operation that causes one of these events calls `apply_in`
//! inside its own write transaction, so the change and its revocations commit together.
//!
//! | event | login tokens | PATs | SAYMON sessions | SAYMON API token | reset links |
//! |---|---|---|---|---|---|
//! | password change | all | kept | all | kept | all |
//! | e-mail address change | kept | kept | kept | kept | all |
//! | 2FA enrolment (TOTP, e-mail) | all but the one in use | kept | all but the one in use | kept | kept |
//! | sign out other clients | all but the one in use | kept | all but the one in use | kept | kept |
//! | SAYMON API token removed or replaced | kept | kept | all | (that token) | kept |
//! | deactivation, deletion, admin `users.logout` | all | all | all | all | all |
//!
//! PATs and the SAYMON API token are API keys the owner made on purpose: what ends them is
//! removing them, or an administrator's decision about the whole account. A SAYMON session
//! may have been opened with the API token (`{"auth-token": …}`), so ending the token ends
//! the sessions too: a revoked key must not live on as a cookie. A password-reset link is
//! a credential too: it must not outlive the address it was mailed to, nor a password
//! change or deactivation made in answer to a compromise (Meteor refuses a reset token
//! whose address the user no longer has).

use super::refusal::Refusal;
use crate::auth::token::TokenHash;
use crate::clock::now_ms;
use crate::db::Sql;
use crate::db::audit::{self, Actor, AuditEvent};
use crate::db::users::UserRecord;
use crate::db::{password_resets, saymon, tokens};
use crate::error::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    PasswordChanged,
    EmailChanged,
    SecondFactorEnrolled,
    SignedOutOthers,
    SaymonApiTokenEnded,
    Deactivated,
    Deleted,
    LoggedOutByAdmin,
}

/// Which of a kind of credential an event kills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    None,
    All,
    /// All but the one the request itself used.
    AllButCurrent,
}

/// What an event kills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kills {
    pub login_tokens: Scope,
    pub saymon_sessions: Scope,
    /// PATs and the SAYMON API token.
    pub api_keys: bool,
    /// Outstanding password-reset links (`users.forgotPassword`).
    pub reset_links: bool,
}

/// The policy table.
pub const fn kills(event: Event) -> Kills {
    use Scope::{All, AllButCurrent};
    match event {
        Event::PasswordChanged => Kills { login_tokens: All, saymon_sessions: All, api_keys: false, reset_links: true },
        Event::EmailChanged => {
            Kills { login_tokens: Scope::None, saymon_sessions: Scope::None, api_keys: false, reset_links: true }
        }
        Event::SecondFactorEnrolled | Event::SignedOutOthers => {
            Kills { login_tokens: AllButCurrent, saymon_sessions: AllButCurrent, api_keys: false, reset_links: false }
        }
        Event::SaymonApiTokenEnded => {
            Kills { login_tokens: Scope::None, saymon_sessions: All, api_keys: false, reset_links: false }
        }
        Event::Deactivated | Event::Deleted | Event::LoggedOutByAdmin => {
            Kills { login_tokens: All, saymon_sessions: All, api_keys: true, reset_links: true }
        }
    }
}

impl Event {
    fn detail(self) -> &'static str {
        match self {
            Event::PasswordChanged => "password change",
            Event::EmailChanged => "e-mail address change",
            Event::SecondFactorEnrolled => "second factor enrolled",
            Event::SignedOutOthers => "signed out other clients",
            Event::SaymonApiTokenEnded => "SAYMON API token ended",
            Event::Deactivated => "deactivation",
            Event::Deleted => "user deleted",
            Event::LoggedOutByAdmin => "users.logout",
        }
    }

    /// Events about the whole account are always recorded; the others only when they
    /// ended something.
    fn always_recorded(self) -> bool {
        matches!(self, Event::PasswordChanged | Event::Deactivated | Event::Deleted | Event::LoggedOutByAdmin)
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
    tx: &dyn Sql,
    actor: &Actor,
    user: &UserRecord,
    event: Event,
    current: Current,
    why: Option<&str>,
) -> Result<usize> {
    let policy = kills(event);
    let (login_current, session_current) = match current {
        Current::LoginToken(hash) => (Some(hash), None),
        Current::SaymonSession(hash) => (None, Some(hash)),
        Current::None => (None, None),
    };
    // The credential to keep may have been revoked since the request presented it (by the
    // user's other client signing out the others at the same moment, on any node): the
    // request is then refused as if it had come after, rather than end every other
    // credential and report keeping one that is gone.
    let kept_gone = match (policy.login_tokens, login_current, policy.saymon_sessions, session_current) {
        (Scope::AllButCurrent, Some(keep), ..) => !tokens::has_token(tx, &user.id, &keep)?,
        (.., Scope::AllButCurrent, Some(keep)) => !saymon::has_session(tx, &user.id, &keep)?,
        _ => false,
    };
    if kept_gone {
        return Err(Refusal::CredentialRevoked.into());
    }
    let mut n = match (policy.login_tokens, login_current) {
        (Scope::None, _) => 0,
        (Scope::AllButCurrent, Some(keep)) => tokens::delete_other_login_tokens(tx, &user.id, &keep)?,
        _ => tokens::delete_login_tokens_of(tx, &user.id)?,
    };
    n += match (policy.saymon_sessions, session_current) {
        (Scope::None, _) => 0,
        (Scope::AllButCurrent, Some(keep)) => saymon::delete_other_sessions(tx, &user.id, &keep)?,
        _ => saymon::delete_sessions_of(tx, &user.id)?,
    };
    if policy.api_keys {
        n += tokens::delete_pats_of(tx, &user.id)? + usize::from(saymon::delete_api_token(tx, &user.id)?);
    }
    // Not counted: a reset link is no token in use, and an address change alone ends no session.
    if policy.reset_links {
        password_resets::delete_of_user(tx, &user.id)?;
    }
    if n > 0 || event.always_recorded() {
        let kind = if policy.api_keys {
            "all"
        } else if policy.login_tokens == Scope::None {
            "session"
        } else {
            "login"
        };
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
        for e in
            [Event::PasswordChanged, Event::SecondFactorEnrolled, Event::SignedOutOthers, Event::SaymonApiTokenEnded]
        {
            assert!(!kills(e).api_keys, "{e:?}");
        }
        for e in [Event::Deactivated, Event::Deleted, Event::LoggedOutByAdmin] {
            let all =
                Kills { login_tokens: Scope::All, saymon_sessions: Scope::All, api_keys: true, reset_links: true };
            assert_eq!(kills(e), all);
        }
    }

    #[test]
    fn a_password_change_spares_no_session_but_enrolment_spares_the_current_one() {
        assert_eq!(kills(Event::PasswordChanged).login_tokens, Scope::All);
        assert_eq!(kills(Event::SecondFactorEnrolled).login_tokens, Scope::AllButCurrent);
        assert_eq!(kills(Event::SignedOutOthers).saymon_sessions, Scope::AllButCurrent);
    }

    #[test]
    fn reset_links_die_with_the_password_the_address_or_the_account() {
        for e in
            [Event::PasswordChanged, Event::EmailChanged, Event::Deactivated, Event::Deleted, Event::LoggedOutByAdmin]
        {
            assert!(kills(e).reset_links, "{e:?}");
        }
        let k = kills(Event::EmailChanged);
        assert_eq!((k.login_tokens, k.saymon_sessions, k.api_keys), (Scope::None, Scope::None, false));
    }

    #[test]
    fn an_ended_api_token_takes_the_saymon_sessions_with_it_and_nothing_else() {
        let k = kills(Event::SaymonApiTokenEnded);
        assert_eq!((k.login_tokens, k.saymon_sessions, k.api_keys), (Scope::None, Scope::All, false));
    }
}
