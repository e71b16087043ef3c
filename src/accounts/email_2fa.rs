//! E-mail 2FA for a user (spec §10.3, §10.6): turning it on and off, issuing six-digit
//! codes by mail (stored as keyed hashes, with a deadline and a limit on wrong guesses),
//! and checking them.

use super::Accounts;
use super::acting::Acting;
use super::revocation::{self, Current, Event};
use super::two_factor::Passed;
use crate::clock::{Millis, now_ms};
use crate::db::Scope;
use crate::db::email_2fa::{self as store, CodeCheck};
use crate::db::users::UserRecord;
use crate::error::Result;
use crate::mail::MailError;

pub const CODE_DIGITS: usize = 6;
pub const SUBJECT: &str = "Authentication code";

#[derive(Debug, PartialEq, Eq)]
pub enum EnableError {
    /// No address, or not verified (`error-invalid-user`).
    NoVerifiedEmail,
    /// The server has no SMTP configured, so no code could ever be sent.
    MailUnavailable,
}

/// A code the user can type: one already in their mailbox, or one just sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issued {
    Existing { expires_at: Millis },
    Sent { expires_at: Millis },
}

/// Where codes for `user` would go: a verified address, and a server to send through.
pub fn can_receive(state: &Accounts, user: &UserRecord) -> bool {
    state.mailer.is_configured() && user.email_verified && user.email.is_some()
}

/// The method is on for this user: switched on, a verified address, SMTP configured.
pub async fn is_enabled(state: &Accounts, user_id: &str) -> Result<bool> {
    if !state.mailer.is_configured() {
        return Ok(false);
    }
    let id = user_id.to_string();
    state.db.read(move |c| store::is_enabled(c, &id)).await
}

/// `users.2fa.enableEmail`: on, with the revocations of `Event::SecondFactorEnrolled`
/// (the credential in use survives), audited like the same step of TOTP enrolment.
pub async fn enable(
    state: &Accounts,
    acting: &Acting,
    user: &UserRecord,
    current: Current,
) -> Result<std::result::Result<usize, EnableError>> {
    if user.email.is_none() || !user.email_verified {
        return Ok(Err(EnableError::NoVerifiedEmail));
    }
    if !state.mailer.is_configured() {
        return Ok(Err(EnableError::MailUnavailable));
    }
    let (actor, user) = (acting.actor.clone(), user.clone());
    let revoked = state
        .db
        .write(Scope::user(&user.id), move |tx| {
            let now = now_ms();
            store::set_enabled(tx, &user.id, true, now)?;
            revocation::apply_in(tx, &actor, &user, Event::SecondFactorEnrolled, current, Some("e-mail 2FA enabled"))
        })
        .await?;
    Ok(Ok(revoked))
}

/// `users.2fa.disableEmail`: off; any pending code is forgotten. Gated (`Passed`).
pub async fn disable(state: &Accounts, user_id: &str, _gate: &Passed) -> Result<()> {
    let id = user_id.to_string();
    state.db.write(Scope::user(&id), move |tx| store::set_enabled(tx, &id, false, now_ms())).await
}

/// `processInvalidCode`: the live code if it may still be guessed at, else a fresh one,
/// sent now. Deciding and storing is one transaction, so concurrent challenges send one code.
pub async fn process_invalid_code(
    state: &Accounts,
    user: &UserRecord,
) -> Result<std::result::Result<Issued, MailError>> {
    let code = generate_code();
    let hash = code_hash(state, &user.id, &code);
    let (id, max, lifetime) = (user.id.clone(), state.config.email_code_max_attempts, lifetime_ms(state));
    let issued = state
        .db
        .write(Scope::user(&id), move |tx| {
            let now = now_ms();
            if let Some(expires_at) = store::live_code(tx, &id, now, max)? {
                return Ok(Issued::Existing { expires_at });
            }
            store::store_code(tx, &id, &hash, now + lifetime, now)?;
            Ok(Issued::Sent { expires_at: now + lifetime })
        })
        .await?;
    if let Issued::Sent { .. } = issued {
        if let Err(e) = deliver(state, user, &code, &hash).await? {
            return Ok(Err(e));
        }
    }
    Ok(Ok(issued))
}

