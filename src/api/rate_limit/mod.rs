//! Rocket.Chat's REST rate limiter (spec §12), for both dialects: per client address, per
//! route and method, `calls` per window; `X-RateLimit-*` headers on every counted response
//! and 429 once the window is used up. Holders of `api-bypass-rate-limit` are not counted.

mod windows;

use crate::accounts;
use crate::api::client_addr;
use crate::api::request_limits;
use crate::api::rocketchat::caller;
use crate::api::saymon::auth as saymon_auth;
use crate::api::state::AppState;
use crate::config::{RateLimitScope, RateLimitSettings};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
pub use windows::{Verdict, Windows};

/// The sign-in and token-minting routes: what `TOKEND_RATE_LIMIT=on` counts.
const SENSITIVE_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/method.callAnon/{method}"),
    // The same `login` (and 2FA) methods for any logged-in caller: a wrong password there
    // answers 200, so only this window stops one account's token from spraying passwords.
    ("POST", "/api/v1/method.call/{method}"),
    ("POST", "/api/v1/users.register"),
    ("POST", "/api/v1/users.forgotPassword"),
    ("POST", "/api/v1/users.deleteOwnAccount"),
    ("POST", "/api/v1/users.createToken"),
    ("POST", "/api/v1/users.generatePersonalAccessToken"),
    ("POST", "/api/v1/users.regeneratePersonalAccessToken"),
    ("POST", "/api/v1/users.2fa.sendEmailCode"),
    ("POST", "/node/api/users/session"),
    ("POST", "/node/api/users/{id}/auth-token"),
];

/// Failed authentications one address may cause per window, as a multiple of `calls`: high
/// enough that a client retrying with a stale token is never cut off, low enough that
/// guessing tokens from one address stops quickly (catalogue item 64).
const FAILURES_PER_CALL: u32 = 10;

/// The counter that failed authentications share, whatever route they were sent to.
const FAILED_AUTHENTICATION: &str = "failed-authentication";

pub struct RateLimiter {
    scope: RateLimitScope,
    windows: Windows,
    failures: Windows,
}

impl RateLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let window_ms = i64::try_from(settings.window.as_millis()).unwrap_or(i64::MAX);
        RateLimiter {
            scope: settings.scope,
            windows: Windows::new(settings.calls, window_ms),
            failures: Windows::new(settings.calls.saturating_mul(FAILURES_PER_CALL), window_ms),
        }
    }

    /// Rocket.Chat's rule name, `<route><method>` (e.g. `/api/v1/loginpost`), when `req`
    /// is counted; `None` for routes outside the scope and for unknown paths.
    fn rule(&self, req: &HttpRequest) -> Option<String> {
        let method = req.method().as_str();
        // Every sensitive route is a POST: spare the hot GETs the route matching below.
        if self.scope == RateLimitScope::Sensitive && method != "POST" {
            return None;
        }
        let pattern = req.match_pattern()?;
        let counted = match self.scope {
            RateLimitScope::Off => false,
            RateLimitScope::Sensitive => SENSITIVE_ROUTES.iter().any(|(m, p)| *m == method && *p == pattern),
            RateLimitScope::All => pattern.starts_with("/api/") || pattern.starts_with("/node/api/"),
        };
        counted.then(|| format!("{pattern}{}", method.to_ascii_lowercase()))
    }
}

/// The middleware: refuses an address that keeps presenting invalid credentials, counts
/// the request against its route's window, then either passes it on or answers 429.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // A load balancer's readiness polls are never counted nor refused.
    let polled = req.path() == crate::api::rocketchat::ready::PATH;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .filter(|s| s.rate_limiter.scope != RateLimitScope::Off && !polled);
    let client = state.as_ref().and_then(|_| client_addr::client_ip(req.request()));
    let (Some(state), Some(client)) = (state, client) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let now = crate::clock::now_ms();
    let presents_credentials = presents_credentials(req.request());
    if presents_credentials {
        if let Some(verdict) = state.rate_limiter.failures.exhausted(client, FAILED_AUTHENTICATION, now) {
            log::info!("rate limit: {client} presented too many invalid credentials");
            let refusal = too_many_requests(req.path(), "failed_authentication", verdict.wait_secs(now));
            return Ok(req.into_response(refusal));
        }
    }
    let rule = state.rate_limiter.rule(req.request());
    let response = match rule {
        Some(rule) if !bypasses_rate_limit(&state, req.request()).await => {
            count_call(&state, req, next, client, &rule, now).await?
        }
        _ => next.call(req).await?.map_into_boxed_body(),
    };
    if presents_credentials && response.status() == StatusCode::UNAUTHORIZED {
        state.rate_limiter.failures.hit(client, FAILED_AUTHENTICATION, now);
    }
    Ok(response)
}

