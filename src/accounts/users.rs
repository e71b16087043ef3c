//! Creating users and changing passwords, with the validation every dialect shares.

use super::revoke::revoked;
use crate::auth::ids::{is_valid_display_name, is_valid_email, is_valid_username};
use crate::auth::password::PasswordDigest;
use crate::auth::random;
use crate::clock::now_ms;
use crate::db::audit::{self, Actor};
use crate::db::users::{NewUser, UserRecord};
use crate::db::{roles, users};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Why a password is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort { min: usize },
    TooLong { max: usize },
}

/// Longest password accepted (Meteor's login validator allows 256 characters).
pub const MAX_PASSWORD_CHARS: usize = 256;

pub fn check_password_policy(state: &AppState, plain: &str) -> std::result::Result<(), PolicyViolation> {
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
    Policy(PolicyViolation),
    Store(Error),
}

impl From<Error> for CreateUserError {
    fn from(e: Error) -> Self {
        CreateUserError::Store(e)
    }
}

/// Validates and inserts a user. Uniqueness is checked inside the write transaction, and
/// the unique indexes catch any race that slips past the check.
pub async fn create_user(state: &AppState, draft: UserDraft) -> std::result::Result<UserRecord, CreateUserError> {
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
    state
        .db
        .write(move |tx| {
            if let Some(unknown) = first_unknown_role(tx, &new.roles)? {
                return Ok(Err(CreateUserError::UnknownRole(unknown)));
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
            users::find_by_id(tx, &new.id)?.ok_or_else(|| Error::Internal("inserted user vanished".into())).map(Ok)
        })
        .await
        .map_err(|e| match e {
            Error::Conflict(msg) if msg.contains("email") => CreateUserError::EmailTaken,
            Error::Conflict(_) => CreateUserError::UsernameTaken,
            other => CreateUserError::Store(other),
        })?
}

/// Changes to an existing user, already authorised by the caller's dialect.
#[derive(Debug, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub verified: Option<bool>,
    pub password: Option<String>,
    pub active: Option<bool>,
    pub roles: Option<Vec<String>>,
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub status_text: Option<String>,
    pub require_password_change: Option<bool>,
    /// Replaces the permissions granted directly (SAYMON).
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug)]
pub enum UpdateUserError {
    NotFound,
    Create(CreateUserError),
    /// The change would leave no active admin.
    LastAdmin,
}

impl From<Error> for UpdateUserError {
    fn from(e: Error) -> Self {
        UpdateUserError::Create(CreateUserError::Store(e))
    }
}

/// Validates and applies `update` in one transaction. A password change revokes the
/// user's login tokens; deactivation revokes every token; the last active admin can be
/// neither deactivated nor stripped of the role.
pub async fn update_user(
    state: &AppState,
    actor: &Actor,
    id: &str,
    update: UserUpdate,
) -> std::result::Result<UserRecord, UpdateUserError> {
    use CreateUserError as E;
    let invalid = |e| Err(UpdateUserError::Create(e));
    if update.username.as_deref().is_some_and(|u| !is_valid_username(u)) {
        return invalid(E::InvalidUsername);
    }
    if update.email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        return invalid(E::InvalidEmail);
    }
    if update.name.as_deref().is_some_and(|n| !is_valid_display_name(n)) {
        return invalid(E::InvalidName);
    }
    let password_hash = match &update.password {
        Some(plain) => {
            check_password_policy(state, plain).map_err(|p| UpdateUserError::Create(E::Policy(p)))?;
            Some(state.passwords.hash(PasswordDigest::of_plaintext(plain)).await?)
        }
        None => None,
    };
    let (id, actor) = (id.to_string(), actor.clone());
    state
        .db
        .write(move |tx| {
            let now = now_ms();
            let Some(current) = users::find_by_id(tx, &id)? else {
                return Ok(Err(UpdateUserError::NotFound));
            };
            if let Some(roles) = &update.roles {
                if let Some(unknown) = first_unknown_role(tx, roles)? {
                    return Ok(invalid(E::UnknownRole(unknown)));
                }
            }
            let loses_admin = current.roles.iter().any(|r| r == "admin")
                && (update.active == Some(false)
                    || update.roles.as_ref().is_some_and(|r| !r.iter().any(|x| x == "admin")));
            if loses_admin && current.active && roles::count_other_active_holders(tx, "admin", &id)? == 0 {
                return Ok(Err(UpdateUserError::LastAdmin));
            }
            if let Some(name) = &update.username {
                if users::find_by_username(tx, name)?.is_some_and(|u| u.id != id) {
                    return Ok(invalid(E::UsernameTaken));
                }
            }
            if let Some(email) = &update.email {
                if users::find_by_email(tx, email)?.is_some_and(|u| u.id != id) {
                    return Ok(invalid(E::EmailTaken));
                }
            }
            let email_changed = update.email.as_deref().is_some_and(|e| current.email.as_deref() != Some(e));
            let changes = users::UserChanges {
                username: update.username,
                name: update.name,
                email_verified: update.verified.or(email_changed.then_some(false)),
                email: update.email,
                nickname: update.nickname,
                bio: update.bio,
                status_text: update.status_text,
                require_password_change: update.require_password_change,
                roles: update.roles,
            };
            users::update_profile(tx, &id, &changes, now)?;
            if let Some(permissions) = &update.permissions {
                roles::set_direct_permissions(tx, &id, permissions)?;
            }
            if let Some(hash) = &password_hash {
                let n = users::set_password(tx, &id, hash, now)?;
                audit::record(tx, &actor, &revoked(&current, "login", format!("password change: {n} token(s)")), now)?;
            }
            if let Some(active) = update.active {
                if active != current.active {
                    let n = users::set_active(tx, &id, active, now)?;
                    if !active {
                        audit::record(
                            tx,
                            &actor,
                            &revoked(&current, "all", format!("deactivation: {n} token(s)")),
                            now,
                        )?;
                    }
                }
            }
            let updated = users::find_by_id(tx, &id)?.ok_or_else(|| Error::Internal("updated user vanished".into()))?;
            Ok(Ok(updated))
        })
        .await
        .map_err(|e| match e {
            Error::Conflict(msg) if msg.contains("email") => UpdateUserError::Create(E::EmailTaken),
            Error::Conflict(_) => UpdateUserError::Create(E::UsernameTaken),
            other => UpdateUserError::from(other),
        })?
}

fn first_unknown_role(conn: &rusqlite::Connection, roles: &[String]) -> Result<Option<String>> {
    for role in roles {
        if !roles::role_exists(conn, role)? {
            return Ok(Some(role.clone()));
        }
    }
    Ok(None)
}

/// Deletes a user unless it is the last active admin. Returns false if there was no such user.
pub async fn delete_user(state: &AppState, actor: &Actor, id: &str) -> std::result::Result<bool, UpdateUserError> {
    let (id, actor) = (id.to_string(), actor.clone());
    state
        .db
        .write(move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(Ok(false));
            };
            let is_admin = user.active && user.roles.iter().any(|r| r == "admin");
            if is_admin && roles::count_other_active_holders(tx, "admin", &id)? == 0 {
                return Ok(Err(UpdateUserError::LastAdmin));
            }
            let deleted = users::delete(tx, &id)?;
            audit::record(tx, &actor, &revoked(&user, "all", "user deleted".into()), now_ms())?;
            Ok(Ok(deleted))
        })
        .await?
}