/// `users.2fa.sendEmailCode`: a fresh code, whatever was pending.
pub async fn send_code(state: &Accounts, user: &UserRecord) -> Result<std::result::Result<Millis, MailError>> {
    let code = generate_code();
    let hash = code_hash(state, &user.id, &code);
    let (id, lifetime) = (user.id.clone(), lifetime_ms(state));
    let expires_at = state
        .db
        .write(Scope::user(&id), move |tx| {
            let now = now_ms();
            store::store_code(tx, &id, &hash, now + lifetime, now)?;
            Ok(now + lifetime)
        })
        .await?;
    Ok(deliver(state, user, &code, &hash).await?.map(|()| expires_at))
}

/// Checks a typed code; everything but ASCII digits is ignored (`123-456` = `123456`).
/// Unbudgeted: callers go through `two_factor::verify`.
pub(super) async fn verify(state: &Accounts, user_id: &str, code: &str) -> Result<CodeCheck> {
    let hash = code_hash(state, user_id, &digits_of(code));
    let (id, max) = (user_id.to_string(), state.config.email_code_max_attempts);
    state.db.write(Scope::user(&id), move |tx| store::check_code(tx, &id, &hash, now_ms(), max)).await
}

/// Mails `code` to the user; a code that could not be delivered is withdrawn.
async fn deliver(
    state: &Accounts,
    user: &UserRecord,
    code: &str,
    hash: &[u8; 32],
) -> Result<std::result::Result<(), MailError>> {
    let Some(address) = user.email.as_deref().filter(|_| user.email_verified) else {
        return Ok(Err(MailError::BadRecipient("the user has no verified e-mail address".into())));
    };
    let minutes = state.config.email_code_lifetime.as_secs().div_ceil(60);
    let body = message_body(&user.username, &state.config.site_url, code, minutes);
    match state.mailer.send(address, SUBJECT, body).await {
        Ok(()) => {
            log::info!("2FA: e-mailed a code to user {}", user.id);
            Ok(Ok(()))
        }
        Err(e) => {
            log::warn!("2FA: e-mail delivery failed for user {}; the code was withdrawn", user.id);
            let (id, hash) = (user.id.clone(), *hash);
            state.db.write(Scope::user(&id), move |tx| store::discard_code(tx, &id, &hash)).await?;
            Ok(Err(e))
        }
    }
}

fn lifetime_ms(state: &Accounts) -> Millis {
    state.config.email_code_lifetime.as_millis() as Millis
}

fn code_hash(state: &Accounts, user_id: &str, digits: &str) -> [u8; 32] {
    state.vault.keyed_hash(&[b"email-2fa", user_id.as_bytes(), digits.as_bytes()])
}

fn digits_of(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).collect()
}

/// Six uniformly random digits from the OS CSPRNG.
pub fn generate_code() -> String {
    const RANGE: u32 = 1_000_000;
    let limit = u32::MAX - u32::MAX % RANGE; // values at or above would bias the result
    loop {
        let mut bytes = [0u8; 4];
        crate::auth::random::fill(&mut bytes);
        let n = u32::from_le_bytes(bytes);
        if n < limit {
            return format!("{:06}", n % RANGE);
        }
    }
}

/// The mail: the code shown as `123-456`, as Rocket.Chat shows it.
pub fn message_body(username: &str, site_url: &str, code: &str, minutes: u64) -> String {
    let shown = if code.len() == CODE_DIGITS { format!("{}-{}", &code[..3], &code[3..]) } else { code.to_string() };
    format!(
        "Here is the authentication code for {username} at {site_url}:\n\n    {shown}\n\n\
         It expires in {minutes} minutes and works once. Do not give it to anyone.\n\
         If you did not just try to sign in, someone may know your password: change it.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| generate_code()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 190, "{} distinct of 200", codes.len());
    }

    #[test]
    fn only_ascii_digits_count() {
        assert_eq!(digits_of("123-456"), "123456");
        assert_eq!(digits_of(" 12 34 56\n"), "123456");
        assert_eq!(digits_of("٠١٢٣٤٥"), "");
        assert_eq!(digits_of("abc"), "");
    }

    #[test]
    fn the_mail_shows_the_code_split_in_two() {
        let body = message_body("alice", "https://chat.example.com", "012345", 60);
        assert!(body.contains("012-345"), "{body}");
        assert!(body.contains("alice") && body.contains("60 minutes"), "{body}");
    }
}