async fn count_call(
    state: &AppState,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    client: std::net::IpAddr,
    rule: &str,
    now: crate::clock::Millis,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let verdict = state.rate_limiter.windows.hit(client, rule, now);
    let mut response = if verdict.allowed {
        next.call(req).await?.map_into_boxed_body()
    } else {
        log::info!("rate limit: {client} exceeded {} calls on {rule}", verdict.limit);
        let refusal = too_many_requests(req.path(), "calls", verdict.wait_secs(now));
        req.into_response(refusal)
    };
    add_headers(response.headers_mut(), &verdict);
    Ok(response)
}

/// The 429 of either limit (`limit`: `calls` or `failed_authentication`, as counted in metrics).
fn too_many_requests(path: &str, limit: &'static str, wait_secs: u64) -> actix_web::HttpResponse {
    crate::metrics::METRICS.rate_limited(crate::metrics::Dialect::of_path(path), limit);
    let message = format!(
        "Error, too many requests. Please slow down. You must wait {wait_secs} seconds before trying this endpoint again."
    );
    request_limits::refuse(path, StatusCode::TOO_MANY_REQUESTS, message)
}

fn add_headers(headers: &mut actix_web::http::header::HeaderMap, verdict: &Verdict) {
    for (name, value) in [
        ("x-ratelimit-limit", verdict.limit.to_string()),
        ("x-ratelimit-remaining", verdict.remaining.to_string()),
        ("x-ratelimit-reset", verdict.reset_at.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Whether the request carries a token of a user holding `api-bypass-rate-limit`: a
/// Rocket.Chat `X-User-Id` + `X-Auth-Token` pair, or a SAYMON `api-token`/`sid`. HTTP Basic
/// is not considered: checking a password to decide would be the very work being limited.
async fn bypasses_rate_limit(state: &AppState, req: &HttpRequest) -> bool {
    let user_id = match credentials(req) {
        Some(Credentials::RocketChat { user_id, token }) => {
            match accounts::authenticate_token(state, Some(&user_id), &token).await {
                Ok(Some(entry)) => entry.owner.user.id.clone(),
                _ => return false,
            }
        }
        Some(Credentials::SaymonApiToken(token)) if state.config.saymon_api_token => {
            match accounts::saymon::api_token_entry(state, &token).await {
                Ok(Some(entry)) => entry.owner.user.id.clone(),
                _ => return false,
            }
        }
        Some(Credentials::SaymonSession(sid)) => match accounts::saymon::session(state, &sid).await {
            Ok(Some((user, _))) => user.id,
            _ => return false,
        },
        _ => return false,
    };
    accounts::has_permission(state, &user_id, "api-bypass-rate-limit").await.unwrap_or(false)
}

/// Whether the request tries to authenticate with anything at all.
fn presents_credentials(req: &HttpRequest) -> bool {
    let headers = req.headers();
    headers.contains_key("x-auth-token")
        || headers.contains_key("authorization")
        || req.query_string().contains("api-token")
        || req.cookie("sid").is_some()
}

enum Credentials {
    RocketChat { user_id: String, token: String },
    SaymonApiToken(String),
    SaymonSession(String),
}

/// The credentials the request's own dialect would authenticate it with, read the way that
/// dialect reads them (a repeated header or api-token counts as none).
fn credentials(req: &HttpRequest) -> Option<Credentials> {
    if !crate::api::is_saymon_path(req.path()) {
        let (user_id, token) = caller::presented_credentials(req)?;
        return Some(Credentials::RocketChat { user_id: user_id.to_string(), token: token.to_string() });
    }
    match saymon_auth::presented_api_token(req) {
        Some(token) => token.map(Credentials::SaymonApiToken),
        None => req.cookie("sid").map(|c| Credentials::SaymonSession(c.value().to_string())),
    }
}
