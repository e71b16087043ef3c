//! Who is calling a Rocket.Chat route: `X-User-Id` + `X-Auth-Token` (spec §2), resolved to
//! an active user through a login token or PAT. Nothing else authenticates here: no
//! cookies, no query-string tokens, no SAYMON tokens.

use super::error::{RcError, RcResult};
use crate::accounts;
use crate::accounts::cache::AuthEntry;
use crate::auth::token::{PlainToken, TokenHash};
use crate::db::tokens::{TokenKind, TokenOwner};
use crate::db::users::UserRecord;
use crate::state::AppState;
use actix_web::dev::Payload;
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

    /// Token management and changes to the caller's own credentials need a login token: a
    /// leaked PAT — above all a `bypassTwoFactor` one — must not mint more tokens or take the
    /// account over (spec/security.md §6 item 40; Rocket.Chat honours PATs there).
    pub fn require_login_token(&self) -> RcResult<()> {
        if self.is_pat() { Err(RcError::meteor(LOGIN_TOKEN_REQUIRED, LOGIN_TOKEN_REQUIRED_REASON)) } else { Ok(()) }
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
fn single_header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    let mut values = req.headers().get_all(name);
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok().filter(|v| !v.is_empty())
}

/// The `X-User-Id` + `X-Auth-Token` pair, each sent exactly once, if the request has one.
pub fn presented_credentials(req: &HttpRequest) -> Option<(String, String)> {
    Some((single_header(req, "x-user-id")?.to_string(), single_header(req, "x-auth-token")?.to_string()))
}

impl FromRequest for Caller {
    type Error = RcError;
    type Future = Pin<Box<dyn Future<Output = RcResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = presented_credentials(req);
        Box::pin(async move {
            let (Some(state), Some((user_id, token))) = (state, presented) else {
                return Err(RcError::NotLoggedIn);
            };
            match accounts::authenticate_token(&state, Some(user_id), &token).await? {
                Some(auth) => Ok(Caller { auth, token: PlainToken::from_presented(&token) }),
                None => Err(RcError::NotLoggedIn),
            }
        })
    }
}
