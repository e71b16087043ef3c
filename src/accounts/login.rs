//! Password logins of both dialects, each check drawing on the secret-verification budget.
//! An unknown user costs one bcrypt verify, like a wrong password, and gets the same answer.

use super::acting::{Acting, Credential};
use super::budget::{self, AccountKey, Blocked};
use super::two_factor::{self, Decision};
use super::{Accounts, LoginName};
use crate::auth::password::PasswordDigest;
use crate::auth::token::PlainToken;
use crate::clock::Millis;
use crate::db::users::{self as user_rows, UserRecord};
use crate::error::Result;
use crate::metrics::{Dialect, LoginFailure, METRICS};

#[derive(Debug)]
pub enum PasswordCheck {
    Valid(UserRecord),
    /// Right password, deactivated account.
    Inactive(UserRecord),
    /// Unknown user or wrong password: indistinguishable by design.
    Failed,
    /// Too many failures (spec §13); the password was not even checked.
    Blocked(Blocked),
}

/// Verifies a password from a client at `client_addr` against the budget. A valid password
/// takes its reservation back; anything else stays counted.
pub async fn check_password(
    state: &Accounts,
    who: LoginName,
    digest: PasswordDigest,
    client_addr: Option<&str>,
) -> Result<PasswordCheck> {
    check(state, who, digest, client_addr, Channel::WithSecondFactor).await
}

/// Where a password is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    /// A second factor may follow (or the password is not a login at all).
    WithSecondFactor,
    /// The password alone completes a login (SAYMON): users with TOTP or e-mail 2FA are
    /// refused, as a counted failure, and a right password completes the login.
    PasswordOnly,
}

/// `check_password` for a `channel`.
async fn check(
    state: &Accounts,
    who: LoginName,
    digest: PasswordDigest,
    client_addr: Option<&str>,
    channel: Channel,
) -> Result<PasswordCheck> {
    let refuse_second_factor_users = channel == Channel::PasswordOnly && state.config.two_factor_enabled;
    let submitted = who.text().to_string();
    let (user, hash) = state
        .db
        .read(move |conn| {
            let user = match &who {
                LoginName::Username(name) => user_rows::find_by_username(conn, name)?,
                LoginName::Email(email) => user_rows::find_by_email(conn, email)?,
                LoginName::Id(id) => user_rows::find_by_id(conn, id)?,
            };
            let hash = match &user {
                Some(user) => user_rows::password_hash(conn, &user.id)?,
                None => None,
            };
            Ok((user, hash))
        })
        .await?;
    let key = match &user {
        Some(u) => AccountKey::User(&u.id),
        None => AccountKey::Name(&submitted),
    };
    let attempt = match budget::begin(state, key, client_addr).await? {
        Ok(attempt) => attempt,
        Err(blocked) => return Ok(PasswordCheck::Blocked(blocked)),
    };
    let matches = state.passwords.verify(digest, hash).await?;
    let outcome = match (user, matches) {
        (Some(user), true) if user.active => PasswordCheck::Valid(user),
        (Some(user), true) => PasswordCheck::Inactive(user),
        _ => PasswordCheck::Failed,
    };
    let outcome = match outcome {
        PasswordCheck::Valid(user)
            if refuse_second_factor_users && !two_factor::enabled_methods(state, &user.id).await?.is_empty() =>
        {
            log::info!("refused a password-only login of user {}, who has two-factor authentication", user.id);
            PasswordCheck::Failed
        }
        other => other,
    };
    match (&outcome, channel) {
        (PasswordCheck::Valid(_), Channel::PasswordOnly) => attempt.completed().await?,
        (PasswordCheck::Valid(_), Channel::WithSecondFactor) => attempt.passed().await?,
        _ => attempt.failed().await?,
    }
    Ok(outcome)
}

/// What a Rocket.Chat password login came to.
pub enum LoginOutcome {
    LoggedIn {
        user: Box<UserRecord>,
        token: PlainToken,
        expires_at: Millis,
    },
    /// Right password; the second factor is missing, wrong, or could not be checked.
    SecondFactor(Decision),
    Inactive,
    Failed,
    Blocked(Blocked),
}

