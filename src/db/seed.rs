//! Rocket.Chat's default roles and the permissions tokend uses, with their default role
//! assignments (spec/rocketchat.md §11.7). Seeding is idempotent and never undoes an
//! operator's edits: a permission gets its default roles only when it is first created.

use super::sql::{Sql, params};
use crate::clock::now_ms;
use crate::error::Result;

/// (id, description, protected)
pub const DEFAULT_ROLES: &[(&str, &str, bool)] = &[
    ("admin", "Admin", true),
    ("user", "", true),
    ("bot", "Bot", true),
    ("app", "App", true),
    ("guest", "Guest", true),
];

/// (permission, default roles)
pub const DEFAULT_PERMISSIONS: &[(&str, &[&str])] = &[
    ("access-permissions", &["admin"]),
    ("api-bypass-rate-limit", &["admin", "bot", "app"]),
    ("assign-admin-role", &["admin"]),
    ("assign-roles", &["admin"]),
    ("create-personal-access-tokens", &["admin", "user"]),
    ("create-user", &["admin"]),
    ("delete-user", &["admin"]),
    ("edit-other-user-active-status", &["admin"]),
    ("edit-other-user-info", &["admin"]),
    ("edit-other-user-password", &["admin"]),
    ("edit-other-user-totp", &["admin"]),
    ("logout-other-user", &["admin"]),
    ("manage-moderation-actions", &["admin"]),
    ("manage-users", &["admin"]),
    ("user-generate-access-token", &["admin"]),
    ("view-d-room", &["admin", "user", "bot", "app", "guest"]),
    ("view-audit-log", &["admin"]),
    ("view-full-other-user-info", &["admin"]),
    ("view-other-user-channels", &["admin"]),
    ("view-outside-room", &["admin", "user"]),
    // SAYMON's documented permission identifiers, so SAYMON clients that check them (e.g.
    // `manage-configuration` for write access) see them on admins and can grant them.
    ("execute-operations", &["admin"]),
    ("run-bulks", &["admin"]),
    ("manage-objects", &["admin"]),
    ("create-objects", &["admin"]),
    ("modify-objects", &["admin"]),
    ("delete-objects", &["admin"]),
    ("manage-links", &["admin"]),
    ("create-links", &["admin"]),
    ("modify-links", &["admin"]),
    ("delete-links", &["admin"]),
    ("manage-flows", &["admin"]),
    ("create-flows", &["admin"]),
    ("modify-flows", &["admin"]),
    ("delete-flows", &["admin"]),
    ("manage-documents", &["admin"]),
    ("create-documents", &["admin"]),
    ("manage-configuration", &["admin"]),
    ("manage-service-properties", &["admin"]),
];

/// Runs in the caller's transaction (at open, before anything is served).
pub fn roles_and_permissions(tx: &dyn Sql) -> Result<()> {
    let now = now_ms();
    for (id, description, protected) in DEFAULT_ROLES {
        tx.exec(
            "INSERT INTO roles (id, name, description, scope, protected, updated_at)
             VALUES (?1, ?1, ?2, 'Users', ?3, ?4) ON CONFLICT DO NOTHING",
            params![id, description, protected, now],
        )?;
    }
    for (permission, roles) in DEFAULT_PERMISSIONS {
        let created = tx.exec(
            "INSERT INTO permissions (id, updated_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![permission, now],
        )?;
        if created == 1 {
            for role in *roles {
                tx.exec(
                    "INSERT INTO permission_roles (permission_id, role_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![permission, role],
                )?;
            }
        }
    }
    Ok(())
}
