//! What a client may ask of a new PAT or SAYMON API token: its lifetime and its scope. The
//! instance maximum (`TOKEND_MAX_TOKEN_LIFETIME_DAYS`) caps a requested lifetime and is given
//! to tokens asked for without one; a regenerated PAT keeps a grace period of at most
//! `MAX_GRACE_SECS` for its old value. Pure rules: the dialects render the complaints.

use crate::clock::{Millis, parse_iso};

/// The longest lifetime anybody may ask for, whatever the instance maximum (100 years).
pub const ABSOLUTE_MAX_DAYS: i64 = 36_500;

/// The longest grace period a regenerated PAT's old value may keep: 7 days, enough to roll a
/// deployment over a weekend, short enough that a forgotten old value dies soon.
pub const MAX_GRACE_SECS: i64 = 7 * 86_400;

const DAY_MS: Millis = 86_400_000;

/// What a token may do: everything its owner may, or only routes that change nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Full,
    ReadOnly,
}

impl Scope {
    /// `"full"` or `"read-only"`; anything else is refused by name.
    pub fn parse(text: Option<&str>) -> Result<Scope, String> {
        match text {
            None | Some("full") => Ok(Scope::Full),
            Some("read-only") => Ok(Scope::ReadOnly),
            Some(other) => Err(format!("Unknown scope {other:?}: use \"full\" or \"read-only\"")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::ReadOnly => "read-only",
        }
    }

    /// As the store keeps it (the `scope` column).
    pub fn from_stored(text: &str) -> Scope {
        if text == "read-only" { Scope::ReadOnly } else { Scope::Full }
    }
}

/// The read-only scope, the one rule of it: a read-only token authenticates a route only if
/// the route changes nothing. Both dialects' authentication extractors call this, with what
/// the route table says of the route.
pub fn admit(read_only: bool, route_changes_state: bool) -> Result<(), super::Refusal> {
    if read_only && route_changes_state { Err(super::Refusal::ReadOnlyToken) } else { Ok(()) }
}

/// A client's request for a token's lifetime: a number of days, or a date-time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LifetimeRequest {
    pub days: Option<i64>,
    pub at: Option<String>,
}

impl LifetimeRequest {
    pub fn is_empty(&self) -> bool {
        self.days.is_none() && self.at.is_none()
    }
}

/// The expiry (ms since the epoch, `None` = never) a token created at `now` gets for
/// `request` under the instance maximum `max_days`, or why the request is refused.
pub fn expiry(request: &LifetimeRequest, max_days: Option<u32>, now: Millis) -> Result<Option<Millis>, String> {
    let limit_days = max_days.map_or(ABSOLUTE_MAX_DAYS, i64::from);
    let latest = now + limit_days * DAY_MS;
    let too_long = || match max_days {
        Some(max) => format!("A token may live at most {max} days on this server (TOKEND_MAX_TOKEN_LIFETIME_DAYS)"),
        None => format!("A token may live at most {ABSOLUTE_MAX_DAYS} days"),
    };
    match (request.days, request.at.as_deref()) {
        (Some(_), Some(_)) => Err("Give either expiresInDays or expiresAt, not both".into()),
        (Some(days), None) if days < 1 => Err("expiresInDays must be a whole number of days, at least 1".into()),
        (Some(days), None) if days > limit_days => Err(too_long()),
        (Some(days), None) => Ok(Some(now + days * DAY_MS)),
        (None, Some(text)) => {
            let at = parse_iso(text)
                .ok_or_else(|| format!("expiresAt {text:?} is not an ISO-8601 date-time, e.g. 2030-01-31T00:00:00Z"))?;
            if at <= now {
                Err("expiresAt must be in the future".into())
            } else if at > latest {
                Err(too_long())
            } else {
                Ok(Some(at))
            }
        }
        (None, None) => Ok(max_days.map(|_| latest)),
    }
}

/// A grace period in seconds for a regenerated PAT's old value, or why it is refused.
pub fn grace_ms(seconds: Option<i64>) -> Result<Millis, String> {
    match seconds.unwrap_or(0) {
        s if (0..=MAX_GRACE_SECS).contains(&s) => Ok(s * 1000),
        _ => Err(format!("graceSeconds must be between 0 and {MAX_GRACE_SECS} (7 days)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(d: i64) -> LifetimeRequest {
        LifetimeRequest { days: Some(d), at: None }
    }

    #[test]
    fn a_lifetime_in_days_is_positive_and_under_the_maximum() {
        assert_eq!(expiry(&days(1), None, 0), Ok(Some(DAY_MS)));
        assert!(expiry(&days(0), None, 0).is_err());
        assert!(expiry(&days(-5), None, 0).is_err());
        assert!(expiry(&days(ABSOLUTE_MAX_DAYS + 1), None, 0).is_err());
        assert!(expiry(&days(31), Some(30), 0).is_err());
        assert_eq!(expiry(&days(30), Some(30), 0), Ok(Some(30 * DAY_MS)));
    }

    #[test]
    fn without_a_request_the_instance_maximum_applies() {
        assert_eq!(expiry(&LifetimeRequest::default(), None, 5), Ok(None));
        assert_eq!(expiry(&LifetimeRequest::default(), Some(2), 5), Ok(Some(5 + 2 * DAY_MS)));
    }

    #[test]
    fn a_date_must_be_in_the_future_and_parse() {
        let at = |s: &str| LifetimeRequest { days: None, at: Some(s.into()) };
        let now = parse_iso("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(expiry(&at("2030-01-02T00:00:00Z"), None, now), Ok(Some(now + DAY_MS)));
        assert!(expiry(&at("2029-12-31T00:00:00Z"), None, now).is_err());
        assert!(expiry(&at("tomorrow"), None, now).is_err());
        assert!(expiry(&at("2030-03-01T00:00:00Z"), Some(30), now).is_err());
        let both = LifetimeRequest { days: Some(1), at: Some("2030-01-02T00:00:00Z".into()) };
        assert!(expiry(&both, None, now).is_err());
    }

    #[test]
    fn scopes_and_grace_periods_are_checked() {
        assert_eq!(Scope::parse(None), Ok(Scope::Full));
        assert_eq!(Scope::parse(Some("read-only")), Ok(Scope::ReadOnly));
        assert!(Scope::parse(Some("admin")).is_err());
        assert_eq!(grace_ms(None), Ok(0));
        assert_eq!(grace_ms(Some(60)), Ok(60_000));
        assert!(grace_ms(Some(-1)).is_err());
        assert!(grace_ms(Some(MAX_GRACE_SECS + 1)).is_err());
    }
}
