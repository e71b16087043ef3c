//! What gated routes share: the caller as an audit actor, and the Rocket.Chat face of the
//! 2FA mechanism (`totp-required` / `totp-invalid` as HTTP 400, spec §10.1).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use crate::auth::two_factor::{self, Attempt, Challenge, Decision, Options};
use crate::db::audit::Actor;
use crate::state::AppState;
use actix_web::HttpRequest;
use serde_json::json;

/// The client's address as this server sees it (the TCP peer).
pub fn client_addr(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

pub fn actor(caller: &Caller, req: &HttpRequest) -> Actor {
    Actor::user(caller.id(), &caller.user().username, client_addr(req))
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A challenge's `details`, as Rocket.Chat sends them with `totp-required`/`totp-invalid`.
pub fn challenge_details(c: &Challenge) -> serde_json::Value {
    json!({"method": c.method.name(), "codeGenerated": c.code_generated, "availableMethods": c.available_methods})
}

/// Passes, or answers with the challenge the client must meet (`x-2fa-code`).
pub async fn require_two_factor(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    options: Options,
) -> RcResult<()> {
    let user_agent = header(req, "user-agent").unwrap_or_default();
    let attempt = Attempt {
        code: header(req, "x-2fa-code"),
        method: header(req, "x-2fa-method"),
        fingerprint: two_factor::client_fingerprint(&user_agent, &client_addr(req).unwrap_or_default()),
    };
    match two_factor::check(state, &caller.owner, &caller.token_hash(), &attempt, options).await? {
        Decision::Pass => Ok(()),
        Decision::Required(c) => {
            Err(RcError::meteor_with_details("totp-required", "TOTP Required", challenge_details(&c)))
        }
        Decision::Invalid(c) => {
            log::info!("2FA: invalid code from user {}", caller.id());
            Err(RcError::meteor_with_details("totp-invalid", "TOTP Invalid", challenge_details(&c)))
        }
    }
}
