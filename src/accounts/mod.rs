//! The domain core: every operation on accounts, tokens and secrets, and every rule that
//! governs them, for both dialects and the command line. It is the only code that reads or
//! writes the store (through `db`). Handlers parse a request, call one operation here with
//! who is acting (`Acting`), and render the answer or the `Refusal` in their dialect.
//!
//! The rules, each written once: the secret-verification budget (`budget`), the privilege
//! ceiling (`ceiling`), the revocation policy (`revocation`), the second-factor gate
//! (`two_factor`), last-admin protection (`users`).

pub mod acting;
pub mod budget;
pub mod cache;
pub mod ceiling;
pub mod clock_check;
mod context;
pub mod digest_map;
pub mod directory;
pub mod email_2fa;
pub mod expiry_warning;
pub mod last_use;
pub mod lifetime;
pub mod login;
pub mod pats;
pub mod presence;
pub mod readiness;
pub mod refusal;
pub mod revocation;
pub mod revoke;
pub mod roles;
pub mod saymon;
pub mod self_service;
pub mod sessions;
pub mod tokens;
pub mod totp;
mod turns;
pub mod two_factor;
pub mod user_edit;
pub mod users;
pub mod vault_key;

pub use crate::db::audit::{Actor, AuditRecord};
pub use crate::db::lifecycle::SessionRow;
pub use crate::db::pats::PatRecord;
pub use crate::db::roles::{PermissionRecord, RoleRecord};
pub use crate::db::saymon::ApiTokenOwner;
pub use crate::db::tokens::{TokenKind, TokenOwner};
pub use crate::db::users::UserRecord;
pub use acting::{Acting, Credential};
pub use budget::Blocked;
pub use context::Accounts;
pub use login::{PasswordCheck, check_password};
pub use refusal::Refusal;
pub use tokens::{authenticate_token, mint_login_token, record_refusal};
pub use users::{CreateUserError, MAX_PASSWORD_CHARS, PolicyViolation, UserDraft, check_password_policy, create_user};

use crate::error::Result;

/// How a client names the account it logs in to.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(String),
    Email(String),
    Id(String),
}

impl LoginName {
    /// The name as the client submitted it.
    pub fn text(&self) -> &str {
        match self {
            LoginName::Username(s) | LoginName::Email(s) | LoginName::Id(s) => s,
        }
    }
}

/// Whether `user_id` holds `permission` through a role or a direct grant.
pub async fn has_permission(state: &Accounts, user_id: &str, permission: &'static str) -> Result<bool> {
    let id = user_id.to_string();
    state.db.read(move |c| crate::db::roles::user_has_permission(c, &id, permission)).await
}
