//! "Your personal access token expires soon": one e-mail per PAT, `WARN_BEFORE_MS` before
//! it expires (as GitLab sends), when SMTP is configured. Run periodically; a PAT is marked
//! warned only once its mail went out, so a failed delivery is tried again next round.

use super::Accounts;
use crate::clock::{Millis, iso, now_ms};
use crate::db::Scope;
use crate::db::lifecycle;
use crate::error::Result;

pub const WARN_BEFORE_MS: Millis = 7 * 86_400_000;

/// Mails the owners of PATs expiring within a week; returns how many were warned.
pub async fn send_due(state: &Accounts) -> Result<usize> {
    if !state.mailer.is_configured() {
        return Ok(0);
    }
    let now = now_ms();
    let due = state.db.read(move |c| lifecycle::expiring_pats(c, now, now + WARN_BEFORE_MS)).await?;
    let mut warned = 0;
    for pat in due {
        let body = format!(
            "Hello {},\n\nyour personal access token \"{}\" expires at {} (UTC).\n\
             Regenerate it (users.regeneratePersonalAccessToken, optionally with a grace period \
             for the old value) or create a new one before then; after that it stops working.\n",
            pat.username,
            pat.name,
            iso(pat.expires_at)
        );
        if let Err(e) = state.mailer.send(&pat.email, "Your personal access token expires soon", body).await {
            log::warn!("mail: expiry warning for a token of {} not sent: {e}", pat.username);
            continue;
        }
        let id = pat.id;
        state.db.write(Scope::Blind, move |tx| lifecycle::mark_warned(tx, id)).await?;
        warned += 1;
    }
    Ok(warned)
}
