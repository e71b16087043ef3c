//! A tiny SMTP server on loopback for the e-mail 2FA tests: it speaks just enough SMTP for
//! lettre (220/250/354/221), keeps every message it receives, and lets a test read the
//! six-digit code out of one. Variants that refuse or never answer test delivery failures.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How a sink treats its clients.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    /// Greets with `554` and hangs up: a server that refuses to serve.
    Refuse,
    /// Accepts the connection and never says a word.
    Silent,
}

/// A message as received: the envelope recipients and the raw DATA (headers and body).
#[derive(Clone, Debug)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// A sink that accepts every message.
    pub async fn start() -> SmtpSink {
        SmtpSink::spawn(Mode::Accept).await
    }

    /// A server that answers every connection with `554` and closes it.
    pub async fn refusing() -> SmtpSink {
        SmtpSink::spawn(Mode::Refuse).await
    }

    /// A server that accepts connections and never answers.
    pub async fn silent() -> SmtpSink {
        SmtpSink::spawn(Mode::Silent).await
    }

    async fn spawn(mode: Mode) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, mode, store).await;
                });
            }
        });
        SmtpSink { port, messages }
    }

    /// The URL to configure tokend with (`TOKEND_SMTP_URL`).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// Waits (at most 15 s) until `n` messages have arrived: `users.2fa.sendEmailCode` mails
    /// its code after answering, so the message may still be on its way.
    pub async fn wait_for(&self, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while self.count() < n {
            assert!(std::time::Instant::now() < deadline, "{} message(s) arrived, not {n}", self.count());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The newest message; panics if none arrived.
    pub fn last(&self) -> Received {
        self.messages().pop().expect("no message reached the SMTP sink")
    }

    /// The code in the newest message.
    pub fn last_code(&self) -> String {
        code_in(&self.last().data)
    }
}

/// A port nothing listens on: connections to it are refused.
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("smtp://127.0.0.1:{port}")
}

/// The six digits of the `123-456` code in a message body.
pub fn code_in(data: &str) -> String {
    let bytes = data.as_bytes();
    for i in 0..bytes.len().saturating_sub(6) {
        let w = &bytes[i..i + 7];
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let bounded =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 7).is_none_or(|b| !b.is_ascii_digit());
        if digits(&w[..3]) && w[3] == b'-' && digits(&w[4..]) && bounded {
            return format!("{}{}", &data[i..i + 3], &data[i + 4..i + 7]);
        }
    }
    panic!("no 123-456 code in the message:\n{data}");
}

async fn serve(stream: TcpStream, mode: Mode, store: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    match mode {
        Mode::Silent => {
            // Hold the connection open without a word until the client gives up.
            let mut lines = BufReader::new(read).lines();
            while lines.next_line().await?.is_some() {}
            return Ok(());
        }
        Mode::Refuse => {
            write.write_all(b"554 5.3.2 sink refuses service\r\n").await?;
            return write.shutdown().await;
        }
        Mode::Accept => write.write_all(b"220 sink ESMTP ready\r\n").await?,
    }
    let mut lines = BufReader::new(read).lines();
    let mut rcpt_to = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink greets you\r\n250 8BITMIME\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "MAIL" => b"250 OK\r\n",
            "RCPT" => {
                rcpt_to.push(line[4..].trim().trim_start_matches(|c| c != '<').to_string());
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                while let Some(l) = lines.next_line().await? {
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                    data.push('\n');
                }
                store.lock().unwrap().push(Received { rcpt_to: std::mem::take(&mut rcpt_to), data });
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return write.shutdown().await;
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
