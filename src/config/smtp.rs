//! `TOKEND_SMTP_URL` and `TOKEND_SMTP_FROM`: validated together at startup, so a value of
//! `SmtpSettings` always builds a working transport. The URL may carry a password, which
//! `Debug` and every error message leave out.

use super::{ConfigError, Secret, variables as v};
use lettre::message::Mailbox;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    url: Secret,
    from: String,
}

impl SmtpSettings {
    /// Checks `url` as lettre understands it (`smtp://`, `smtp://…?tls=required|opportunistic`,
    /// `smtps://`) and `from` as a mailbox (`name <addr>` or `addr`).
    pub fn parse(url: &str, from: &str) -> Result<SmtpSettings, ConfigError> {
        let url = url.trim();
        if let Err(e) = crate::mail::transport(url) {
            return Err(ConfigError {
                variable: v::SMTP_URL.variable,
                value: redact(url),
                fix: format!(
                    "{e}; use smtp://[user:password@]host[:port] (plain, port 25), smtp://host:587?tls=required (STARTTLS) or smtps://host:465 (TLS); percent-encode special characters in the user and password"
                ),
            });
        }
        if let Err(e) = from.trim().parse::<Mailbox>() {
            return Err(ConfigError {
                variable: v::SMTP_FROM.variable,
                value: from.to_string(),
                fix: format!("{e}; use an address such as noreply@example.com or 'tokend <noreply@example.com>'"),
            });
        }
        Ok(SmtpSettings { url: Secret::new(url), from: from.trim().to_string() })
    }

    /// Both variables or neither: a sender without a server (or the reverse) is a mistake.
    pub(super) fn from_variables(url: Option<String>, from: Option<String>) -> Result<Option<Self>, ConfigError> {
        match (url, from) {
            (None, None) => Ok(None),
            (Some(url), Some(from)) => SmtpSettings::parse(&url, &from).map(Some),
            (Some(url), None) => Err(ConfigError {
                variable: v::SMTP_FROM.variable,
                value: String::new(),
                fix: format!(
                    "TOKEND_SMTP_URL ({}) needs a sender: set TOKEND_SMTP_FROM, e.g. 'tokend <noreply@example.com>'",
                    redact(&url)
                ),
            }),
            (None, Some(from)) => Err(ConfigError {
                variable: v::SMTP_URL.variable,
                value: String::new(),
                fix: format!("TOKEND_SMTP_FROM ({from}) is set but no SMTP server: set TOKEND_SMTP_URL or unset both"),
            }),
        }
    }

    /// The URL with its password; only for building the transport.
    pub fn url(&self) -> &str {
        self.url.expose()
    }

    pub fn from(&self) -> &str {
        &self.from
    }

    /// The URL as it may be logged: the password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact(self.url.expose())
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings").field("url", &self.redacted_url()).field("from", &self.from).finish()
    }
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`; anything else unchanged.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("smtp://bob:s3cr%40t@mail.example.com:25"), "smtp://bob:***@mail.example.com:25");
        assert_eq!(redact("smtps://bob:p@ss@host/helo?x=1"), "smtps://bob:***@host/helo?x=1");
        assert_eq!(redact("smtp://host:25"), "smtp://host:25");
        assert_eq!(redact("smtp://bob@host"), "smtp://bob@host");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn lettre_urls_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:pass@mail.example.com:25",
            "smtp://mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
            "smtps://mail.example.com:465",
        ] {
            let s = SmtpSettings::parse(url, "tokend <noreply@example.com>").unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(s.url(), url);
        }
    }

    #[test]
    fn bad_urls_and_senders_are_refused_without_showing_the_password() {
        for url in ["http://host", "smtp://", "smtp://host?tls=sometimes", "mail.example.com"] {
            let e = SmtpSettings::parse(url, "a@example.com").unwrap_err();
            assert_eq!(e.variable, "TOKEND_SMTP_URL", "{url}");
        }
        let e = SmtpSettings::parse("imap://bob:hunter2@host", "a@example.com").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = SmtpSettings::parse("smtp://host", "not a mailbox").unwrap_err();
        assert_eq!(e.variable, "TOKEND_SMTP_FROM");
    }

    #[test]
    fn url_and_sender_go_together() {
        assert_eq!(SmtpSettings::from_variables(None, None), Ok(None));
        let e = SmtpSettings::from_variables(Some("smtp://bob:hunter2@host".into()), None).unwrap_err();
        assert_eq!(e.variable, "TOKEND_SMTP_FROM");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = SmtpSettings::from_variables(None, Some("a@example.com".into())).unwrap_err();
        assert_eq!(e.variable, "TOKEND_SMTP_URL");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s = SmtpSettings::parse("smtp://bob:hunter2@host:25", "a@example.com").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
    }
}
