//! The core's refusals (`accounts::Refusal`) in Rocket.Chat's envelope: each is a Meteor
//! error (400) whose reason names the rule that refused.

use super::caller::{LOGIN_TOKEN_REQUIRED, LOGIN_TOKEN_REQUIRED_REASON};
use super::error::RcError;
use crate::accounts::{Blocked, Refusal};
use serde_json::json;

/// Rocket.Chat's wording of a failed-login block (`Accounts.validateLoginAttempt`).
pub fn blocked_message(by: Blocked) -> (&'static str, &'static str) {
    match by {
        Blocked::ByIp => ("error-login-blocked-for-ip", "Login has been temporarily blocked For IP"),
        Blocked::ByUser => ("error-login-blocked-for-user", "Login has been temporarily blocked For User"),
    }
}

impl From<Refusal> for RcError {
    fn from(refusal: Refusal) -> Self {
        let ceiling = |reason: String, permission: &str| {
            let details = json!({"guard": "privilege-ceiling", "permission": permission});
            RcError::meteor_with_details("error-action-not-allowed", &reason, details)
        };
        match refusal {
            Refusal::Ceiling { permission } => ceiling(
                format!(
                    "Not allowed by the privilege ceiling: the user holds the permission \"{permission}\", which you do not"
                ),
                &permission,
            ),
            Refusal::Grant { permission } => ceiling(
                format!(
                    "Not allowed by the privilege ceiling: you cannot grant the permission \"{permission}\", which you do not hold"
                ),
                &permission,
            ),
            Refusal::PatReach => RcError::meteor(
                LOGIN_TOKEN_REQUIRED,
                "A personal access token cannot act on an account as privileged as its owner; log in",
            ),
            Refusal::LoginTokenRequired => RcError::meteor(LOGIN_TOKEN_REQUIRED, LOGIN_TOKEN_REQUIRED_REASON),
            Refusal::LastAdmin => RcError::meteor("error-admin-required", "You need to have at least one admin"),
            Refusal::TargetInactive => RcError::meteor(
                "error-user-is-not-activated",
                "User is not activated; reactivate it before minting a token",
            ),
            Refusal::VerifyEmail => {
                RcError::meteor("error-action-not-allowed", "Only an administrator may mark an e-mail address verified")
            }
            Refusal::Blocked(by) => {
                let (code, reason) = blocked_message(by);
                RcError::meteor(code, reason)
            }
            // A permission-like refusal: 403, as Rocket.Chat answers a missing permission.
            Refusal::ReadOnlyToken => RcError::Status(
                actix_web::http::StatusCode::FORBIDDEN,
                "This token is read-only: it cannot change anything [error-read-only-token]".into(),
            ),
            Refusal::UnstorableText => RcError::invalid_params("a text must not contain the NUL character (\\u0000)"),
            Refusal::CredentialRevoked => RcError::NotLoggedIn,
        }
    }
}
