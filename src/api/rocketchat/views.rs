//! How Rocket.Chat shows users, roles and permissions (spec §1.5, §7, §9.3, §11). The
//! password hash and tokens are never part of any view.

use crate::accounts::{PermissionRecord, RoleRecord, UserRecord};
use crate::clock::iso;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

fn emails(user: &UserRecord) -> Option<Value> {
    user.email.as_ref().map(|address| json!([{"address": address, "verified": user.email_verified}]))
}

/// The status a user shows: the one they chose (`users.setStatus`), else offline.
pub fn status(user: &UserRecord) -> &str {
    user.status.as_deref().unwrap_or(crate::accounts::presence::DEFAULT_STATUS)
}

fn put_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), Value::String(v.clone()));
    }
}

/// A user document as `users.create`, `users.list` and `users.update` return it. Callers
/// without `view-full-other-user-info` see the limited projection (no e-mails, roles,
/// timestamps).
pub fn user_document(user: &UserRecord, privileged: bool) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    if privileged {
        doc.insert("createdAt".into(), json!(iso(user.created_at)));
    }
    doc.insert("username".into(), json!(user.username));
    if privileged {
        if let Some(e) = emails(user) {
            doc.insert("emails".into(), e);
        }
    }
    doc.insert("type".into(), json!(user.user_type));
    doc.insert("status".into(), json!(status(user)));
    doc.insert("active".into(), json!(user.active));
    if privileged {
        doc.insert("_updatedAt".into(), json!(iso(user.updated_at)));
        doc.insert("roles".into(), json!(user.roles));
    }
    doc.insert("name".into(), json!(user.name));
    put_opt(&mut doc, "nickname", &user.nickname);
    put_opt(&mut doc, "bio", &user.bio);
    put_opt(&mut doc, "statusText", &user.status_text);
    if privileged {
        if let Some(at) = user.last_login {
            doc.insert("lastLogin".into(), json!(iso(at)));
        }
        if user.require_password_change {
            doc.insert("requirePasswordChange".into(), json!(true));
        }
    }
    Value::Object(doc)
}

/// A user as `users.list` shows them (errata 5): Rocket.Chat's inclusive projection (`_id`,
/// name, username, emails, roles, status, active, lastLogin, type; tokend stores no
/// avatarETag) plus the `nameInsensitive` its query adds. Addresses and the last login are
/// shown only to holders of `view-full-other-user-info` (tokend's privacy rule).
pub fn list_entry(user: &UserRecord, privileged: bool) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    doc.insert("username".into(), json!(user.username));
    if privileged {
        if let Some(e) = emails(user) {
            doc.insert("emails".into(), e);
        }
    }
    doc.insert("type".into(), json!(user.user_type));
    doc.insert("status".into(), json!(status(user)));
    doc.insert("active".into(), json!(user.active));
    doc.insert("roles".into(), json!(user.roles));
    doc.insert("name".into(), json!(user.name));
    if let (true, Some(at)) = (privileged, user.last_login) {
        doc.insert("lastLogin".into(), json!(iso(at)));
    }
    doc.insert("nameInsensitive".into(), json!(user.name.to_lowercase()));
    Value::Object(doc)
}

/// `users.info` (§9.3): limited fields for others, more for self or privileged callers.
pub fn user_info(user: &UserRecord, can_view_all: bool, is_self: bool) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    doc.insert("type".into(), json!(user.user_type));
    doc.insert("status".into(), json!(status(user)));
    doc.insert("active".into(), json!(user.active));
    doc.insert("name".into(), json!(user.name));
    doc.insert("username".into(), json!(user.username));
    doc.insert("utcOffset".into(), json!(0));
    put_opt(&mut doc, "nickname", &user.nickname);
    put_opt(&mut doc, "bio", &user.bio);
    put_opt(&mut doc, "statusText", &user.status_text);
    if can_view_all || is_self {
        if let Some(e) = emails(user) {
            doc.insert("emails".into(), e);
        }
        doc.insert("statusConnection".into(), json!("offline"));
        doc.insert("createdAt".into(), json!(iso(user.created_at)));
        if let Some(at) = user.last_login {
            doc.insert("lastLogin".into(), json!(iso(at)));
        }
        doc.insert("requirePasswordChange".into(), json!(user.require_password_change));
        doc.insert("roles".into(), json!(user.roles));
    }
    if is_self {
        doc.insert("services".into(), json!({"password": user.has_password}));
    }
    doc.insert("canViewAllInfo".into(), json!(can_view_all || is_self));
    Value::Object(doc)
}

/// Which second factors a user has turned on, as `me` reports them in `services`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecondFactors {
    pub totp: bool,
    pub email: bool,
}

