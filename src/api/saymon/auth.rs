//! Who is calling a SAYMON route (spec/saymon.md §7.2), in this order: `?api-token=`,
//! HTTP Basic, the `sid` cookie. Each scheme that is present decides: a bad api-token is
//! refused without falling through to the others. Rocket.Chat tokens mean nothing here.

use super::error::{SaymonError, SaymonResult};
use crate::accounts::cache::AuthEntry;
use crate::accounts::login::{SaymonLoginFailure, saymon_password_login};
use crate::accounts::{self, Acting, Actor, ApiTokenOwner, Credential, LoginName, UserRecord, saymon};
use crate::api::state::AppState;
use crate::api::strict_json::parse_form;
use crate::auth::password::PasswordDigest;
use crate::auth::token::TokenHash;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// How the caller authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    ApiToken,
    Basic,
    Session { sid: String },
}

pub struct Principal {
    /// Shared with the API token's cache entry: no copy of the record per request.
    pub user: Arc<UserRecord>,
    pub via: Via,
    /// The request, for the client's address — worked out only when something records it
    /// (an audited write), not on every authenticated read.
    req: HttpRequest,
    client_addr: OnceCell<Option<String>>,
    /// For an API token: its cache entry, which also keeps the rendered `users/current`.
    pub cached: Option<Arc<AuthEntry<ApiTokenOwner>>>,
}

impl Principal {
    fn new(user: Arc<UserRecord>, via: Via, req: HttpRequest, cached: Option<Arc<AuthEntry<ApiTokenOwner>>>) -> Self {
        Principal { user, via, req, client_addr: OnceCell::new(), cached }
    }

    pub fn client_addr(&self) -> Option<&str> {
        self.client_addr.get_or_init(|| crate::api::client_addr::client_addr(&self.req)).as_deref()
    }

    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.id, &self.user.username, self.client_addr().map(str::to_string))
    }

    /// Who acts, for the core's rules.
    pub fn acting(&self) -> Acting {
        let credential = match self.via {
            Via::ApiToken => Credential::SaymonApiToken,
            Via::Basic => Credential::SaymonPassword,
            Via::Session { .. } => Credential::SaymonSession,
        };
        Acting { actor: self.actor(), credential, user_agent: None }
    }

    pub async fn has(&self, state: &AppState, permission: &'static str) -> SaymonResult<bool> {
        Ok(crate::accounts::has_permission(state, &self.user.id, permission).await?)
    }

    pub async fn require(&self, state: &AppState, permission: &'static str) -> SaymonResult<()> {
        if self.has(state, permission).await? {
            Ok(())
        } else {
            Err(SaymonError::Forbidden(format!("Permission \"{permission}\" is required")))
        }
    }
}

/// `login:password` from an `Authorization: Basic` header; `None` if it is not Basic.
fn basic_credentials(req: &HttpRequest) -> Option<Result<(String, String), SaymonError>> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    Some(match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((login, password)) => Ok((login.to_string(), password.to_string())),
        None => Err(SaymonError::InvalidCredentials),
    })
}

/// SAYMON's `login` may be the user's e-mail; tokend usernames never contain `@`.
pub fn login_name(login: &str) -> LoginName {
    if login.contains('@') { LoginName::Email(login.to_string()) } else { LoginName::Username(login.to_string()) }
}

/// Checks a login/password pair (the core refuses users with a second factor, which SAYMON
/// cannot ask for); any failure but a lockout is SAYMON's `InvalidCredentials`.
pub async fn check_login(
    state: &AppState,
    login: &str,
    password: &str,
    client_addr: Option<&str>,
) -> SaymonResult<UserRecord> {
    if login.is_empty() || password.chars().count() > accounts::MAX_PASSWORD_CHARS {
        return Err(SaymonError::InvalidCredentials);
    }
    let digest = PasswordDigest::of_plaintext(password);
    match saymon_password_login(state, login_name(login), digest, client_addr).await? {
        Ok(user) => Ok(user),
        Err(SaymonLoginFailure::Blocked(_)) => Err(SaymonError::TooManyFailedLogins),
        Err(SaymonLoginFailure::InvalidCredentials) => Err(SaymonError::InvalidCredentials),
    }
}

