//! Wall-clock time as milliseconds since the Unix epoch (how every timestamp is stored),
//! and its rendering as the ISO-8601 strings Rocket.Chat clients expect.

use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub type Millis = i64;

pub fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}

/// `2024-05-01T10:00:00.000Z`: JavaScript's `Date.prototype.toJSON` form.
pub fn iso(ms: Millis) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 / ISO-8601 date-time (as sent in `updatedSince`) into milliseconds.
pub fn parse_iso(text: &str) -> Option<Millis> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_matches_javascript_date_json() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_714_557_600_123), "2024-05-01T10:00:00.123Z");
    }

    #[test]
    fn parse_iso_round_trips_and_rejects_garbage() {
        assert_eq!(parse_iso("2024-05-01T10:00:00.123Z"), Some(1_714_557_600_123));
        assert_eq!(parse_iso("2024-05-01T12:00:00+02:00"), Some(1_714_557_600_000));
        assert_eq!(parse_iso("yesterday"), None);
    }
}
