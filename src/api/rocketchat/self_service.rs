//! Self-service routes (Rocket.Chat `v1/users.ts`): `users.register`, `users.deleteOwnAccount`,
//! `users.forgotPassword`, and `settings.public`, which tells clients which are on. The
//! reset itself is the Meteor `resetPassword` method (`method_login`), as in Rocket.Chat.

use super::caller::Caller;
use super::error::{RcError, RcResult};
use super::extract::{RcBody, RcQuery};
use super::gate::client_addr;
use super::refusal::blocked_message;
use super::session::ok;
use super::target;
use super::views;
use crate::accounts::self_service::{self, DeleteOwnError};
use crate::api::state::AppState;
use crate::auth::password::PasswordDigest;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    username: String,
    email: String,
    pass: Option<String>,
    /// Optional, as in Rocket.Chat; the username stands in.
    name: Option<String>,
    secret: Option<String>,
    /// Rocket.Chat's manual-approval reason; tokend approves nobody by hand.
    #[serde(rename = "reason")]
    _reason: Option<String>,
    #[serde(rename = "customFields")]
    _custom_fields: Option<Map<String, Value>>,
}

fn registration_error(code: &str, reason: &str) -> RcError {
    RcError::meteor_with_details(code, reason, json!({"method": "registerUser"}))
}

/// `POST users.register {username, email, pass, name, secret?}`: off unless the operator
/// sets `TOKEND_REGISTRATION=on`; with `TOKEND_REGISTRATION_SECRET` the body's `secret`
/// must match (Rocket.Chat's Secret URL form). The new account holds the `user` role.
pub async fn register(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    req: HttpRequest,
    RcBody(body): RcBody<RegisterBody>,
) -> RcResult<HttpResponse> {
    if caller.is_some() {
        return Err(RcError::failure("Logged in users can not register again."));
    }
    if !state.config.registration {
        return Err(registration_error("error-user-registration-disabled", "User registration is disabled"));
    }
    if let Some(expected) = &state.config.registration_secret {
        let given = body.secret.unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
            let reason = "User registration is only allowed via Secret URL";
            return Err(registration_error("error-user-registration-secret", reason));
        }
    }
    let Some(pass) = body.pass else {
        return Err(RcError::invalid_params("must have required property 'pass'"));
    };
    let name = body.name.unwrap_or_else(|| body.username.clone());
    if !name.is_empty() && !crate::auth::ids::is_valid_display_name(&name) {
        return Err(RcError::failure("Name contains invalid characters"));
    }
    let (username, email) = (body.username.clone(), body.email.clone());
    let user = self_service::register(&state, client_addr(&req), body.username, name, body.email, pass).await.map_err(
        |e| match e {
            crate::accounts::CreateUserError::UsernameTaken => RcError::failure("Username is already in use"),
            crate::accounts::CreateUserError::EmailTaken => RcError::failure("Email already exists"),
            e => target::create_error(e, &username, &email),
        },
    )?;
    log::info!("users.register: a new account {} registered", user.id);
    // Rocket.Chat answers with `parseJsonQuery`'s fields for an anonymous caller, which
    // leave out the limited ones (addresses, roles, dates): the non-privileged document.
    Ok(ok(json!({"user": views::user_document(&user, false)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteOwnBody {
    password: Option<String>,
    confirm_relinquish: Option<bool>,
}

/// `POST users.deleteOwnAccount {password}` (the SHA-256 hex of the password, as Rocket.Chat's
/// client sends it): only with `TOKEND_DELETE_OWN_ACCOUNT=on`; never the last admin.
pub async fn delete_own_account(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    RcBody(body): RcBody<DeleteOwnBody>,
) -> RcResult<HttpResponse> {
    let Some(password) = body.password.filter(|p| !p.is_empty()) else {
        return Err(RcError::failure("Body parameter \"password\" is required."));
    };
    let _ = body.confirm_relinquish; // tokend owns no rooms to relinquish
    // The route's own check (`v1/users.ts`), which names no method, unlike the method's.
    if !state.config.delete_own_account {
        return Err(RcError::meteor("error-not-allowed", "Not allowed"));
    }
    let invalid = || {
        RcError::meteor_with_details(
            "error-invalid-password",
            "Invalid password",
            json!({"method": "deleteUserOwnAccount"}),
        )
    };
    let digest = PasswordDigest::from_client_digest(&password.to_ascii_lowercase()).ok_or_else(invalid)?;
    match self_service::delete_own_account(&state, &caller.acting(&req), digest).await? {
        Ok(()) => {
            log::info!("users.deleteOwnAccount: user {} deleted their account", caller.id());
            Ok(ok(json!({})))
        }
        Err(DeleteOwnError::InvalidPassword) => Err(invalid()),
        Err(DeleteOwnError::Blocked(by)) => {
            let (code, reason) = blocked_message(by);
            Err(RcError::meteor(code, reason))
        }
        Err(DeleteOwnError::LastAdmin) => Err(RcError::meteor_with_details(
            "error-action-not-allowed",
            "Leaving the app without admins is not allowed.",
            json!({"method": "deleteUser", "action": "Remove_last_admin"}),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    email: Option<String>,
}

/// `POST users.forgotPassword {email}`: always `{"success":true}` — answered before the
/// address is looked up or any mail is sent, so it tells nobody whether the address has an
/// account. The link (single-use, `TOKEND_PASSWORD_RESET_SECS`) goes out over the 2FA SMTP.
pub async fn forgot_password(state: web::Data<AppState>, RcBody(body): RcBody<ForgotBody>) -> RcResult<HttpResponse> {
    let Some(email) = body.email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()) else {
        return Err(RcError::failure("The 'email' param is required"));
    };
    actix_web::rt::spawn(async move {
        if let Err(e) = self_service::send_reset_link(&state, email).await {
            e.log_and_is_unavailable();
        }
    });
    Ok(ok(json!({})))
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    #[serde(rename = "query")]
    _query: Option<String>,
    #[serde(rename = "_id")]
    _id: Option<String>,
    #[serde(rename = "count")]
    _count: Option<String>,
    #[serde(rename = "offset")]
    _offset: Option<String>,
}

/// `GET settings.public`: the public settings a client reads to decide what to offer
/// (registration, password reset, deleting one's account), as Rocket.Chat names them.
pub async fn public_settings(state: web::Data<AppState>, RcQuery(_q): RcQuery<SettingsQuery>) -> HttpResponse {
    let form = match (state.config.registration, state.config.registration_secret.is_some()) {
        (false, _) => "Disabled",
        (true, false) => "Public",
        (true, true) => "Secret URL",
    };
    let settings = [
        ("Accounts_AllowDeleteOwnAccount", json!(state.config.delete_own_account)),
        ("Accounts_PasswordReset", json!(state.mailer.is_configured())),
        ("Accounts_RegistrationForm", json!(form)),
    ];
    let docs: Vec<Value> = settings.iter().map(|(id, value)| json!({"_id": id, "value": value})).collect();
    ok(json!({"settings": docs, "count": docs.len(), "offset": 0, "total": docs.len()}))
}
