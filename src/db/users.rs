//! The users table and each user's role list.

use super::sql::{Dialect, Row, Sql, params};
use crate::clock::Millis;
use crate::error::Result;

/// A user as stored, with the ids of the user's roles. Never carries the password hash
/// into a response: views pick the fields they show.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub has_password: bool,
    pub active: bool,
    pub user_type: String,
    pub require_password_change: bool,
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub status_text: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub last_login: Option<Millis>,
    /// The status the user chose with `users.setStatus`; `None` until then.
    pub status: Option<String>,
    pub roles: Vec<String>,
}

/// Selected in this order by every query that builds a `UserRecord`.
pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.name, u.email, u.email_verified, \
     u.password_hash IS NOT NULL, u.active, u.user_type, u.require_password_change, u.nickname, \
     u.bio, u.status_text, u.created_at, u.updated_at, u.last_login, u.status";

/// Reads the `USER_COLUMNS` that start at column `at`; roles are filled in separately.
pub(crate) fn user_from_row(row: &Row<'_>, at: usize) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        name: row.get(at + 2)?,
        email: row.get(at + 3)?,
        email_verified: row.get(at + 4)?,
        has_password: row.get(at + 5)?,
        active: row.get(at + 6)?,
        user_type: row.get(at + 7)?,
        require_password_change: row.get(at + 8)?,
        nickname: row.get(at + 9)?,
        bio: row.get(at + 10)?,
        status_text: row.get(at + 11)?,
        created_at: row.get(at + 12)?,
        updated_at: row.get(at + 13)?,
        last_login: row.get(at + 14)?,
        status: row.get(at + 15)?,
        roles: Vec::new(),
    })
}

pub fn roles_of(conn: &dyn Sql, user_id: &str) -> Result<Vec<String>> {
    let roles =
        conn.query("SELECT role_id FROM user_roles WHERE user_id = ?1 ORDER BY role_id", params![user_id], |r| {
            r.get(0)
        })?;
    Ok(roles)
}

/// The index SQLite made for `users.id` (the table's first unique constraint, its primary
/// key): credential lookups name it so stale statistics cannot turn them into scans.
pub(crate) const USERS_BY_ID: &str = "sqlite_autoindex_users_1";

/// The user's role ids as one text column (unit-separator-joined), after `USER_COLUMNS`, so a
/// credential lookup reads the owner and the roles in the same statement.
pub(crate) fn roles_column(d: Dialect) -> String {
    format!("(SELECT {} FROM user_roles WHERE user_id = u.id) AS roles", d.joined("role_id"))
}

/// How a credential lookup joins its token row to the owner `u`: on SQLite in a fixed order
/// through the primary-key index (see `tokens::token_owner_sql`); PostgreSQL's planner keeps
/// its statistics current itself.
pub(crate) fn owner_join(d: Dialect) -> String {
    match d {
        Dialect::Sqlite => format!("CROSS JOIN users u INDEXED BY {USERS_BY_ID}"),
        Dialect::Postgres => "CROSS JOIN users u".to_string(),
    }
}

/// A user read with `USER_COLUMNS` from column `at` and `roles_column` right after them.
pub(crate) fn user_with_roles_from_row(row: &Row<'_>, at: usize) -> Result<UserRecord> {
    let mut user = user_from_row(row, at)?;
    let roles: Option<String> = row.get(at + 16)?;
    user.roles = roles.map(|r| r.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default();
    user.roles.sort();
    Ok(user)
}

/// The `USER_COLUMNS` of the users matching `condition`.
pub(crate) fn users_where(condition: &str) -> String {
    format!("SELECT {USER_COLUMNS} FROM users u WHERE {condition}")
}

fn find_where(conn: &dyn Sql, condition: &str, value: &str) -> Result<Option<UserRecord>> {
    if value.contains('\0') {
        // No stored id, name or address holds NUL (sign-up refuses it, and PostgreSQL text
        // cannot hold it at all): nobody matches, on either engine.
        return Ok(None);
    }
    let sql = users_where(condition);
    let user = conn.query_opt(&sql, params![value], |r| user_from_row(r, 0))?;
    match user {
        Some(mut user) => {
            user.roles = roles_of(conn, &user.id)?;
            Ok(Some(user))
        }
        None => Ok(None),
    }
}

/// The user `id` if active. Credential lookups find the owner's id first and then the owner
/// with this primary-key lookup, instead of joining: a join's plan depends on the table
/// statistics, and stale ones (a store analysed when it held one user) made SQLite scan
/// every user for every token lookup.
pub fn find_active_by_id(conn: &dyn Sql, id: &str) -> Result<Option<UserRecord>> {
    Ok(find_by_id(conn, id)?.filter(|u| u.active))
}

pub fn find_by_id(conn: &dyn Sql, id: &str) -> Result<Option<UserRecord>> {
    find_where(conn, "u.id = ?1", id)
}

/// Usernames are unique and matched case-insensitively (the column is `COLLATE NOCASE`).
pub fn find_by_username(conn: &dyn Sql, username: &str) -> Result<Option<UserRecord>> {
    find_where(conn, "u.username = ?1", username)
}

pub fn find_by_email(conn: &dyn Sql, email: &str) -> Result<Option<UserRecord>> {
    find_where(conn, "u.email = ?1", email)
}

pub fn password_hash(conn: &dyn Sql, id: &str) -> Result<Option<String>> {
    let hash = conn.query_opt("SELECT password_hash FROM users WHERE id = ?1", params![id], |r| r.get(0))?;
    Ok(hash.flatten())
}

pub fn count(conn: &dyn Sql) -> Result<i64> {
    conn.query_one("SELECT count(*) FROM users", params![], |r| r.get(0))
}

/// A user about to be inserted; the password is already hashed.
#[derive(Debug)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub active: bool,
    pub user_type: String,
    pub require_password_change: bool,
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub status_text: Option<String>,
    pub roles: Vec<String>,
    /// Permissions granted to the user directly (SAYMON), beside those of the roles.
    pub permissions: Vec<String>,
}

