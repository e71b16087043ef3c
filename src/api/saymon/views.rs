//! The SAYMON User object (spec/saymon.md §5) drawn from tokend's single user store:
//! `login` = username, `displayName` = name, `permissions` = effective permissions,
//! `status` 2 (active) or 3 (blocked), `authenticationToken` masked or `null`.

use crate::accounts::UserRecord;
use crate::accounts::directory::SaymonProfile;
use serde_json::{Map, Value, json};

pub const STATUS_ACTIVE: i64 = 2;
pub const STATUS_BLOCKED: i64 = 3;

/// SAYMON's default display name: the latter half of the login replaced by `*`.
pub fn masked_login(login: &str) -> String {
    let chars: Vec<char> = login.chars().collect();
    let keep = chars.len().div_ceil(2);
    chars.iter().take(keep).chain(std::iter::repeat_n(&'*', chars.len() - keep)).collect()
}

/// The full user object, for the user themself and for holders of `manage-users`.
pub fn full(profile: &SaymonProfile) -> Value {
    let (user, permissions) = (&profile.user, &profile.permissions);
    let token = profile.api_token_last_part.as_ref().map(|last| format!("****{last}"));
    let mut doc = Map::new();
    doc.insert("id".into(), json!(user.id));
    doc.insert("login".into(), json!(user.username));
    doc.insert("displayName".into(), json!(user.name));
    if let Some(email) = &user.email {
        doc.insert("email".into(), json!(email));
    }
    doc.insert("group".into(), Value::Null);
    doc.insert("authenticationToken".into(), json!(token));
    doc.insert("status".into(), json!(if user.active { STATUS_ACTIVE } else { STATUS_BLOCKED }));
    doc.insert("eventFilter".into(), json!([]));
    doc.insert("permissions".into(), json!(permissions));
    doc.insert("contacts".into(), json!([]));
    Value::Object(doc)
}

/// What callers without `manage-users` see of others: the id, and the display name as `login`.
pub fn limited(user: &UserRecord) -> Value {
    json!({"id": user.id, "login": user.name})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_mask_the_latter_half_of_the_login() {
        assert_eq!(masked_login("example.user"), "exampl******");
        assert_eq!(masked_login("admin"), "adm**");
        assert_eq!(masked_login("a"), "a");
    }
}
