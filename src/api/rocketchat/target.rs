//! Naming the user a request acts on (`getUserFromParams`, spec §9.0), and how account
//! validation failures read in Rocket.Chat's words (§9.2, §4).

use super::error::{RcError, RcResult};
use crate::accounts::directory::{self, UserKey};
use crate::accounts::{CreateUserError, PolicyViolation, UserRecord};
use crate::api::state::AppState;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserParams {
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub user: Option<String>,
}

impl UserParams {
    fn given(&self) -> Vec<UserKey> {
        let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut out = Vec::new();
        if let Some(id) = trimmed(&self.user_id) {
            out.push(UserKey::Id(id));
        }
        for name in [trimmed(&self.username), trimmed(&self.user)].into_iter().flatten() {
            out.push(UserKey::Username(name));
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.given().is_empty()
    }
}

pub fn user_not_found() -> RcError {
    RcError::meteor(
        "error-invalid-user",
        "The required \"userId\" or \"username\" param provided does not match any users",
    )
}

/// Resolves `userId` | `username` | `user`. When several are given they must all name
/// the same user: a request never acts on whichever identifier happens to be read first.
pub async fn resolve(state: &AppState, params: &UserParams) -> RcResult<UserRecord> {
    let given = params.given();
    if given.is_empty() {
        return Err(RcError::meteor(
            "error-user-param-not-provided",
            "The required \"userId\" or \"username\" param was not provided",
        ));
    }
    let found = directory::find_each(state, given).await?;
    let mut ids = found.iter().map(|u| u.as_ref().map(|u| u.id.clone()));
    let first = ids.next().flatten();
    if first.is_none() || ids.any(|id| id != first) {
        return Err(user_not_found());
    }
    Ok(found.into_iter().next().flatten().expect("checked above"))
}

/// Account validation failures in Rocket.Chat's wording.
pub fn create_error(err: CreateUserError, username: &str, email: &str) -> RcError {
    // Rocket.Chat's `validateUserData` errors carry `details` naming the method and field.
    let with = |code: &str, reason: &str, details: Value| RcError::meteor_with_details(code, reason, details);
    match err {
        CreateUserError::InvalidUsername => with(
            "error-input-is-not-a-valid-field",
            &format!("{username} is not a valid username"),
            json!({"method": SAVE_USER, "input": username, "field": "Username"}),
        ),
        CreateUserError::InvalidEmail => {
            with("error-invalid-email", &format!("Invalid email {email}"), json!({"method": SAVE_USER, "email": email}))
        }
        CreateUserError::InvalidName => RcError::failure("Name contains invalid characters"),
        CreateUserError::UsernameTaken => with(
            "error-field-unavailable",
            &format!("{username} is already in use :("),
            json!({"method": SAVE_USER, "field": username}),
        ),
        CreateUserError::EmailTaken => with(
            "error-field-unavailable",
            &format!("{email} is already in use :("),
            json!({"method": SAVE_USER, "field": email}),
        ),
        CreateUserError::UnknownRole(_) => invalid_role(),
        CreateUserError::UnknownPermission(p) => RcError::invalid_params(&format!("unknown permission {p:?}")),
        CreateUserError::Policy(violation) => policy_error(violation),
        CreateUserError::Store(e) => e.into(),
    }
}

/// The Meteor method whose validation `users.create` and `users.update` share.
pub const SAVE_USER: &str = "insertOrUpdateUser";

/// `error-action-not-allowed` as `validateUserData` throws it, naming the refused action.
pub fn save_user_not_allowed(reason: &str, action: &str) -> RcError {
    RcError::meteor_with_details("error-action-not-allowed", reason, json!({"method": SAVE_USER, "action": action}))
}

/// `error-the-field-is-required` with its details, as `validateUserData` throws it.
pub fn field_required(field: &str) -> RcError {
    RcError::meteor_with_details(
        "error-the-field-is-required",
        &format!("The field {field} is required"),
        json!({"method": SAVE_USER, "field": field}),
    )
}

pub fn invalid_role() -> RcError {
    save_user_not_allowed("The field Roles consist invalid role id", "Assign_role")
}

fn policy_error(violation: PolicyViolation) -> RcError {
    // Rocket.Chat's wording, verbatim (spec §4): the limits are not part of the message.
    let (error, message) = match violation {
        PolicyViolation::TooShort { .. } => (
            "error-password-policy-not-met-minLength",
            "The password does not meet the minimum length password policy.",
        ),
        PolicyViolation::TooLong { .. } => (
            "error-password-policy-not-met-maxLength",
            "The password does not meet the maximum length password policy.",
        ),
    };
    RcError::meteor_with_details(
        "error-password-policy-not-met",
        "The password provided does not meet the server's password policy.",
        json!([{"error": error, "message": message}]),
    )
}
