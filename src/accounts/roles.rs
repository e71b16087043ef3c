//! Roles and permissions (the Rocket.Chat model): reading them, and the changes that hand
//! permissions to accounts — each under the privilege ceiling and last-admin protection.

use super::acting::Acting;
use super::user_edit::keeps_an_admin;
use super::{Accounts, ceiling};
use crate::clock::{Millis, now_ms};
use crate::db::Scope;
use crate::db::roles::{self as store, PermissionRecord, RoleRecord};
use crate::db::users::{self, UserRecord};
use crate::error::Result;

pub async fn list(state: &Accounts) -> Result<Vec<RoleRecord>> {
    state.db.read(store::list_roles).await
}

/// A role by id or name.
pub async fn find(state: &Accounts, key: &str) -> Result<Option<RoleRecord>> {
    let key = key.to_string();
    state.db.read(move |c| store::find_role(c, &key)).await
}

pub async fn user_has_role(state: &Accounts, user_id: &str, role_id: &str) -> Result<bool> {
    let (uid, rid) = (user_id.to_string(), role_id.to_string());
    state.db.read(move |c| store::user_has_role(c, &uid, &rid)).await
}

/// Whether every role named exists.
pub async fn all_exist(state: &Accounts, roles: &[String]) -> Result<bool> {
    let wanted = roles.to_vec();
    state.db.read(move |c| wanted.iter().try_fold(true, |ok, r| Ok(ok && store::role_exists(c, r)?))).await
}

/// Longest role name, in characters: far beyond any real one, and well inside what an index
/// entry may hold on either engine (PostgreSQL's btree refuses entries over about 2.7 KB).
pub const MAX_NAME_CHARS: usize = 100;

/// A role name tokend accepts: not blank, at most `MAX_NAME_CHARS`, no control characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= MAX_NAME_CHARS && !name.chars().any(char::is_control)
}

/// Creates `role` (its permissions start empty, so this grants nothing); false if the name
/// is taken.
pub async fn create(state: &Accounts, role: RoleRecord) -> Result<bool> {
    state
        .db
        .write(Scope::global(), move |tx| {
            if store::find_role(tx, &role.name)?.is_some() {
                return Ok(false);
            }
            store::insert_role(tx, &role)?;
            Ok(true)
        })
        .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum MembershipError {
    AlreadyInRole,
    NotInRole,
}

/// Puts `user_id` in `role_id`: the ceiling on the target, and on what it then holds.
pub async fn add_user(
    state: &Accounts,
    acting: &Acting,
    user_id: &str,
    role_id: &str,
) -> Result<std::result::Result<(), MembershipError>> {
    let (acting, uid, rid) = (acting.clone(), user_id.to_string(), role_id.to_string());
    state
        .db
        // Global: the ceiling reads the acting user's grants, and a removal must keep an
        // active admin (`keeps_an_admin`) against every other writer.
        .write(Scope::global_over(&uid), move |tx| {
            if store::user_has_role(tx, &uid, &rid)? {
                return Ok(Err(MembershipError::AlreadyInRole));
            }
            ceiling::may_change_grants_of(tx, &acting, &uid)?;
            let before = ceiling::held_by(tx, &acting)?;
            store::add_user_to_role(tx, &uid, &rid, now_ms())?;
            ceiling::may_hold(tx, &acting, before.as_deref(), &uid)?;
            Ok(Ok(()))
        })
        .await
}

/// Takes `user_id` out of `role_id`: the ceiling on the target; never the last active admin.
pub async fn remove_user(
    state: &Accounts,
    acting: &Acting,
    user_id: &str,
    role_id: &str,
) -> Result<std::result::Result<(), MembershipError>> {
    let (acting, uid, rid) = (acting.clone(), user_id.to_string(), role_id.to_string());
    state
        .db
        // Global: the ceiling reads the acting user's grants, and a removal must keep an
        // active admin (`keeps_an_admin`) against every other writer.
        .write(Scope::global_over(&uid), move |tx| {
            if !store::user_has_role(tx, &uid, &rid)? {
                return Ok(Err(MembershipError::NotInRole));
            }
            ceiling::may_change_grants_of(tx, &acting, &uid)?;
            let before = users::find_by_id(tx, &uid)?;
            store::remove_user_from_role(tx, &uid, &rid, now_ms())?;
            if let Some(before) = before {
                keeps_an_admin(tx, &before)?;
            }
            Ok(Ok(()))
        })
        .await
}

/// Members of the role named or numbered `key`, one page, and how many there are in all;
/// `None` if there is no such role.
pub async fn members(
    state: &Accounts,
    key: &str,
    offset: i64,
    limit: Option<i64>,
) -> Result<Option<(Vec<UserRecord>, i64)>> {
    let key = key.to_string();
    state
        .db
        .read(move |c| {
            let Some(role) = store::find_role(c, &key)? else {
                return Ok(None);
            };
            let members = store::users_in_role(c, &role.id, offset, limit)?;
            Ok(Some((members, store::count_users_in_role(c, &role.id)?)))
        })
        .await
}

pub async fn list_permissions(state: &Accounts, since: Option<Millis>) -> Result<Vec<PermissionRecord>> {
    state.db.read(move |c| store::list_permissions(c, since)).await
}

#[derive(Debug, PartialEq, Eq)]
pub enum PermissionUpdateError {
    UnknownPermission,
    UnknownRole,
}

/// Sets which roles hold each permission, all or nothing. Only a permission one holds may
/// be edited (the ceiling: otherwise editing roles would hand it to their members).
pub async fn update_permissions(
    state: &Accounts,
    acting: &Acting,
    changes: Vec<(String, Vec<String>)>,
) -> Result<std::result::Result<Vec<PermissionRecord>, PermissionUpdateError>> {
    let acting = acting.clone();
    state
        .db
        .write(Scope::global(), move |tx| {
            for (permission, roles) in &changes {
                if !store::permission_exists(tx, permission)? {
                    return Ok(Err(PermissionUpdateError::UnknownPermission));
                }
                for role in roles {
                    if !store::role_exists(tx, role)? {
                        return Ok(Err(PermissionUpdateError::UnknownRole));
                    }
                }
            }
            // A PAT may not reshape what roles hold: it could lower accounts as privileged as
            // its owner (or its owner) and so reach them, or lift accounts it controls.
            acting.require_session()?;
            for (permission, roles) in &changes {
                ceiling::may_edit_permission(tx, &acting, permission)?;
                // Taking the permission from a role acts on each of its members.
                for role in store::roles_of_permission(tx, permission)? {
                    if !roles.contains(&role) {
                        ceiling::may_take_from_role(tx, &acting, &role)?;
                    }
                }
            }
            let now = now_ms();
            for (permission, roles) in &changes {
                store::set_permission_roles(tx, permission, roles, now)?;
            }
            Ok(Ok(store::list_permissions(tx, None)?))
        })
        .await
}
