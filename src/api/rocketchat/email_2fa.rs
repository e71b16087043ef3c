//! E-mail 2FA routes (spec §10.6): `users.2fa.enableEmail`, `users.2fa.disableEmail`,
//! `users.2fa.sendEmailCode`.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::RcBody;
use super::gate::require_two_factor;
use super::session::ok;
use crate::accounts::UserRecord;
use crate::accounts::directory::{self, UserKey};
use crate::accounts::email_2fa::{self, EnableError};
use crate::accounts::two_factor::Options;
use crate::api::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

/// `POST users.2fa.enableEmail`: needs a verified address; the caller's other login tokens
/// end (this one and PATs survive).
pub async fn enable(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> RcResult<HttpResponse> {
    caller.require_login_token(&req)?;
    match email_2fa::enable(&state, &caller.acting(&req), caller.user(), caller.current()).await? {
        Ok(revoked) => {
            log::info!("e-mail 2FA enabled for user {} ({revoked} other login token(s) revoked)", caller.id());
            Ok(ok(json!({})))
        }
        Err(EnableError::NoVerifiedEmail) => {
            Err(RcError::meteor("error-invalid-user", "You need to verify your emails before setting up 2FA"))
        }
        Err(EnableError::MailUnavailable) => Err(mail_unavailable()),
    }
}

/// 400: without SMTP no code can ever be sent, so this is no temporary failure (503).
fn mail_unavailable() -> RcError {
    RcError::meteor(
        "error-email-2fa-unavailable",
        "E-mail two-factor authentication is not available: this server has no SMTP configured",
    )
}

/// `POST users.2fa.disableEmail`: 2FA-gated, and a remembered check does not count.
pub async fn disable(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> RcResult<HttpResponse> {
    caller.require_login_token(&req)?;
    let options = Options { disable_remember_me: true, ..Options::default() };
    let gate = require_two_factor(&state, &caller, &req, options).await?;
    email_2fa::disable(&state, caller.id(), &gate).await?;
    log::info!("e-mail 2FA disabled for user {}", caller.id());
    Ok(ok(json!({})))
}

/// `POST users.2fa.sendEmailCode {emailOrUsername}` (spec §10.6): no authentication; a
/// logged-in caller gets the code for themself. Like Rocket.Chat it answers
/// `{"success":true}` whoever is named and whether or not mail can go out — and answers
/// before looking the name up, so neither the answer nor its timing tells which accounts
/// exist. Lookup and delivery run afterwards; a failed delivery is logged by the mailer.
pub async fn send_code(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    RcBody(body): RcBody<Value>,
) -> RcResult<HttpResponse> {
    let name = body.get("emailOrUsername").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let Some(name) = name.map(str::to_string) else {
        return Err(RcError::meteor("error-parameter-required", "emailOrUsername is required"));
    };
    if state.mailer.is_configured() {
        let own = caller.map(|c| c.user().clone());
        actix_web::rt::spawn(async move {
            if let Err(e) = mail_code(&state, own, name).await {
                e.log_and_is_unavailable();
            }
        });
    }
    Ok(ok(json!({})))
}

/// The background half of `send_code`: mails a fresh code to the caller, or to the named
/// user if they can receive one; anyone else gets nothing, silently.
async fn mail_code(state: &AppState, own: Option<UserRecord>, name: String) -> crate::error::Result<()> {
    let user = match own {
        Some(user) => Some(user),
        None => {
            let key = if name.contains('@') { UserKey::Email(name) } else { UserKey::Username(name) };
            directory::find(state, key).await?
        }
    };
    if let Some(user) = user.filter(|u| u.active && email_2fa::can_receive(state, u)) {
        // A failure is logged where it happens (`mail: e-mail delivery failed`); the code is withdrawn.
        let _ = email_2fa::send_code(state, &user).await?;
    }
    Ok(())
}