/// With the CSRF layer on: the request's `x-csrf-token` is the one issued with its session.
pub fn csrf_matches(req: &HttpRequest, csrf_hash: Option<&[u8]>) -> bool {
    let sent = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    !sent.is_empty() && csrf_hash.is_some_and(|h| bool::from(TokenHash::of(sent).as_bytes().ct_eq(h)))
}

/// The `?api-token=` of the request: `None` when there is none, `Some(None)` when one is
/// there but unusable (repeated, or in a query that does not parse) and so authenticates nobody.
pub fn presented_api_token(req: &HttpRequest) -> Option<Option<String>> {
    let query = req.query_string();
    // The usual query is the token alone: one pair cannot repeat, so it needs no map.
    if !query.contains('&') {
        let mut pairs = form_urlencoded::parse(query.as_bytes());
        return match pairs.next() {
            Some((key, value)) if key == "api-token" => Some(Some(value.into_owned())),
            _ => None,
        };
    }
    match parse_form(query.as_bytes()) {
        Ok(q) => q.get("api-token").map(|v| v.as_str().map(str::to_string)),
        Err(_) if req.query_string().contains("api-token") => Some(None),
        Err(_) => None,
    }
}

async fn authenticate(state: web::Data<AppState>, req: HttpRequest) -> SaymonResult<Principal> {
    if let Some(token) = presented_api_token(&req) {
        if !state.config.saymon_api_token {
            return Err(SaymonError::InvalidApiToken);
        }
        let changes_state = crate::api::route_table::state_changing(&req);
        let addr = || crate::api::client_addr::client_addr(&req);
        let entry = match token {
            Some(t) => saymon::authenticate_api_token_request(&state, &t, changes_state, addr).await?,
            None => None,
        };
        let entry = entry.ok_or(SaymonError::InvalidApiToken)?;
        let user = entry.owner.user.clone();
        return Ok(Principal::new(user, Via::ApiToken, req, Some(entry)));
    }
    if let Some(credentials) = basic_credentials(&req) {
        // A browser can attach Basic credentials on its own too (typed into a URL, or a
        // prompt answered for another page), so a cross-origin write is refused as with sid.
        super::same_origin::check(&req, state.config.limits.forwarded_count)?;
        let (login, password) = credentials?;
        let client_addr = crate::api::client_addr::client_addr(&req);
        let user = check_login(&state, &login, &password, client_addr.as_deref()).await?;
        let principal = Principal::new(Arc::new(user), Via::Basic, req, None);
        let _ = principal.client_addr.set(client_addr);
        return Ok(principal);
    }
    if let Some(cookie) = req.cookie("sid") {
        super::same_origin::check(&req, state.config.limits.forwarded_count)?;
        let sid = cookie.value().to_string();
        let addr = || crate::api::client_addr::client_addr(&req);
        let (user, csrf_hash) =
            saymon::authenticate_session_request(&state, &sid, addr).await?.ok_or(SaymonError::SessionExpired)?;
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if state.config.saymon_csrf && !safe && !csrf_matches(&req, csrf_hash.as_deref()) {
            return Err(SaymonError::WrongCsrfToken);
        }
        return Ok(Principal::new(Arc::new(user), Via::Session { sid }, req, None));
    }
    Err(SaymonError::NotLoggedIn)
}

impl FromRequest for Principal {
    type Error = SaymonError;
    type Future = Pin<Box<dyn Future<Output = SaymonResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        let settled = crate::api::auth_first::open(&req);
        Box::pin(async move {
            let _settled = settled;
            let state = state.ok_or(SaymonError::Internal)?;
            let principal = authenticate(state, req).await?;
            crate::logging::note_user(&principal.user.id);
            Ok(principal)
        })
    }
}
