//! Reading users and the audit log, for the listing and lookup routes of both dialects.

use super::Accounts;
use crate::db::audit::{self, AuditRecord};
use crate::db::roles;
use crate::db::saymon;
use crate::db::users::{self, UserRecord};
use crate::error::Result;

/// How a route names a user.
#[derive(Clone, Debug)]
pub enum UserKey {
    Id(String),
    Username(String),
    Email(String),
}

fn find_in(c: &dyn crate::db::Sql, key: &UserKey) -> Result<Option<UserRecord>> {
    match key {
        UserKey::Id(id) => users::find_by_id(c, id),
        UserKey::Username(name) => users::find_by_username(c, name),
        UserKey::Email(email) => users::find_by_email(c, email),
    }
}

pub async fn find(state: &Accounts, key: UserKey) -> Result<Option<UserRecord>> {
    state.db.read(move |c| find_in(c, &key)).await
}

/// Each key looked up, in order, in one read (for routes that accept several and need them
/// to agree).
pub async fn find_each(state: &Accounts, keys: Vec<UserKey>) -> Result<Vec<Option<UserRecord>>> {
    state.db.read(move |c| keys.iter().map(|k| find_in(c, k)).collect()).await
}

/// The sort column for a Rocket.Chat field name, if it is sortable.
pub fn sort_column(field: &str) -> Option<&'static str> {
    users::sort_column(field)
}

/// One page of users in `order` and the total count.
pub async fn page(
    state: &Accounts,
    order: Vec<(&'static str, bool)>,
    offset: i64,
    limit: Option<i64>,
) -> Result<(Vec<UserRecord>, i64)> {
    state.db.read(move |c| users::page(c, &order, offset, limit)).await
}

/// A user with what SAYMON shows of them: effective permissions and the last characters of
/// their API token.
#[derive(Clone, Debug)]
pub struct SaymonProfile {
    pub user: UserRecord,
    pub permissions: Vec<String>,
    pub api_token_last_part: Option<String>,
}

fn profile(c: &dyn crate::db::Sql, user: UserRecord) -> Result<SaymonProfile> {
    let permissions = roles::permissions_of_user(c, &user.id)?;
    let api_token_last_part = saymon::api_token_last_part(c, &user.id)?;
    Ok(SaymonProfile { user, permissions, api_token_last_part })
}

pub async fn saymon_profile(state: &Accounts, user: UserRecord) -> Result<SaymonProfile> {
    state.db.read(move |c| profile(c, user)).await
}

/// Every user, by username, with their SAYMON profile.
pub async fn saymon_profiles(state: &Accounts) -> Result<Vec<SaymonProfile>> {
    state
        .db
        .read(|c| {
            let (all, _) = users::page(c, &[("u.username", true)], 0, None)?;
            all.into_iter().map(|u| profile(c, u)).collect()
        })
        .await
}

/// Newest first; `user` matches actor or subject, `event` exactly.
pub async fn audit_page(
    state: &Accounts,
    user: Option<String>,
    event: Option<String>,
    offset: i64,
    limit: Option<i64>,
) -> Result<(Vec<AuditRecord>, i64)> {
    state.db.read(move |c| audit::page(c, user.as_deref(), event.as_deref(), offset, limit)).await
}
