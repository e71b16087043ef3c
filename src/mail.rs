//! Outgoing mail over SMTP (lettre, rustls): one `Mailer` per process, configured by
//! `TOKEND_SMTP_URL` and `TOKEND_SMTP_FROM`. Every delivery is bounded by `SEND_TIMEOUT`,
//! so an unreachable or stalling server gives an error and a log line, never a hang.

use crate::config::SmtpSettings;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// The longest one delivery may take, connection and TLS handshake included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The transport for `url` as lettre parses it, with `SEND_TIMEOUT` on every SMTP step.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(SEND_TIMEOUT)).build())
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("e-mail is not configured (TOKEND_SMTP_URL is unset)")]
    NotConfigured,
    #[error("the recipient address is not usable: {0}")]
    BadRecipient(String),
    #[error("the SMTP server {server} did not take the message: {cause}")]
    Failed { server: String, cause: String },
    #[error("the SMTP server {server} did not finish within {} s", SEND_TIMEOUT.as_secs())]
    TimedOut { server: String },
}

struct Configured {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for log lines and errors.
    server: String,
}

/// Sends mail, or knows that it cannot (no SMTP configured). Cheap to clone.
#[derive(Clone, Default)]
pub struct Mailer {
    configured: Option<Arc<Configured>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.configured {
            Some(c) => write!(f, "Mailer({})", c.server),
            None => f.write_str("Mailer(off)"),
        }
    }
}

impl Mailer {
    /// A mailer for validated settings; `None` gives one that refuses every message.
    pub fn new(settings: Option<&SmtpSettings>) -> Mailer {
        let configured = settings.map(|s| {
            Arc::new(Configured {
                transport: transport(s.url()).expect("TOKEND_SMTP_URL was validated at startup"),
                from: s.from().parse().expect("TOKEND_SMTP_FROM was validated at startup"),
                server: s.redacted_url(),
            })
        });
        Mailer { configured }
    }

    pub fn is_configured(&self) -> bool {
        self.configured.is_some()
    }

    /// Sends a plain-text message to `to`. Failures are logged here (without the address).
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let Some(c) = &self.configured else {
            return Err(MailError::NotConfigured);
        };
        let result = Self::deliver(c, to, subject, body).await;
        if let Err(e) = &result {
            log::warn!("mail: e-mail delivery failed: {e}");
        }
        result
    }

    async fn deliver(c: &Configured, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|e| MailError::BadRecipient(format!("{e}")))?;
        let message = Message::builder()
            .from(c.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::BadRecipient(e.to_string()))?;
        match tokio::time::timeout(SEND_TIMEOUT, c.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(MailError::TimedOut { server: c.server.clone() }),
            Ok(Err(e)) => Err(MailError::Failed { server: c.server.clone(), cause: describe(&e) }),
            Err(_) => Err(MailError::TimedOut { server: c.server.clone() }),
        }
    }
}

/// lettre's error with its causes ("Connection error: Connection refused (os error 111)").
fn describe(e: &SmtpError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
