//! Accounts people manage themselves: registration, deleting one's own account, and
//! resetting a forgotten password by e-mail. Each goes through the same rules as the
//! administrative routes (account validation, last-admin protection, the revocation policy,
//! the secret budget).

use super::acting::{Acting, Credential};
use super::login::{PasswordCheck, check_password};
use super::user_edit::{UpdateUserError, UserUpdate, delete_user, update_user};
use super::users::{CreateUserError, PolicyViolation, UserDraft, check_password_policy, create_user};
use super::{Accounts, Blocked, LoginName};
use crate::auth::password::PasswordDigest;
use crate::auth::token::PlainToken;
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::audit::Actor;
use crate::db::password_resets;
use crate::db::users::{self, UserRecord};
use crate::error::Result;

/// The role every self-registered account gets (Rocket.Chat's default new-user role).
const DEFAULT_ROLE: &str = "user";

/// Creates an account for whoever asks, when the operator allows it (the route checks the
/// setting and secret). The server's own rule grants the default role, so no caller's
/// privileges bound it: it acts as the registration itself, never as a user.
pub async fn register(
    state: &Accounts,
    client_addr: Option<String>,
    username: String,
    name: String,
    email: String,
    password: String,
) -> std::result::Result<UserRecord, CreateUserError> {
    let acting = Acting {
        actor: Actor { id: None, name: "registration".into(), client_addr },
        credential: Credential::Operator,
        user_agent: None,
    };
    let draft = UserDraft {
        username,
        name,
        email: Some(email),
        email_verified: false,
        password,
        active: true,
        roles: vec![DEFAULT_ROLE.to_string()],
        require_password_change: false,
        nickname: None,
        bio: None,
        status_text: None,
        permissions: Vec::new(),
    };
    create_user(state, &acting, draft).await
}

#[derive(Debug)]
pub enum DeleteOwnError {
    /// Wrong password (counted against the budget like any other).
    InvalidPassword,
    Blocked(Blocked),
    /// The account is the last active admin.
    LastAdmin,
}

/// Deletes the acting user's own account once `digest` proves the password (checked on the
/// secret budget). A personal access token cannot; the last active admin cannot.
pub async fn delete_own_account(
    state: &Accounts,
    acting: &Acting,
    digest: PasswordDigest,
) -> Result<std::result::Result<(), DeleteOwnError>> {
    acting.require_session()?;
    let id = acting.user_id().unwrap_or_default().to_string();
    match check_password(state, LoginName::Id(id.clone()), digest, acting.client_addr()).await? {
        PasswordCheck::Valid(_) => {}
        PasswordCheck::Blocked(by) => return Ok(Err(DeleteOwnError::Blocked(by))),
        PasswordCheck::Failed | PasswordCheck::Inactive(_) => return Ok(Err(DeleteOwnError::InvalidPassword)),
    }
    match delete_user(state, acting, &id).await {
        Ok(_) => Ok(Ok(())),
        Err(UpdateUserError::LastAdmin) => Ok(Err(DeleteOwnError::LastAdmin)),
        Err(UpdateUserError::Create(CreateUserError::Store(e))) => Err(e),
        Err(e) => Err(crate::error::Error::Internal(format!("deleting one's own account: {e:?}"))),
    }
}

/// Mails a reset link to the account with address `email`, if there is an active one and
/// mail can go out; anyone else gets nothing, silently. Callers answer before calling this,
/// so neither the answer nor its timing tells which addresses have accounts.
pub async fn send_reset_link(state: &Accounts, email: String) -> Result<()> {
    if !state.mailer.is_configured() {
        return Ok(());
    }
    let found = state.db.read(move |c| users::find_by_email(c, &email)).await?;
    let Some(user) = found.filter(|u| u.active) else {
        return Ok(());
    };
    let Some(address) = user.email.clone() else {
        return Ok(());
    };
    let token = PlainToken::generate();
    let (hash, id) = (token.hash(), user.id.clone());
    let lifetime = state.config.password_reset_lifetime.as_millis() as i64;
    state
        .db
        .write(Scope::user(&id), move |tx| {
            let now = now_ms();
            password_resets::insert(tx, &hash, &id, now, now + lifetime)
        })
        .await?;
    let minutes = state.config.password_reset_lifetime.as_secs().div_ceil(60);
    let link = format!("{}/ui/#reset-password/{}", state.config.site_url, token.expose());
    let body = format!(
        "Someone asked to reset the password of {} at {}.\n\nTo choose a new password, open this link \
         within {minutes} minutes (it works once):\n\n    {link}\n\nIf it was not you, ignore this e-mail; \
         your password stays as it is.\n",
        user.username, state.config.site_url
    );
    match state.mailer.send(&address, "Reset your password", body).await {
        Ok(()) => log::info!("password reset: e-mailed a link to user {}", user.id),
        Err(_) => log::warn!("password reset: e-mail delivery failed for user {}", user.id),
    }
    Ok(())
}

#[derive(Debug)]
pub enum ResetError {
    /// Unknown, used or expired link (indistinguishable by design).
    InvalidToken,
    Policy(PolicyViolation),
}

/// Sets a new password with a reset link's token: the link works once and ends the user's
/// other links, and the change ends every login token (the revocation policy). Returns the
/// user, who then logs in as usual.
pub async fn reset_password(
    state: &Accounts,
    token: &str,
    new_password: String,
    client_addr: Option<String>,
) -> Result<std::result::Result<UserRecord, ResetError>> {
    if let Err(violation) = check_password_policy(state, &new_password) {
        return Ok(Err(ResetError::Policy(violation)));
    }
    let hash = PlainToken::from_presented(token).hash();
    // Global: whose reset it is becomes known only inside the write (two nodes taking one
    // link must not both succeed).
    let Some(id) = state.db.write(Scope::global(), move |tx| password_resets::take(tx, &hash, now_ms())).await? else {
        return Ok(Err(ResetError::InvalidToken));
    };
    let Some(user) = state
        .db
        .read({
            let id = id.clone();
            move |c| users::find_by_id(c, &id)
        })
        .await?
    else {
        return Ok(Err(ResetError::InvalidToken));
    };
    let acting = Acting::user(&user.id, &user.username, client_addr, Credential::Password);
    let change = UserUpdate { password: Some(new_password), ..UserUpdate::default() };
    match update_user(state, &acting, &id, change).await {
        Ok(user) => Ok(Ok(user)),
        Err(UpdateUserError::Create(CreateUserError::Policy(v))) => Ok(Err(ResetError::Policy(v))),
        Err(UpdateUserError::Create(CreateUserError::Store(e))) => Err(e),
        Err(e) => Err(crate::error::Error::Internal(format!("password reset: {e:?}"))),
    }
}
