//! Roles, permissions and who holds them (the Rocket.Chat model).

use super::sql::{Row, Sql, params};
use super::users::{USER_COLUMNS, UserRecord, roles_of, user_from_row};
use crate::clock::Millis;
use crate::error::Result;

#[derive(Clone, Debug)]
pub struct RoleRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub scope: String,
    pub protected: bool,
    pub mandatory_2fa: Option<bool>,
    pub updated_at: Millis,
}

#[derive(Clone, Debug)]
pub struct PermissionRecord {
    pub id: String,
    pub roles: Vec<String>,
    pub updated_at: Millis,
}

const ROLE_COLUMNS: &str = "id, name, description, scope, protected, mandatory_2fa, updated_at";

fn role_from_row(r: &Row<'_>) -> Result<RoleRecord> {
    Ok(RoleRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        scope: r.get(3)?,
        protected: r.get(4)?,
        mandatory_2fa: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn list_roles(conn: &dyn Sql) -> Result<Vec<RoleRecord>> {
    let sql = format!("SELECT {ROLE_COLUMNS} FROM roles ORDER BY {}", conn.dialect().insertion_order());
    let roles = conn.query(&sql, params![], role_from_row)?;
    Ok(roles)
}

/// A role by id, or else by name (clients send either).
pub fn find_role(conn: &dyn Sql, id_or_name: &str) -> Result<Option<RoleRecord>> {
    let sql = format!(
        "SELECT {ROLE_COLUMNS} FROM roles WHERE id = ?1 UNION ALL SELECT {ROLE_COLUMNS} FROM roles WHERE name = ?1 LIMIT 1"
    );
    conn.query_opt(&sql, params![id_or_name], role_from_row)
}

pub fn insert_role(conn: &dyn Sql, role: &RoleRecord) -> Result<()> {
    conn.exec(
        "INSERT INTO roles (id, name, description, scope, protected, mandatory_2fa, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![role.id, role.name, role.description, role.scope, role.protected, role.mandatory_2fa, role.updated_at],
    )?;
    Ok(())
}

pub fn user_has_role(conn: &dyn Sql, user_id: &str, role_id: &str) -> Result<bool> {
    Ok(conn
        .query_opt("SELECT 1 FROM user_roles WHERE user_id = ?1 AND role_id = ?2", params![user_id, role_id], |_| {
            Ok(())
        })?
        .is_some())
}

pub fn add_user_to_role(conn: &dyn Sql, user_id: &str, role_id: &str, now: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![user_id, role_id],
    )?;
    conn.exec("UPDATE users SET updated_at = ?2 WHERE id = ?1", params![user_id, now])?;
    Ok(())
}

pub fn remove_user_from_role(conn: &dyn Sql, user_id: &str, role_id: &str, now: Millis) -> Result<()> {
    conn.exec("DELETE FROM user_roles WHERE user_id = ?1 AND role_id = ?2", params![user_id, role_id])?;
    conn.exec("UPDATE users SET updated_at = ?2 WHERE id = ?1", params![user_id, now])?;
    Ok(())
}

pub fn count_users_in_role(conn: &dyn Sql, role_id: &str) -> Result<i64> {
    conn.query_one("SELECT count(*) FROM user_roles WHERE role_id = ?1", params![role_id], |r| r.get(0))
}

/// Active holders of the role, excluding `except` (the "at least one admin" rule).
pub fn count_other_active_holders(conn: &dyn Sql, role_id: &str, except: &str) -> Result<i64> {
    conn.query_one(
        "SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id
         WHERE ur.role_id = ?1 AND ur.user_id <> ?2 AND u.active = 1",
        params![role_id, except],
        |r| r.get(0),
    )
}

pub fn users_in_role(conn: &dyn Sql, role_id: &str, offset: i64, limit: Option<i64>) -> Result<Vec<UserRecord>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM user_roles ur JOIN users u ON u.id = ur.user_id
         WHERE ur.role_id = ?1 ORDER BY u.username LIMIT ?2 OFFSET ?3"
    );
    let mut users: Vec<UserRecord> =
        conn.query(&sql, params![role_id, crate::db::sql::no_limit(limit), offset.max(0)], |r| user_from_row(r, 0))?;
    for user in &mut users {
        user.roles = roles_of(conn, &user.id)?;
    }
    Ok(users)
}