/// The "me" object of `GET /api/v1/me` and of the login response (§7), without `success`.
pub fn me(user: &UserRecord, second_factors: SecondFactors, site_url: &str) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    // Rocket.Chat's `me` shows `services.totp` / `services.email2fa` only when on.
    let mut services = Map::new();
    services.insert("password".into(), json!({"exists": user.has_password}));
    if second_factors.totp {
        services.insert("totp".into(), json!({"enabled": true}));
    }
    if second_factors.email {
        services.insert("email2fa".into(), json!({"enabled": true}));
    }
    doc.insert("services".into(), Value::Object(services));
    doc.insert("username".into(), json!(user.username));
    if let Some(e) = emails(user) {
        doc.insert("emails".into(), e);
    }
    doc.insert("status".into(), json!(status(user)));
    doc.insert("statusConnection".into(), json!("offline"));
    doc.insert("utcOffset".into(), json!(0));
    doc.insert("active".into(), json!(user.active));
    doc.insert("_updatedAt".into(), json!(iso(user.updated_at)));
    doc.insert("roles".into(), json!(user.roles));
    doc.insert("name".into(), json!(user.name));
    put_opt(&mut doc, "nickname", &user.nickname);
    put_opt(&mut doc, "bio", &user.bio);
    put_opt(&mut doc, "statusText", &user.status_text);
    if user.require_password_change {
        doc.insert("requirePasswordChange".into(), json!(true));
    }
    doc.insert("settings".into(), json!({"profile": {}, "preferences": DEFAULT_PREFERENCES.clone()}));
    if let (Some(address), true) = (&user.email, user.email_verified) {
        doc.insert("email".into(), json!(address));
    }
    doc.insert("avatarUrl".into(), json!(format!("{site_url}/avatar/{}", user.username)));
    doc.insert("isOAuthUser".into(), json!(false));
    doc
}

/// Rocket.Chat's `Accounts_Default_User_Preferences_*` defaults: tokend has no per-user
/// preferences, so every user sees these. Built once.
static DEFAULT_PREFERENCES: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "enableAutoAway": true,
        "idleTimeLimit": 300,
        "desktopNotificationRequireInteraction": false,
        "desktopNotifications": "all",
        "pushNotifications": "all",
        "unreadAlert": true,
        "useEmojis": true,
        "convertAsciiEmoji": true,
        "autoImageLoad": true,
        "saveMobileBandwidth": true,
        "collapseMediaByDefault": false,
        "hideUsernames": false,
        "hideRoles": false,
        "hideFlexTab": false,
        "displayAvatars": true,
        "sidebarGroupByType": true,
        "themeAppearence": "auto",
        "sidebarViewMode": "medium",
        "sidebarDisplayAvatar": true,
        "sidebarShowUnread": false,
        "sidebarSortby": "activity",
        "showMessageInMainThread": false,
        "sidebarShowFavorites": true,
        "sendOnEnter": "normal",
        "emailNotificationMode": "mentions",
        "newRoomNotification": "door",
        "newMessageNotification": "chime",
        "muteFocusedConversations": true,
        "notificationsSoundVolume": 100,
        "omnichannelTranscriptEmail": false,
        "receiveLoginDetectionEmail": true,
        "notifyCalendarEvents": true,
        "enableMobileRinging": true,
        "language": ""
    })
});

pub fn role_document(role: &RoleRecord) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(role.id));
    doc.insert("name".into(), json!(role.name));
    doc.insert("description".into(), json!(role.description));
    if let Some(m) = role.mandatory_2fa {
        doc.insert("mandatory2fa".into(), json!(m));
    }
    doc.insert("protected".into(), json!(role.protected));
    doc.insert("scope".into(), json!(role.scope));
    Value::Object(doc)
}

pub fn permission_document(p: &PermissionRecord) -> Value {
    json!({"_id": p.id, "roles": p.roles, "_updatedAt": iso(p.updated_at)})
}

/// A member of a role, as `roles.getUsersInRole` lists it.
pub fn role_member(user: &UserRecord) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    doc.insert("name".into(), json!(user.name));
    doc.insert("username".into(), json!(user.username));
    if let Some(e) = emails(user) {
        doc.insert("emails".into(), e);
    }
    doc.insert("createdAt".into(), json!(iso(user.created_at)));
    doc.insert("_updatedAt".into(), json!(iso(user.updated_at)));
    Value::Object(doc)
}

/// `success(obj)`: the payload merged with `success: true` (never wrapped).
pub fn success(mut body: Map<String, Value>) -> Value {
    body.insert("success".into(), Value::Bool(true));
    Value::Object(body)
}
