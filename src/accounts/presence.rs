//! The status a user shows (Rocket.Chat's `users.setStatus`): tokend holds no live
//! connections, so a user's presence is the status they chose, `offline` until they choose.

use super::{Accounts, Acting, ceiling};
use crate::clock::now_ms;
use crate::db::Scope;
use crate::db::users;
use crate::error::Result;

/// Rocket.Chat's settable statuses (`invisible` is `offline` on the wire).
pub const STATUSES: [&str; 4] = ["online", "away", "offline", "busy"];

/// Rocket.Chat trims a status text to this many characters.
pub const MAX_STATUS_TEXT_CHARS: usize = 120;

/// What a user shows while they have never set a status.
pub const DEFAULT_STATUS: &str = "offline";

/// Trimmed and cut to `MAX_STATUS_TEXT_CHARS`, as Rocket.Chat's `setStatusText` does.
pub fn clean_status_text(text: &str) -> String {
    text.trim().chars().filter(|c| !c.is_control()).take(MAX_STATUS_TEXT_CHARS).collect()
}

/// Sets `target_id`'s status and/or status text on behalf of `acting`; acting on someone
/// else is subject to the privilege ceiling. Returns false if there is no such user.
/// `status` must be one of `STATUSES` (the dialect says so in its own words first).
pub async fn set_status(
    state: &Accounts,
    acting: &Acting,
    target_id: &str,
    status: Option<&'static str>,
    text: Option<String>,
) -> Result<bool> {
    let (acting, target_id) = (acting.clone(), target_id.to_string());
    let text = text.map(|t| clean_status_text(&t));
    // Someone else's status is set under the privilege ceiling: serialised with grant changes.
    let scope = if acting.acts_on_self(&target_id) { Scope::user(&target_id) } else { Scope::global_over(&target_id) };
    state
        .db
        .write(scope, move |tx| {
            if !acting.acts_on_self(&target_id) {
                ceiling::may_act_on(tx, &acting, &target_id)?;
            }
            users::set_status(tx, &target_id, status, text.as_deref(), now_ms())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_are_trimmed_cut_and_free_of_control_characters() {
        assert_eq!(clean_status_text("  lunch \n"), "lunch");
        assert_eq!(clean_status_text("a\u{0}b"), "ab");
        assert_eq!(clean_status_text(&"x".repeat(200)).chars().count(), 120);
    }
}
