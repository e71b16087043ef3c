//! Who is calling a Rocket.Chat route: `X-User-Id` + `X-Auth-Token` (spec §2), resolved to
//! an active user through a login token or PAT. Nothing else authenticates here: no
//! cookies, no query-string tokens, no SAYMON tokens.

use super::error::{RcError, RcResult};
use crate::accounts::cache::AuthEntry;
use crate::accounts::revocation::Current;
use crate::accounts::{self, Acting, Credential, TokenKind, TokenOwner, UserRecord};
use crate::api::state::AppState;
use crate::auth::token::{PlainToken, TokenHash};
use actix_web::dev::Payload;
use actix_web::http::header::HeaderName;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The Meteor error code and reason of `Caller::require_login_token`.
pub const LOGIN_TOKEN_REQUIRED: &str = "error-login-token-required";
pub const LOGIN_TOKEN_REQUIRED_REASON: &str = "Personal access tokens cannot manage tokens or credentials; log in";

pub struct Caller {
    /// The token's owner, as cached for the current database generation.
    pub auth: Arc<AuthEntry>,
    /// The token this request presented; drives logout and "other tokens" operations.
    pub token: PlainToken,
}

impl Caller {
    pub fn owner(&self) -> &TokenOwner {
        &self.auth.owner
    }

    pub fn user(&self) -> &UserRecord {
        &self.auth.owner.user
    }

    pub fn id(&self) -> &str {
        &self.auth.owner.user.id
    }

    pub fn token_hash(&self) -> TokenHash {
        self.token.hash()
    }

    /// True when the request authenticated with a personal access token.
    pub fn is_pat(&self) -> bool {
        self.owner().kind == TokenKind::Pat
    }

    /// Who acts, for the core's rules: this user, from this address, with this credential.
    pub fn acting(&self, req: &HttpRequest) -> Acting {
        let credential = if self.is_pat() { Credential::Pat } else { Credential::LoginToken };
        let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok());
        Acting::user(self.id(), &self.user().username, crate::api::client_addr::client_addr(req), credential)
            .with_user_agent(user_agent)
    }

    /// The credential in use, which "all but the current" revocations spare.
    pub fn current(&self) -> Current {
        Current::LoginToken(self.token_hash())
    }

    /// The core's rule that a PAT cannot manage tokens or its own credentials
    /// (`Acting::require_session`), applied early so it is answered before any 2FA challenge.
    pub fn require_login_token(&self, req: &HttpRequest) -> RcResult<()> {
        Ok(self.acting(req).require_session()?)
    }

    pub async fn has(&self, state: &AppState, permission: &'static str) -> RcResult<bool> {
        Ok(accounts::has_permission(state, self.id(), permission).await?)
    }

    /// A route-level permission (`permissionsRequired`): 403 with the permission body.
    pub async fn require(&self, state: &AppState, permission: &'static str) -> RcResult<()> {
        if self.has(state, permission).await? { Ok(()) } else { Err(RcError::PermissionRequired) }
    }
}

/// The value of a header sent exactly once; a repeated header authenticates nobody.
fn single_header<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    let mut values = req.headers().get_all(name);
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok().filter(|v| !v.is_empty())
}

// Parsed once: a `&str` name is parsed and validated again on every lookup.
const X_USER_ID: HeaderName = HeaderName::from_static("x-user-id");
const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");

/// The `X-User-Id` + `X-Auth-Token` pair, each sent exactly once, if the request has one.
pub fn presented_credentials(req: &HttpRequest) -> Option<(&str, &str)> {
    Some((single_header(req, &X_USER_ID)?, single_header(req, &X_AUTH_TOKEN)?))
}

impl FromRequest for Caller {
    type Error = RcError;
    type Future = Pin<Box<dyn Future<Output = RcResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The request itself moves into the future (a reference count), and the credentials
        // are borrowed from its headers there: no copies on the hot path.
        let req = req.clone();
        let settled = crate::api::auth_first::open(&req);
        Box::pin(async move {
            let _settled = settled;
            let (Some(state), Some((user_id, token))) =
                (req.app_data::<web::Data<AppState>>(), presented_credentials(&req))
            else {
                return Err(RcError::NotLoggedIn);
            };
            let changes_state = crate::api::route_table::state_changing(&req);
            let addr = || crate::api::client_addr::client_addr(&req);
            match accounts::tokens::authenticate_request(state, Some(user_id), token, changes_state, addr).await? {
                Some(auth) => {
                    crate::logging::note_user(&auth.owner.user.id);
                    Ok(Caller { auth, token: PlainToken::from_presented(token) })
                }
                None => Err(RcError::NotLoggedIn),
            }
        })
    }
}