/// spec §5: password, then the second factor of a user who has one (the code from the body
/// or `x-2fa-code`), then a new login token. Every outcome is counted (`count_login`).
pub async fn password_login(
    state: &Accounts,
    who: LoginName,
    digest: PasswordDigest,
    code: Option<String>,
    client_addr: Option<String>,
    user_agent: Option<&str>,
) -> Result<LoginOutcome> {
    let outcome: Result<LoginOutcome> = async move {
        let user = match check_password(state, who, digest, client_addr.as_deref()).await? {
            PasswordCheck::Valid(user) => user,
            PasswordCheck::Inactive(_) => return Ok(LoginOutcome::Inactive),
            PasswordCheck::Failed => return Ok(LoginOutcome::Failed),
            PasswordCheck::Blocked(by) => return Ok(LoginOutcome::Blocked(by)),
        };
        match two_factor::check_login(state, &user, code, client_addr.as_deref()).await? {
            Decision::Pass(_) => {}
            other => return Ok(LoginOutcome::SecondFactor(other)),
        }
        budget::login_completed(state, &user.id).await?;
        let acting =
            Acting::user(&user.id, &user.username, client_addr, Credential::Password).with_user_agent(user_agent);
        let (token, expires_at) = super::mint_login_token(state, &acting, &user, "login").await?;
        crate::logging::note_user(&user.id);
        log::info!("login: user {} ({}) logged in with a password", user.id, user.username.escape_debug());
        Ok(LoginOutcome::LoggedIn { user: Box::new(user), token, expires_at })
    }
    .await;
    let outcome = outcome?;
    count_login(&outcome);
    Ok(outcome)
}

/// The metrics of a Rocket.Chat password login: a success, a refusal by reason, or nothing
/// for a challenge (the protocol's next step, counted as a challenge where it is issued).
fn count_login(outcome: &LoginOutcome) {
    let reason = match outcome {
        LoginOutcome::LoggedIn { .. } => return METRICS.login(Dialect::RocketChat),
        LoginOutcome::SecondFactor(Decision::Required(_)) => return,
        LoginOutcome::SecondFactor(Decision::Blocked(_)) | LoginOutcome::Blocked(_) => LoginFailure::Blocked,
        LoginOutcome::SecondFactor(_) => LoginFailure::SecondFactor,
        LoginOutcome::Inactive => LoginFailure::Inactive,
        LoginOutcome::Failed => LoginFailure::BadCredentials,
    };
    METRICS.login_failure(Dialect::RocketChat, reason);
}

/// Why a SAYMON password login failed; SAYMON answers every failure but a lockout alike.
#[derive(Debug, PartialEq, Eq)]
pub enum SaymonLoginFailure {
    InvalidCredentials,
    Blocked(Blocked),
}

/// A SAYMON password login (HTTP Basic on each request, or opening a session). SAYMON has
/// no second-factor protocol, so a password alone must not open an account protected by
/// TOTP or e-mail codes: that counts as a failed check (it would otherwise be a password
/// oracle around the second factor). Such users reach SAYMON with an API token.
pub async fn saymon_password_login(
    state: &Accounts,
    who: LoginName,
    digest: PasswordDigest,
    client_addr: Option<&str>,
) -> Result<std::result::Result<UserRecord, SaymonLoginFailure>> {
    let (result, failure) = match check(state, who, digest, client_addr, Channel::PasswordOnly).await? {
        PasswordCheck::Valid(user) => {
            crate::logging::note_user(&user.id);
            (Ok(user), None)
        }
        PasswordCheck::Blocked(by) => (Err(SaymonLoginFailure::Blocked(by)), Some(LoginFailure::Blocked)),
        PasswordCheck::Inactive(_) => (Err(SaymonLoginFailure::InvalidCredentials), Some(LoginFailure::Inactive)),
        PasswordCheck::Failed => (Err(SaymonLoginFailure::InvalidCredentials), Some(LoginFailure::BadCredentials)),
    };
    match failure {
        None => METRICS.login(Dialect::Saymon),
        Some(reason) => METRICS.login_failure(Dialect::Saymon, reason),
    }
    Ok(result)
}
