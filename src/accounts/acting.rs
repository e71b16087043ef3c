//! Who performs an operation, and with which credential. Every operation that changes an
//! account takes one, so the rules that depend on the caller (the privilege ceiling, what a
//! personal access token may not do) are applied by the core, never left to a handler.

use crate::db::audit::Actor;

/// The credential a request authenticated with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A password just checked (a login in either dialect, before any token exists).
    Password,
    /// A Rocket.Chat login (resume) token, including one minted by `users.createToken`.
    LoginToken,
    /// A Rocket.Chat personal access token: an API key, not a session.
    Pat,
    /// A SAYMON `?api-token=`.
    SaymonApiToken,
    /// SAYMON HTTP Basic: the password on every request.
    SaymonPassword,
    /// A SAYMON `sid` cookie session.
    SaymonSession,
    /// The operator's command line, which has the whole file anyway: no ceiling applies.
    Operator,
}

#[derive(Clone, Debug)]
pub struct Acting {
    /// As recorded in the audit log: id, username, client address.
    pub actor: Actor,
    pub credential: Credential,
    /// The client's `User-Agent`, kept with a login token the user opens for themself.
    pub user_agent: Option<String>,
}

impl Acting {
    pub fn user(id: &str, username: &str, client_addr: Option<String>, credential: Credential) -> Self {
        Acting { actor: Actor::user(id, username, client_addr), credential, user_agent: None }
    }

    pub fn operator() -> Self {
        Acting { actor: Actor::cli(), credential: Credential::Operator, user_agent: None }
    }

    /// The same, naming the client program (at most 256 characters are kept).
    pub fn with_user_agent(mut self, user_agent: Option<&str>) -> Self {
        self.user_agent = user_agent.map(|ua| ua.chars().take(256).collect());
        self
    }

    /// The acting user's id; `None` for the operator.
    pub fn user_id(&self) -> Option<&str> {
        self.actor.id.as_deref()
    }

    pub fn is_operator(&self) -> bool {
        self.credential == Credential::Operator
    }

    /// True when the operation is on the acting user's own account.
    pub fn acts_on_self(&self, target_id: &str) -> bool {
        self.user_id() == Some(target_id)
    }

    pub fn client_addr(&self) -> Option<&str> {
        self.actor.client_addr.as_deref()
    }

    /// Managing tokens and one's own credentials needs a session, never a personal access
    /// token: a leaked PAT (above all a `bypassTwoFactor` one) must not mint successors or
    /// take its account over (spec/security.md §6 item 40; stricter than Rocket.Chat).
    pub fn require_session(&self) -> crate::error::Result<()> {
        if self.credential == Credential::Pat {
            return Err(super::Refusal::LoginTokenRequired.into());
        }
        Ok(())
    }
}