pub fn insert(conn: &dyn Sql, user: &NewUser, now: Millis) -> Result<()> {
    conn.exec(
        "INSERT INTO users (id, username, name, email, email_verified, password_hash, active,
             user_type, require_password_change, nickname, bio, status_text, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
        params![
            user.id,
            user.username,
            user.name,
            user.email,
            user.email_verified,
            user.password_hash,
            user.active,
            user.user_type,
            user.require_password_change,
            user.nickname,
            user.bio,
            user.status_text,
            now
        ],
    )?;
    for role in &user.roles {
        conn.exec(
            "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![user.id, role],
        )?;
    }
    super::roles::set_direct_permissions(conn, &user.id, &user.permissions)
}

/// Fields a `users.update` may change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub nickname: Option<String>,
    pub bio: Option<String>,
    pub status_text: Option<String>,
    pub require_password_change: Option<bool>,
    pub roles: Option<Vec<String>>,
}

pub fn update_profile(conn: &dyn Sql, id: &str, c: &UserChanges, now: Millis) -> Result<()> {
    conn.exec(
        "UPDATE users SET
             username = coalesce(?2, username), name = coalesce(?3, name),
             email = coalesce(?4, email), email_verified = coalesce(?5, email_verified),
             nickname = coalesce(?6, nickname), bio = coalesce(?7, bio),
             status_text = coalesce(?8, status_text),
             require_password_change = coalesce(?9, require_password_change), updated_at = ?10
         WHERE id = ?1",
        params![
            id,
            c.username,
            c.name,
            c.email,
            c.email_verified,
            c.nickname,
            c.bio,
            c.status_text,
            c.require_password_change,
            now
        ],
    )?;
    if let Some(roles) = &c.roles {
        conn.exec("DELETE FROM user_roles WHERE user_id = ?1", params![id])?;
        for role in roles {
            conn.exec(
                "INSERT INTO user_roles (user_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, role],
            )?;
        }
    }
    Ok(())
}

/// Sets a new password hash. What it revokes is `accounts::revocation`'s to decide.
pub fn set_password(conn: &dyn Sql, id: &str, hash: &str, now: Millis) -> Result<()> {
    conn.exec("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1", params![id, hash, now])?;
    Ok(())
}

/// Sets the active flag. What deactivation revokes is `accounts::revocation`'s to decide.
pub fn set_active(conn: &dyn Sql, id: &str, active: bool, now: Millis) -> Result<()> {
    conn.exec("UPDATE users SET active = ?2, updated_at = ?3 WHERE id = ?1", params![id, active, now])?;
    Ok(())
}

pub fn touch_last_login(conn: &dyn Sql, id: &str, now: Millis) -> Result<()> {
    conn.exec("UPDATE users SET last_login = ?2 WHERE id = ?1", params![id, now])?;
    Ok(())
}

/// Deletes the user; tokens and role links go with it (foreign keys cascade).
pub fn delete(conn: &dyn Sql, id: &str) -> Result<bool> {
    Ok(conn.exec("DELETE FROM users WHERE id = ?1", params![id])? == 1)
}

/// Sortable columns of `users.list`, by their Rocket.Chat field names.
pub fn sort_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "_id" => "u.id",
        "username" => "u.username",
        "name" => "u.name",
        "emails.address" | "email" => "u.email",
        "active" => "u.active",
        "type" => "u.user_type",
        "createdAt" => "u.created_at",
        "_updatedAt" => "u.updated_at",
        "lastLogin" => "u.last_login",
        _ => return None,
    })
}

/// One page of users ordered by `order` (column, ascending), and the total count.
pub fn page(
    conn: &dyn Sql,
    order: &[(&'static str, bool)],
    offset: i64,
    limit: Option<i64>,
) -> Result<(Vec<UserRecord>, i64)> {
    let mut order_sql: Vec<String> =
        order.iter().map(|(col, asc)| format!("{col} {}", if *asc { "ASC" } else { "DESC" })).collect();
    order_sql.push("u.id ASC".into()); // deterministic pages
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY {} LIMIT ?1 OFFSET ?2", order_sql.join(", "));
    let mut users: Vec<UserRecord> =
        conn.query(&sql, params![crate::db::sql::no_limit(limit), offset.max(0)], |r| user_from_row(r, 0))?;
    for user in &mut users {
        user.roles = roles_of(conn, &user.id)?;
    }
    Ok((users, count(conn)?))
}

/// Sets the chosen status and/or status text of a user (`None` leaves each as it is).
pub fn set_status(conn: &dyn Sql, id: &str, status: Option<&str>, text: Option<&str>, now: Millis) -> Result<bool> {
    let n = conn.exec(
        "UPDATE users SET status = coalesce(?2, status), status_text = coalesce(?3, status_text), updated_at = ?4
         WHERE id = ?1",
        params![id, status, text, now],
    )?;
    Ok(n == 1)
}
