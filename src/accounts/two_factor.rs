//! The one place that decides whether a request on a 2FA-gated route may proceed
//! (spec/rocketchat.md §10.2 and §10.4). Dialects turn its `Decision` into their own
//! errors. Methods: TOTP, e-mailed codes, and the password fallback for users without
//! either.

use super::Accounts;
use super::budget::{self, AccountKey, Blocked};
use super::email_2fa::{self, Issued};
use crate::auth::password::PasswordDigest;
use crate::auth::token::TokenHash;
use crate::clock::{Millis, now_ms};
use crate::db::Scope;
use crate::db::email_2fa::CodeCheck;
use crate::db::tokens::TokenOwner;
use crate::db::users::UserRecord;
use crate::db::{two_factor as store, users};
use crate::error::Result;
use crate::metrics::METRICS;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Per-route options (Rocket.Chat's `twoFactorOptions`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Never trust the remember window for this route (e.g. disabling a 2FA method).
    pub disable_remember_me: bool,
    /// Users without TOTP/e-mail are not challenged with their password.
    pub disable_password_fallback: bool,
    /// Even the token's bypass flag and fresh-account rule do not apply.
    pub require_second_factor: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Totp,
    Email,
    Password,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Email => "email",
            Method::Password => "password",
        }
    }
}

/// The second factors the user has turned on, in Rocket.Chat's order of preference.
pub async fn enabled_methods(state: &Accounts, user_id: &str) -> Result<Vec<Method>> {
    let mut methods = Vec::new();
    if crate::accounts::totp::is_enabled(state, user_id).await? {
        methods.push(Method::Totp);
    }
    if email_2fa::is_enabled(state, user_id).await? {
        methods.push(Method::Email);
    }
    Ok(methods)
}

/// What the client sent: `x-2fa-code`, `x-2fa-method`, and who it is (for the window and
/// the budget).
#[derive(Clone, Debug)]
pub struct Attempt {
    pub code: Option<String>,
    pub method: Option<String>,
    pub fingerprint: [u8; 32],
    pub client_addr: Option<String>,
}

/// Proof that a request passed the second-factor gate. Only this module makes one, and the
/// operations behind gated routes take one, so no route (REST or Meteor method) can reach
/// them without passing the gate first.
#[derive(Debug, PartialEq, Eq)]
pub struct Passed(());

/// A fingerprint of the client: user agent and address, as Rocket.Chat binds its window.
pub fn client_fingerprint(user_agent: &str, client_addr: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(user_agent.as_bytes());
    h.update([0]);
    h.update(client_addr.as_bytes());
    h.finalize().into()
}

/// Details of a challenge, as `details` of `totp-required` / `totp-invalid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub method: Method,
    pub code_generated: bool,
    /// E-mail method: who the code is for (Rocket.Chat's `emailOrUsername`: the username).
    pub email_or_username: Option<String>,
    /// E-mail method: when the code already sent expires (no new one was sent).
    pub code_expires: Option<Millis>,
    /// Names of the methods the user has enabled (empty when only the password applies).
    pub available_methods: Vec<&'static str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Pass(Passed),
    Required(Challenge),
    Invalid(Challenge),
    /// Too many wrong e-mail codes: this code is dead (`totp-max-attempts`).
    MaxAttempts(Challenge),
    /// The e-mail with a code could not be sent (logged with the cause).
    DeliveryFailed,
    /// Too many failed secret checks for the account or address: nothing was verified.
    Blocked(Blocked),
}

fn pass() -> Decision {
    Decision::Pass(Passed(()))
}

/// Decides a request by `owner` (authenticated with `token`) on a gated route. A passed
/// check opens the remember window for this token and client unless the route forbids it.
pub async fn check(
    state: &Accounts,
    owner: &TokenOwner,
    token: &TokenHash,
    attempt: &Attempt,
    options: Options,
) -> Result<Decision> {
    if !state.config.two_factor_enabled {
        return Ok(pass());
    }
    let methods = enabled_methods(state, &owner.user.id).await?;
    if is_authorised_for_token(state, owner, token, attempt, options, methods.is_empty()).await? {
        return Ok(pass());
    }
    let decision = decide(state, &owner.user, &methods, attempt, options).await?;
    if matches!(decision, Decision::Pass(_))
        && !options.disable_remember_me
        && !state.config.two_factor_remember.is_zero()
    {
        let until = now_ms() + state.config.two_factor_remember.as_millis() as Millis;
        let (hash, fingerprint) = (*token, attempt.fingerprint);
        // Blind: one UPDATE of the token's row, nothing read first.
        state.db.write(Scope::Blind, move |tx| store::remember(tx, &hash, until, &fingerprint)).await?;
    }
    Ok(decision)
}

/// §10.5: a password login of a user with TOTP/e-mail 2FA needs a code; others are not
/// challenged (no password fallback), and no bypass applies.
pub async fn check_login(
    state: &Accounts,
    user: &UserRecord,
    code: Option<String>,
    client_addr: Option<&str>,
) -> Result<Decision> {
    if !state.config.two_factor_enabled {
        return Ok(pass());
    }
    let methods = enabled_methods(state, &user.id).await?;
    let attempt = Attempt { code, method: None, fingerprint: [0; 32], client_addr: client_addr.map(str::to_string) };
    let options = Options { disable_password_fallback: true, ..Options::default() };
    decide(state, user, &methods, &attempt, options).await
}

