//! Account operations shared by every dialect and the command line: checking passwords,
//! issuing and resolving tokens, creating users and changing passwords. Dialect handlers
//! decide *who may* do these things and how refusals look on the wire.

pub mod users;

pub use users::{
    CreateUserError, MAX_PASSWORD_CHARS, PolicyViolation, UserDraft, check_password_policy,
    create_user, set_password,
};

use crate::auth::password::PasswordDigest;
use crate::auth::token::{self, PlainToken, TokenHash};
use crate::clock::{Millis, now_ms};
use crate::db::tokens::TokenOwner;
use crate::db::users::UserRecord;
use crate::db::{tokens, users as user_rows};
use crate::error::Result;
use crate::state::AppState;

/// How a client names the account it logs in to.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(String),
    Email(String),
    Id(String),
}

#[derive(Debug)]
pub enum PasswordCheck {
    Valid(UserRecord),
    /// Right password, deactivated account.
    Inactive(UserRecord),
    /// Unknown user or wrong password: indistinguishable by design.
    Failed,
}

/// Verifies a password. An unknown user costs one bcrypt verify, like a wrong password.
pub async fn check_password(
    state: &AppState,
    who: LoginName,
    digest: PasswordDigest,
) -> Result<PasswordCheck> {
    let found = state
        .db
        .read(move |conn| {
            let user = match &who {
                LoginName::Username(name) => user_rows::find_by_username(conn, name)?,
                LoginName::Email(email) => user_rows::find_by_email(conn, email)?,
                LoginName::Id(id) => user_rows::find_by_id(conn, id)?,
            };
            match user {
                Some(user) => {
                    let hash = user_rows::password_hash(conn, &user.id)?;
                    Ok((Some(user), hash))
                }
                None => Ok((None, None)),
            }
        })
        .await?;
    let (user, hash) = found;
    let matches = state.passwords.verify(digest, hash).await?;
    Ok(match (user, matches) {
        (Some(user), true) if user.active => PasswordCheck::Valid(user),
        (Some(user), true) => PasswordCheck::Inactive(user),
        _ => PasswordCheck::Failed,
    })
}

/// Issues a login token for `user_id`, evicting the oldest beyond the per-user cap in the
/// same transaction, and records the login. Returns the token and its expiry.
pub async fn issue_login_token(state: &AppState, user_id: &str) -> Result<(PlainToken, Millis)> {
    let token = PlainToken::generate();
    let hash = token.hash();
    let now = now_ms();
    let expires_at = now + state.config.login_token_lifetime().as_millis() as Millis;
    let cap = state.config.max_login_tokens;
    let user_id = user_id.to_string();
    state
        .db
        .write(move |tx| {
            tokens::insert_login_token(tx, &user_id, &hash, now, expires_at, cap)?;
            user_rows::touch_last_login(tx, &user_id, now)
        })
        .await?;
    Ok((token, expires_at))
}

/// Resolves a presented token to its active owner; `user_id`, when given, must match.
pub async fn authenticate_token(
    state: &AppState,
    user_id: Option<String>,
    presented: &str,
) -> Result<Option<TokenOwner>> {
    if !token::is_plausible(presented) {
        return Ok(None);
    }
    let hash = TokenHash::of(presented);
    state
        .db
        .read(move |conn| tokens::authenticate(conn, user_id.as_deref(), &hash, now_ms()))
        .await
}