/// Permissions changed after `since` (all of them when `None`), each with its roles.
pub fn list_permissions(conn: &dyn Sql, since: Option<Millis>) -> Result<Vec<PermissionRecord>> {
    let rows = conn.query(
        &format!(
            "SELECT p.id, p.updated_at, {}
         FROM permissions p LEFT JOIN permission_roles pr ON pr.permission_id = p.id
         WHERE ?1 IS NULL OR p.updated_at > ?1
         GROUP BY p.id ORDER BY p.id",
            conn.dialect().joined("pr.role_id")
        ),
        params![since],
        |r| {
            let roles: Option<String> = r.get(2)?;
            Ok(PermissionRecord {
                id: r.get(0)?,
                updated_at: r.get(1)?,
                roles: roles.map(|s| s.split('\u{1f}').map(String::from).collect()).unwrap_or_default(),
            })
        },
    )?;
    Ok(rows)
}

pub fn permission_exists(conn: &dyn Sql, id: &str) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM permissions WHERE id = ?1", params![id], |_| Ok(()))?.is_some())
}

pub fn role_exists(conn: &dyn Sql, id: &str) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM roles WHERE id = ?1", params![id], |_| Ok(()))?.is_some())
}

/// The roles that hold `permission` now.
pub fn roles_of_permission(conn: &dyn Sql, permission: &str) -> Result<Vec<String>> {
    let roles =
        conn.query("SELECT role_id FROM permission_roles WHERE permission_id = ?1", params![permission], |r| r.get(0))?;
    Ok(roles)
}

/// Every permission held, through any role or directly, by any member of `role_id`.
pub fn permissions_of_members(conn: &dyn Sql, role_id: &str) -> Result<Vec<String>> {
    let perms = conn.query(
        "SELECT pr.permission_id FROM user_roles ur
         JOIN permission_roles pr ON pr.role_id = ur.role_id
         WHERE ur.user_id IN (SELECT user_id FROM user_roles WHERE role_id = ?1)
         UNION
         SELECT permission_id FROM user_permissions
         WHERE user_id IN (SELECT user_id FROM user_roles WHERE role_id = ?1)
         ORDER BY 1",
        params![role_id],
        |r| r.get(0),
    )?;
    Ok(perms)
}

/// Replaces the roles granted a permission.
pub fn set_permission_roles(conn: &dyn Sql, id: &str, roles: &[String], now: Millis) -> Result<()> {
    conn.exec("DELETE FROM permission_roles WHERE permission_id = ?1", params![id])?;
    for role in roles {
        conn.exec(
            "INSERT INTO permission_roles (permission_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, role],
        )?;
    }
    conn.exec("UPDATE permissions SET updated_at = ?2 WHERE id = ?1", params![id, now])?;
    Ok(())
}

/// The user's effective permissions: the union over the user's roles.
/// The user's effective permissions: those of the user's roles plus those granted to the
/// user directly (SAYMON's model).
pub fn permissions_of_user(conn: &dyn Sql, user_id: &str) -> Result<Vec<String>> {
    let perms = conn.query(
        "SELECT pr.permission_id FROM user_roles ur
         JOIN permission_roles pr ON pr.role_id = ur.role_id WHERE ur.user_id = ?1
         UNION
         SELECT permission_id FROM user_permissions WHERE user_id = ?1
         ORDER BY 1",
        params![user_id],
        |r| r.get(0),
    )?;
    Ok(perms)
}

pub fn user_has_permission(conn: &dyn Sql, user_id: &str, permission: &str) -> Result<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM user_roles ur JOIN permission_roles pr ON pr.role_id = ur.role_id
             WHERE ur.user_id = ?1 AND pr.permission_id = ?2
             UNION ALL
             SELECT 1 FROM user_permissions WHERE user_id = ?1 AND permission_id = ?2
             LIMIT 1",
            params![user_id, permission],
            |_| Ok(()),
        )?
        .is_some())
}

/// Replaces the permissions granted to the user directly.
pub fn set_direct_permissions(conn: &dyn Sql, user_id: &str, permissions: &[String]) -> Result<()> {
    conn.exec("DELETE FROM user_permissions WHERE user_id = ?1", params![user_id])?;
    for p in permissions {
        conn.exec(
            "INSERT INTO user_permissions (user_id, permission_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![user_id, p],
        )?;
    }
    Ok(())
}