/// §10.2 steps 4–7: pick the method, then challenge or verify. `processInvalidCode` (which
/// may e-mail a fresh code) runs only when the request did not pass.
async fn decide(
    state: &Accounts,
    user: &UserRecord,
    methods: &[Method],
    attempt: &Attempt,
    options: Options,
) -> Result<Decision> {
    let named = match attempt.method.as_deref() {
        Some("totp") => Some(Method::Totp),
        // As named, even if not switched on; but only where a code can be sent.
        Some("email") if email_2fa::can_receive(state, user) => Some(Method::Email),
        _ => None,
    };
    let fallback = user.has_password && (!options.disable_password_fallback || options.require_second_factor);
    let Some(method) = named.or_else(|| methods.first().copied()).or(fallback.then_some(Method::Password)) else {
        return Ok(pass());
    };
    let mut challenge = Challenge {
        method,
        code_generated: false,
        email_or_username: (method == Method::Email).then(|| user.username.clone()),
        code_expires: None,
        available_methods: methods.iter().map(|m| m.name()).collect(),
    };
    let code = attempt.code.as_deref().filter(|c| !c.is_empty());
    if let Some(code) = code {
        match verify(state, user, method, code, attempt.client_addr.as_deref()).await? {
            Verdict::Valid => return Ok(pass()),
            Verdict::TooManyAttempts => return Ok(Decision::MaxAttempts(challenge)),
            Verdict::Blocked(by) => return Ok(Decision::Blocked(by)),
            Verdict::Invalid => {}
        }
    }
    if method == Method::Email {
        match email_2fa::process_invalid_code(state, user).await? {
            Ok(Issued::Existing { expires_at }) => challenge.code_expires = Some(expires_at),
            Ok(Issued::Sent { .. }) => challenge.code_generated = true,
            Err(_) => return Ok(Decision::DeliveryFailed),
        }
    }
    if code.is_some() {
        return Ok(Decision::Invalid(challenge));
    }
    METRICS.second_factor_challenge(method.name());
    Ok(Decision::Required(challenge))
}

/// §10.4, in order: the token's bypass flag, the fresh-account grace, the remember window.
async fn is_authorised_for_token(
    state: &Accounts,
    owner: &TokenOwner,
    token: &TokenHash,
    attempt: &Attempt,
    options: Options,
    no_methods: bool,
) -> Result<bool> {
    if options.require_second_factor {
        return Ok(false);
    }
    if owner.bypass_2fa {
        return Ok(true);
    }
    let remember = state.config.two_factor_remember.as_millis() as Millis;
    let now = now_ms();
    if no_methods && remember > 0 && owner.user.created_at + remember > now {
        return Ok(true);
    }
    if options.disable_remember_me || remember == 0 {
        return Ok(false);
    }
    let hash = *token;
    let window = state.db.read(move |c| store::remembered(c, &hash)).await?;
    Ok(matches!(window, Some((until, fp)) if until > now && bool::from(fp.as_slice().ct_eq(&attempt.fingerprint))))
}

pub enum Verdict {
    Valid,
    Invalid,
    TooManyAttempts,
    Blocked(Blocked),
}

/// Checks one code of `user` by `method` against the secret-verification budget: every
/// second-factor check of every route comes through here (or `verify_totp_or_backup`).
pub async fn verify(
    state: &Accounts,
    user: &UserRecord,
    method: Method,
    code: &str,
    client_addr: Option<&str>,
) -> Result<Verdict> {
    let attempt = match budget::begin(state, AccountKey::User(&user.id), client_addr).await? {
        Ok(attempt) => attempt,
        Err(by) => return Ok(Verdict::Blocked(by)),
    };
    let verdict = verify_unbudgeted(state, user, method, code).await?;
    match verdict {
        Verdict::Valid => attempt.passed().await?,
        _ => {
            attempt.failed().await?;
            METRICS.second_factor_failure(method.name());
        }
    }
    Ok(verdict)
}

async fn verify_unbudgeted(state: &Accounts, user: &UserRecord, method: Method, code: &str) -> Result<Verdict> {
    let valid = match method {
        Method::Totp => crate::accounts::totp::verify(state, &user.id, code).await?,
        Method::Email => {
            return Ok(match email_2fa::verify(state, &user.id, code).await? {
                CodeCheck::Matched => Verdict::Valid,
                CodeCheck::Wrong | CodeCheck::NoCode => Verdict::Invalid,
                CodeCheck::TooManyAttempts => Verdict::TooManyAttempts,
            });
        }
        // The code is the lowercase hex SHA-256 of the password: what bcrypt stores over.
        Method::Password => {
            let Some(digest) = PasswordDigest::from_client_digest(code.trim()) else {
                return Ok(Verdict::Invalid);
            };
            let id = user.id.clone();
            let stored = state.db.read(move |c| users::password_hash(c, &id)).await?;
            state.passwords.verify(digest, stored).await?
        }
    };
    Ok(if valid { Verdict::Valid } else { Verdict::Invalid })
}
