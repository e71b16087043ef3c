//! The privilege ceiling (DESIGN decision 2), the one place it is written. Every operation
//! on another account — its password, second factors, e-mail, roles or permissions, its
//! activation, deletion, sessions, or minting any token for it — calls `may_act_on` inside
//! its own write transaction; every change of roles or permissions calls `may_hold` after
//! applying the change in that transaction, so a refusal rolls the change back.
//!
//! - Nobody acts on an account holding a permission they lack.
//! - Nobody leaves an account (their own included) holding a permission they lacked.
//! - A personal access token acts only on accounts strictly below its owner: an account
//!   holding every permission of the owner could act on the owner in turn, so a leaked
//!   PAT could reach its own account through a second admin.
//! - The operator's command line is exempt: it has the database file anyway.

use super::acting::{Acting, Credential};
use super::refusal::Refusal;
use crate::db::Sql;
use crate::db::roles;
use crate::error::Result;

fn refuse<T>(refusal: Refusal) -> Result<T> {
    Err(refusal.into())
}

/// The permissions of the acting user, for comparing; `None` for the operator.
fn mine(conn: &dyn Sql, acting: &Acting) -> Result<Option<Vec<String>>> {
    match acting.user_id() {
        Some(id) if !acting.is_operator() => Ok(Some(roles::permissions_of_user(conn, id)?)),
        _ => Ok(None),
    }
}

/// A PAT may only reach accounts that lack at least one permission of its owner.
fn check_pat_reach(acting: &Acting, mine: &[String], theirs: &[String]) -> Result<()> {
    if acting.credential == Credential::Pat && mine.iter().all(|p| theirs.contains(p)) {
        return refuse(Refusal::PatReach);
    }
    Ok(())
}

/// May `acting` act on the account `target_id` as it stands? One's own account passes
/// (other rules govern self-service).
pub fn may_act_on(conn: &dyn Sql, acting: &Acting, target_id: &str) -> Result<()> {
    if acting.acts_on_self(target_id) {
        return Ok(());
    }
    let Some(mine) = mine(conn, acting)? else {
        return Ok(());
    };
    let theirs = roles::permissions_of_user(conn, target_id)?;
    if let Some(p) = theirs.iter().find(|p| !mine.contains(p)) {
        return refuse(Refusal::Ceiling { permission: p.clone() });
    }
    check_pat_reach(acting, &mine, &theirs)
}

/// May `acting` change the roles or permissions of `target_id`? Another account: the ceiling.
/// One's own: only with a session — a PAT lowering its own owner could let an account it
/// controls act on the owner.
pub fn may_change_grants_of(conn: &dyn Sql, acting: &Acting, target_id: &str) -> Result<()> {
    if acting.acts_on_self(target_id) {
        return acting.require_session();
    }
    may_act_on(conn, acting, target_id)
}

/// After a change of `target_id`'s roles or permissions (applied in this transaction), may
/// the account hold what it now holds? `before` is what the acting user held before the
/// change (it may have changed their own roles).
pub fn may_hold(conn: &dyn Sql, acting: &Acting, before: Option<&[String]>, target_id: &str) -> Result<()> {
    let Some(mine) = before.map(<[String]>::to_vec).or(mine(conn, acting)?) else {
        return Ok(());
    };
    if acting.is_operator() {
        return Ok(());
    }
    let theirs = roles::permissions_of_user(conn, target_id)?;
    if let Some(p) = theirs.iter().find(|p| !mine.contains(p)) {
        return refuse(Refusal::Grant { permission: p.clone() });
    }
    if acting.acts_on_self(target_id) {
        return Ok(());
    }
    check_pat_reach(acting, &mine, &theirs)
}

/// What the acting user holds now, to pass as `before` to `may_hold`.
pub fn held_by(conn: &dyn Sql, acting: &Acting) -> Result<Option<Vec<String>>> {
    mine(conn, acting)
}

/// May `acting` take a permission away from the role `role_id`? That acts on every member
/// of the role, so no member may hold a permission the caller lacks (one's own account
/// passes trivially: it holds nothing the caller lacks).
pub fn may_take_from_role(conn: &dyn Sql, acting: &Acting, role_id: &str) -> Result<()> {
    let Some(mine) = mine(conn, acting)? else {
        return Ok(());
    };
    let theirs = roles::permissions_of_members(conn, role_id)?;
    if let Some(p) = theirs.iter().find(|p| !mine.contains(p)) {
        return refuse(Refusal::Ceiling { permission: p.clone() });
    }
    Ok(())
}

/// May `acting` change which roles hold `permission` (`permissions.update`)? Only a
/// permission one holds: otherwise editing roles would hand it to their members.
pub fn may_edit_permission(conn: &dyn Sql, acting: &Acting, permission: &str) -> Result<()> {
    match mine(conn, acting)? {
        Some(mine) if !mine.iter().any(|p| p == permission) => {
            refuse(Refusal::Grant { permission: permission.to_string() })
        }
        _ => Ok(()),
    }
}
