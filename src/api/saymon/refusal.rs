//! The core's refusals (`accounts::Refusal`) in SAYMON's envelope: policy refusals are 403
//! `Forbidden` naming the rule, lockouts 429, account-state conflicts 400.

use super::error::SaymonError;
use crate::accounts::Refusal;

impl From<Refusal> for SaymonError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Ceiling { permission } => SaymonError::Forbidden(format!(
                "Refused by the privilege ceiling: the user holds the permission {permission:?}, which you do not"
            )),
            Refusal::Grant { permission } => SaymonError::Forbidden(format!(
                "Refused by the privilege ceiling: you cannot grant the permission {permission:?}, which you do not hold"
            )),
            Refusal::PatReach | Refusal::LoginTokenRequired | Refusal::VerifyEmail => {
                SaymonError::Forbidden(format!("Refused: {}", refusal.rule()))
            }
            Refusal::LastAdmin => SaymonError::BadRequest("At least one active admin must remain".into()),
            Refusal::TargetInactive => SaymonError::BadRequest("User is blocked; unblock it first".into()),
            Refusal::Blocked(_) => SaymonError::TooManyFailedLogins,
            Refusal::ReadOnlyToken => {
                SaymonError::Forbidden("This API token is read-only: it cannot change anything".into())
            }
            Refusal::UnstorableText => SaymonError::BadRequest("A text must not contain the NUL character".into()),
            Refusal::CredentialRevoked => SaymonError::NotLoggedIn,
        }
    }
}
