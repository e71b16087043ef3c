//! Changing and deleting users, for every dialect. The rules live here: the privilege
//! ceiling on the target and on what it ends up holding, the revocation policy of a
//! password change or deactivation, last-admin protection, and the self-service limits
//! (a PAT never changes its own account's credentials; only an administrator says an
//! address is verified).

use super::acting::Acting;
use super::refusal::Refusal;
use super::revocation::{self, Current, Event};
use super::users::{CreateUserError, check_password_policy, first_unknown_permission, first_unknown_role};
use super::{Accounts, ceiling};
use crate::auth::ids::{is_valid_display_name, is_valid_email, is_valid_username};
use crate::auth::password::PasswordDigest;
use crate::clock::now_ms;
use crate::db::roles;
use crate::db::users::{self, UserRecord};
use crate::db::{Scope, Sql};
use crate::error::{Error, Result};

/// The permission that lets an account vouch for an address (Rocket.Chat lets only those
/// who may edit other users set `verified`): a user who could mark their own new address
/// verified could turn on e-mail 2FA to a mailbox they do not own.
pub const VERIFY_EMAIL_PERMISSION: &str = "edit-other-user-info";

/// Changes to an existing user; which route may ask for which is the dialect's to check.
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
        match e {
            Error::Refused(Refusal::LastAdmin) => UpdateUserError::LastAdmin,
            other => UpdateUserError::Create(CreateUserError::Store(other)),
        }
    }
}

fn validate(state: &Accounts, update: &UserUpdate) -> std::result::Result<(), CreateUserError> {
    if update.username.as_deref().is_some_and(|u| !is_valid_username(u)) {
        return Err(CreateUserError::InvalidUsername);
    }
    if update.email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        return Err(CreateUserError::InvalidEmail);
    }
    if update.name.as_deref().is_some_and(|n| !is_valid_display_name(n)) {
        return Err(CreateUserError::InvalidName);
    }
    if let Some(plain) = &update.password {
        check_password_policy(state, plain).map_err(CreateUserError::Policy)?;
    }
    Ok(())
}

/// Who may make this change at all, before anything is written.
fn authorise(tx: &dyn Sql, acting: &Acting, current: &UserRecord, update: &UserUpdate) -> Result<()> {
    if acting.acts_on_self(&current.id) {
        // One's own credentials need a session.
        if update.password.is_some() || update.email.is_some() {
            acting.require_session()?;
        }
    } else {
        ceiling::may_act_on(tx, acting, &current.id)?;
    }
    if update.roles.is_some() || update.permissions.is_some() {
        ceiling::may_change_grants_of(tx, acting, &current.id)?;
    }
    // Only a change counts: clients often send the whole user back, `verified` included.
    let email_changes = update.email.as_deref().is_some_and(|e| current.email.as_deref() != Some(e));
    let vouches = update.verified == Some(true) && (email_changes || !current.email_verified);
    if vouches && !acting.is_operator() {
        let id = acting.user_id().unwrap_or_default();
        if !roles::user_has_permission(tx, id, VERIFY_EMAIL_PERMISSION)? {
            return Err(Refusal::VerifyEmail.into());
        }
    }
    Ok(())
}

fn is_active_admin(user: &UserRecord) -> bool {
    user.active && user.roles.iter().any(|r| r == "admin")
}

/// Validates and applies `update` in one transaction, on behalf of `acting`.
pub async fn update_user(
    state: &Accounts,
    acting: &Acting,
    id: &str,
    update: UserUpdate,
) -> std::result::Result<UserRecord, UpdateUserError> {
    use CreateUserError as E;
    validate(state, &update).map_err(UpdateUserError::Create)?;
    let password_hash = match &update.password {
        Some(plain) => Some(state.passwords.hash(PasswordDigest::of_plaintext(plain)).await?),
        None => None,
    };
    let (id, acting) = (id.to_string(), acting.clone());
    let invalid = |e| Ok(Err(UpdateUserError::Create(e)));
    state
        .db
        // Global: a deactivation or a role change must keep an active admin, and the new
        // username must stay unique, across every writer.
        .write(Scope::global_over(&id), move |tx| {
            let now = now_ms();
            let Some(current) = users::find_by_id(tx, &id)? else {
                return Ok(Err(UpdateUserError::NotFound));
            };
            authorise(tx, &acting, &current, &update)?;
            let before = ceiling::held_by(tx, &acting)?;
            if let Some(unknown) = first_unknown_role(tx, update.roles.as_deref().unwrap_or_default())? {
                return invalid(E::UnknownRole(unknown));
            }
            if let Some(unknown) = first_unknown_permission(tx, update.permissions.as_deref().unwrap_or_default())? {
                return invalid(E::UnknownPermission(unknown));
            }
            if let Some(name) = &update.username {
                if users::find_by_username(tx, name)?.is_some_and(|u| u.id != id) {
                    return invalid(E::UsernameTaken);
                }
            }
            if let Some(email) = &update.email {
                if users::find_by_email(tx, email)?.is_some_and(|u| u.id != id) {
                    return invalid(E::EmailTaken);
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
                roles: update.roles.clone(),
            };
            users::update_profile(tx, &id, &changes, now)?;
            if email_changed {
                revocation::apply_in(tx, &acting.actor, &current, Event::EmailChanged, Current::None, None)?;
            }
            if let Some(permissions) = &update.permissions {
                roles::set_direct_permissions(tx, &id, permissions)?;
            }
            if update.roles.is_some() || update.permissions.is_some() {
                ceiling::may_hold(tx, &acting, before.as_deref(), &id)?;
            }
            if let Some(active) = update.active.filter(|a| *a != current.active) {
                users::set_active(tx, &id, active, now)?;
                if !active {
                    revocation::apply_in(tx, &acting.actor, &current, Event::Deactivated, Current::None, None)?;
                }
            }
            keeps_an_admin(tx, &current)?;
            if let Some(hash) = &password_hash {
                users::set_password(tx, &id, hash, now)?;
                revocation::apply_in(tx, &acting.actor, &current, Event::PasswordChanged, Current::None, None)?;
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

/// Last-admin protection, checked after a change inside its transaction (so it also holds
/// for changes made through roles): if `before` was an active admin and no active admin
/// remains, the change is refused and rolled back.
pub fn keeps_an_admin(tx: &dyn Sql, before: &UserRecord) -> Result<()> {
    if !is_active_admin(before) {
        return Ok(());
    }
    let still = users::find_by_id(tx, &before.id)?.is_some_and(|u| is_active_admin(&u));
    if !still && roles::count_other_active_holders(tx, "admin", &before.id)? == 0 {
        return Err(Refusal::LastAdmin.into());
    }
    Ok(())
}

/// Deletes a user on behalf of `acting` (privilege ceiling; never the last active admin).
/// Returns false if there was no such user.
pub async fn delete_user(state: &Accounts, acting: &Acting, id: &str) -> std::result::Result<bool, UpdateUserError> {
    let (id, acting) = (id.to_string(), acting.clone());
    state
        .db
        // Global: two deletions of the last two admins must not both pass `keeps_an_admin`.
        .write(Scope::global_over(&id), move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(false);
            };
            ceiling::may_act_on(tx, &acting, &id)?;
            revocation::apply_in(tx, &acting.actor, &user, Event::Deleted, Current::None, None)?;
            let deleted = users::delete(tx, &id)?;
            keeps_an_admin(tx, &user)?;
            Ok(deleted)
        })
        .await
        .map_err(UpdateUserError::from)
}
