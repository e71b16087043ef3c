//! Creating users, with the validation every dialect shares (`user_edit` changes them).

use super::Accounts;
use super::acting::Acting;
use super::ceiling;
use crate::auth::ids::{is_valid_display_name, is_valid_email, is_valid_username};
use crate::auth::password::PasswordDigest;
use crate::auth::random;
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::users::{NewUser, UserRecord};
use crate::db::{roles, users};
use crate::error::{Error, Result};

/// Why a password is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort { min: usize },
    TooLong { max: usize },
}

/// Longest password accepted (Meteor's login validator allows 256 characters).
pub const MAX_PASSWORD_CHARS: usize = 256;

pub fn check_password_policy(state: &Accounts, plain: &str) -> std::result::Result<(), PolicyViolation> {
    let chars = plain.chars().count();
    let min = state.config.password_min_length;
    if chars < min {
        return Err(PolicyViolation::TooShort { min });
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PolicyViolation::TooLong { max: MAX_PASSWORD_CHARS });
    }
    Ok(())
}

/// A user to create, as any dialect or the CLI describes one.
#[derive(Debug, Default)]
pub struct UserDraft {
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub password: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub require_password_change: bool,
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub status_text: Option<String>,
    /// Permissions granted directly (SAYMON); they must exist.
    pub permissions: Vec<String>,
}

#[derive(Debug)]
pub enum CreateUserError {
    InvalidUsername,
    InvalidEmail,
    InvalidName,
    UsernameTaken,
    EmailTaken,
    UnknownRole(String),
    UnknownPermission(String),
    Policy(PolicyViolation),
    Store(Error),
}

impl From<Error> for CreateUserError {
    fn from(e: Error) -> Self {
        CreateUserError::Store(e)
    }
}

/// Validates and inserts a user on behalf of `acting`. Uniqueness is checked inside the
/// write transaction, and the unique indexes catch any race that slips past the check. The
/// privilege ceiling applies to what the new account holds: nobody creates an account with
/// a permission they lack (nor, with a PAT, one as privileged as the token's owner).
pub async fn create_user(
    state: &Accounts,
    acting: &Acting,
    draft: UserDraft,
) -> std::result::Result<UserRecord, CreateUserError> {
    if !is_valid_username(&draft.username) {
        return Err(CreateUserError::InvalidUsername);
    }
    if let Some(email) = &draft.email {
        if !is_valid_email(email) {
            return Err(CreateUserError::InvalidEmail);
        }
    }
    if !is_valid_display_name(&draft.name) {
        return Err(CreateUserError::InvalidName);
    }
    check_password_policy(state, &draft.password).map_err(CreateUserError::Policy)?;
    let hash = state.passwords.hash(PasswordDigest::of_plaintext(&draft.password)).await?;
    let new = NewUser {
        id: random::user_id(),
        username: draft.username,
        name: draft.name,
        email: draft.email,
        email_verified: draft.email_verified,
        password_hash: Some(hash),
        active: draft.active,
        user_type: if draft.roles.iter().any(|r| r == "bot") { "bot".into() } else { "user".into() },
        require_password_change: draft.require_password_change,
        nickname: draft.nickname,
        bio: draft.bio,
        status_text: draft.status_text,
        roles: draft.roles,
        permissions: draft.permissions,
    };
    let acting = acting.clone();
    state
        .db
        // Global: unique usernames, roles that exist, the acting user's ceiling.
        .write(Scope::global(), move |tx| {
            let before = ceiling::held_by(tx, &acting)?;
            // Only an administrator vouches for an address, at creation as at any edit.
            if new.email_verified && new.email.is_some() && !acting.is_operator() {
                let id = acting.user_id().unwrap_or_default();
                if !roles::user_has_permission(tx, id, super::user_edit::VERIFY_EMAIL_PERMISSION)? {
                    return Err(super::Refusal::VerifyEmail.into());
                }
            }
            if let Some(unknown) = first_unknown_role(tx, &new.roles)? {
                return Ok(Err(CreateUserError::UnknownRole(unknown)));
            }
            if let Some(unknown) = first_unknown_permission(tx, &new.permissions)? {
                return Ok(Err(CreateUserError::UnknownPermission(unknown)));
            }
            if users::find_by_username(tx, &new.username)?.is_some() {
                return Ok(Err(CreateUserError::UsernameTaken));
            }
            if let Some(email) = &new.email {
                if users::find_by_email(tx, email)?.is_some() {
                    return Ok(Err(CreateUserError::EmailTaken));
                }
            }
            users::insert(tx, &new, now_ms())?;
            ceiling::may_hold(tx, &acting, before.as_deref(), &new.id)?;
            users::find_by_id(tx, &new.id)?.ok_or_else(|| Error::Internal("inserted user vanished".into())).map(Ok)
        })
        .await
        .map_err(|e| match e {
            Error::Conflict(msg) if msg.contains("email") => CreateUserError::EmailTaken,
            Error::Conflict(_) => CreateUserError::UsernameTaken,
            other => CreateUserError::Store(other),
        })?
}

pub(super) fn first_unknown_role(conn: &dyn crate::db::Sql, roles: &[String]) -> Result<Option<String>> {
    for role in roles {
        if !roles::role_exists(conn, role)? {
            return Ok(Some(role.clone()));
        }
    }
    Ok(None)
}

pub(super) fn first_unknown_permission(conn: &dyn crate::db::Sql, permissions: &[String]) -> Result<Option<String>> {
    for p in permissions {
        if !roles::permission_exists(conn, p)? {
            return Ok(Some(p.clone()));
        }
    }
    Ok(None)
}
