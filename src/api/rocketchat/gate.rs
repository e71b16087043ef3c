//! The Rocket.Chat face of the second-factor gate (`totp-required` / `totp-invalid` as HTTP
//! 400, spec §10.1); the decision itself is the core's (`accounts::two_factor`).

use super::caller::Caller;
use super::error::{RcError, RcResult};
use crate::accounts::Refusal;
use crate::accounts::two_factor::{self, Attempt, Challenge, Decision, Options, Passed};
use crate::api::state::AppState;
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

pub use crate::api::client_addr::client_addr;

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A challenge's `details`, as Rocket.Chat sends them with `totp-required`/`totp-invalid`.
/// The e-mail method adds `emailOrUsername` and, for a code sent earlier, `codeExpires`.
pub fn challenge_details(c: &Challenge) -> Value {
    let mut d = Map::new();
    d.insert("method".into(), json!(c.method.name()));
    d.insert("codeGenerated".into(), json!(c.code_generated));
    if let Some(who) = &c.email_or_username {
        d.insert("emailOrUsername".into(), json!(who));
    }
    if let Some(expires) = c.code_expires {
        d.insert("codeExpires".into(), json!(crate::clock::iso(expires)));
    }
    d.insert("availableMethods".into(), json!(c.available_methods));
    Value::Object(d)
}

/// 503 when the e-mail carrying a code could not be sent (the cause is in the log).
pub fn delivery_failed() -> RcError {
    RcError::Status(
        StatusCode::SERVICE_UNAVAILABLE,
        "The e-mail with your authentication code could not be sent; try again later or use another method".into(),
    )
}

/// Passes (with the proof the gated operation needs), or answers with the challenge the
/// client must meet (`x-2fa-code`).
pub async fn require_two_factor(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    options: Options,
) -> RcResult<Passed> {
    require_two_factor_or_password(state, caller, req, options, None).await
}

/// `require_two_factor`, where a route that takes the current password in its body (as
/// Rocket.Chat's `saveUserProfile` does with `twoFactorOptions`) offers that digest as the
/// password-method code when no `x-2fa-code` header came.
pub async fn require_two_factor_or_password(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    options: Options,
    password_digest: Option<&str>,
) -> RcResult<Passed> {
    let user_agent = header(req, "user-agent").unwrap_or_default();
    let addr = client_addr(req);
    let (code, method) = match (header(req, "x-2fa-code"), password_digest) {
        (None, Some(digest)) => (Some(digest.to_string()), Some("password".to_string())),
        (code, _) => (code, header(req, "x-2fa-method")),
    };
    let attempt = Attempt {
        code,
        method,
        fingerprint: two_factor::client_fingerprint(&user_agent, addr.as_deref().unwrap_or_default()),
        client_addr: addr,
    };
    match two_factor::check(state, caller.owner(), &caller.token_hash(), &attempt, options).await? {
        Decision::Pass(passed) => Ok(passed),
        Decision::Blocked(by) => Err(Refusal::Blocked(by).into()),
        Decision::Required(c) => {
            Err(RcError::meteor_with_details("totp-required", "TOTP Required", challenge_details(&c)))
        }
        Decision::Invalid(c) => {
            log::info!("2FA: invalid code from user {}", caller.id());
            Err(RcError::meteor_with_details("totp-invalid", "TOTP Invalid", challenge_details(&c)))
        }
        Decision::MaxAttempts(c) => {
            log::info!("2FA: too many wrong e-mail codes from user {}", caller.id());
            let reason = "TOTP Maximun Failed Attempts Reached";
            Err(RcError::meteor_with_details("totp-max-attempts", reason, challenge_details(&c)))
        }
        Decision::DeliveryFailed => Err(delivery_failed()),
    }
}
