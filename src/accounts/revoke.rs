//! Ending sessions on request: logout, an administrator's `users.logout`, and "sign out my
//! other clients". What each kills is the revocation policy's (`revocation`) to say.

use super::acting::Acting;
use super::revocation::{self, Current, Event};
use super::{Accounts, ceiling};
use crate::auth::token::TokenHash;
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::audit::{self, AuditEvent};
use crate::db::tokens::{self, TokenKind};
use crate::db::users::{self, UserRecord};
use crate::error::Result;

/// Logout: removes the one token that authenticated the request.
pub async fn revoke_token(
    state: &Accounts,
    acting: &Acting,
    owner: &UserRecord,
    hash: TokenHash,
    kind: TokenKind,
) -> Result<()> {
    let event = AuditEvent {
        event: "token.revoked",
        subject_id: Some(owner.id.clone()),
        subject: Some(owner.username.clone()),
        token_kind: Some(if kind == TokenKind::Pat { "pat" } else { "login" }),
        token_label: None,
        detail: Some("logout".into()),
    };
    let (actor, id) = (acting.actor.clone(), owner.id.clone());
    state
        .db
        .write(Scope::user(&id), move |tx| {
            if tokens::delete_by_hash(tx, &id, &hash)? {
                audit::record(tx, &actor, &event, now_ms())?;
            }
            Ok(())
        })
        .await
}

/// `users.logout`: every credential of the user, in both dialects (`Event::LoggedOutByAdmin`),
/// under the privilege ceiling when it is someone else. False if there is no such user.
pub async fn log_out_user(state: &Accounts, acting: &Acting, user_id: &str) -> Result<bool> {
    let (acting, id) = (acting.clone(), user_id.to_string());
    state
        .db
        .write(Scope::global_over(&id), move |tx| {
            let Some(user) = users::find_by_id(tx, &id)? else {
                return Ok(false);
            };
            ceiling::may_act_on(tx, &acting, &id)?;
            revocation::apply_in(tx, &acting.actor, &user, Event::LoggedOutByAdmin, Current::None, None)?;
            Ok(true)
        })
        .await
}

/// "Sign out my other clients" (`Event::SignedOutOthers`): the credential in use survives.
pub async fn sign_out_others(
    state: &Accounts,
    acting: &Acting,
    owner: &UserRecord,
    current: Current,
    why: &'static str,
) -> Result<usize> {
    let (actor, owner) = (acting.actor.clone(), owner.clone());
    state
        .db
        .write(Scope::user(&owner.id), move |tx| {
            revocation::apply_in(tx, &actor, &owner, Event::SignedOutOthers, current, Some(why))
        })
        .await
}
