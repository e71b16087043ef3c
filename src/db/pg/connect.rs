//! Connecting to PostgreSQL: each host of a libpq-style multi-host conninfo is tried in turn,
//! every step under tokend's own timeout — the TCP connect, and the start-up exchange too: a
//! host that accepts the connection and then never answers (a frozen machine: its kernel still
//! completes the handshake) would otherwise hang that host's attempt, and with it every host
//! after it in the list. The socket is driven by the thread that uses it (`socket.rs`).

use super::conn::PgConn;
use super::conninfo::{self, SslMode};
use super::socket::Driver;
use super::tls::PgTls;
use crate::error::{Error, Result};
use rustls::pki_types::ServerName;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::config::{Config, Host};

/// The conninfo split into one configuration per host, in the order given.
#[derive(Clone)]
pub struct Target {
    hosts: Vec<Config>,
    /// TLS per `sslmode` (`tls.rs`); `None` with `sslmode=disable`.
    tls: Option<Arc<rustls::ClientConfig>>,
    /// For connecting and for each statement: beyond it a server is taken for gone.
    pub timeout: Duration,
    /// What log lines and errors show: hosts, ports and database, never a password.
    pub shown: String,
}

impl Target {
    /// Parses `TOKEND_DATABASE_URL` (key=value conninfo or a `postgresql://` URL).
    pub fn parse(url: &str, timeout: Duration) -> std::result::Result<Target, String> {
        let (rest, tls_settings) = conninfo::split(url)?;
        let tls = super::tls::client_config(&tls_settings)?;
        // Not the parser's own words: they may quote a piece of a mis-quoted password.
        let mut whole: Config = rest.parse().map_err(|_| {
            "it does not parse as a conninfo (`host=… dbname=…`, values with spaces in single quotes) or a postgresql:// URL".to_string()
        })?;
        // Every `sslmode` was taken out above; one tokio-postgres still found was hidden from
        // `conninfo::split` and would be overwritten below: refuse rather than downgrade.
        if whole.get_ssl_mode() != tokio_postgres::config::SslMode::Prefer {
            return Err(
                "`sslmode` stands where it cannot be read reliably (percent-encode the user name and password)".into(),
            );
        }
        if !whole.get_hostaddrs().is_empty() {
            return Err("`hostaddr` is not supported; give the addresses as `host`".into());
        }
        whole.ssl_mode(match tls_settings.mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        let hosts = whole.get_hosts();
        if hosts.is_empty() {
            return Err("no `host` given".into());
        }
        let ports = whole.get_ports();
        if ports.len() > 1 && ports.len() != hosts.len() {
            return Err(format!("{} hosts but {} ports", hosts.len(), ports.len()));
        }
        let port_of = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let mut shown = Vec::new();
        let configs = hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let mut one = copy_settings(&whole, timeout);
                match host {
                    Host::Tcp(name) => {
                        one.host(name);
                        shown.push(format!("{name}:{}", port_of(i)));
                    }
                    #[cfg(unix)]
                    Host::Unix(path) => {
                        return Err(format!(
                            "Unix-socket hosts ({}) are not supported; give the server's address, e.g. host=127.0.0.1",
                            path.display()
                        ));
                    }
                }
                one.port(port_of(i));
                Ok(one)
            })
            .collect::<std::result::Result<Vec<Config>, String>>()?;
        let mut shown = format!("postgresql {} database {}", shown.join(","), whole.get_dbname().unwrap_or("(user's)"));
        match tls_settings.mode {
            SslMode::Prefer if tls_settings.roots.is_none() => {}
            SslMode::Prefer => shown.push_str(" over TLS when offered (certificate chain checked)"),
            SslMode::Disable => shown.push_str(" without TLS"),
            SslMode::Require => shown.push_str(" over TLS (certificate not checked)"),
            SslMode::VerifyCa => shown.push_str(" over TLS (certificate chain checked)"),
            SslMode::VerifyFull => shown.push_str(" over TLS (certificate and host name checked)"),
        }
        Ok(Target { hosts: configs, tls, timeout, shown })
    }

    /// How long making one connection may take: each host in turn may use the whole timeout
    /// (a frozen first host does), and the pool's checkout must wait that long, or a node
    /// whose first host hangs could never get a connection to the next (a second's slack:
    /// the checkout starts its clock before the connection attempt does).
    pub fn connect_budget(&self) -> Duration {
        self.timeout * self.hosts.len().max(1) as u32 + Duration::from_secs(1)
    }

    /// A connection to the first host that answers within the timeout and, with
    /// `target_session_attrs=read-write`, accepts writes.
    pub fn connect(&self) -> Result<PgConn> {
        let mut causes = Vec::new();
        for config in &self.hosts {
            match self.connect_to(config) {
                Ok(conn) => return Ok(conn),
                Err(cause) => causes.push(format!("{}: {cause}", describe(config))),
            }
        }
        Err(Error::Unavailable(format!("cannot reach a usable PostgreSQL server ({})", causes.join("; "))))
    }

    /// One host: its addresses in turn, the start-up exchange, then the read-write check.
    fn connect_to(&self, config: &Config) -> std::result::Result<PgConn, String> {
        let deadline = Instant::now() + self.timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        let (Some(Host::Tcp(host)), Some(port)) = (config.get_hosts().first(), config.get_ports().first()) else {
            return Err("no host".into());
        };
        let addrs = (host.as_str(), *port).to_socket_addrs().map_err(|e| e.to_string())?;
        let mut last = String::from("no address");
        for addr in addrs {
            let connect_within = config.get_connect_timeout().copied().unwrap_or(self.timeout).min(left());
            let (mut driver, stream) = match Driver::connect(addr, connect_within, config) {
                Ok(connected) => connected,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let tls = PgTls {
                config: self.tls.clone(),
                name: self
                    .tls
                    .as_ref()
                    .map(|_| ServerName::try_from(host.clone()))
                    .transpose()
                    .map_err(|_| format!("{host} is not a host name or address a TLS certificate can name"))?,
            };
            let (client, connection) = match driver.run(left(), config.connect_raw(stream, tls)) {
                Some(Ok(pair)) => pair,
                Some(Err(e)) => return Err(super::conn::explain(&e)),
                None => return Err(format!("no answer within {:?}", self.timeout)),
            };
            driver.attach(connection);
            // tokend always writes: a server that does not accept writes (a standby) is
            // skipped whatever `target_session_attrs` says.
            {
                let answer = driver.run(left(), client.simple_query("SHOW transaction_read_only"));
                let read_only = match answer {
                    Some(Ok(messages)) => messages.iter().any(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("on"),
                        _ => false,
                    }),
                    Some(Err(e)) => return Err(super::conn::explain(&e)),
                    None => return Err(format!("no answer within {:?}", self.timeout)),
                };
                if read_only {
                    return Err("the server does not accept writes (a standby)".into());
                }
            }
            return PgConn::ready(client, driver, self.timeout).map_err(|e| e.to_string());
        }
        Err(last)
    }
}

/// Shows what `shown` shows: never the password in the conninfo.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("shown", &self.shown).field("timeout", &self.timeout).finish()
    }
}

fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    format!("{host}:{}", config.get_ports().first().copied().unwrap_or(5432))
}

/// Every setting of `whole` but its hosts and ports, with tokend's defaults where the
/// conninfo is silent: a connect timeout, TCP keepalives and a user timeout, so that a
/// server that vanished from the network is noticed in seconds, not minutes.
fn copy_settings(whole: &Config, timeout: Duration) -> Config {
    let mut one = Config::new();
    if let Some(user) = whole.get_user() {
        one.user(user);
    }
    if let Some(password) = whole.get_password() {
        one.password(password);
    }
    if let Some(dbname) = whole.get_dbname() {
        one.dbname(dbname);
    }
    if let Some(options) = whole.get_options() {
        one.options(options);
    }
    one.application_name(whole.get_application_name().unwrap_or("tokend"));
    one.ssl_mode(whole.get_ssl_mode());
    one.channel_binding(whole.get_channel_binding());
    one.target_session_attrs(whole.get_target_session_attrs());
    one.connect_timeout(whole.get_connect_timeout().copied().unwrap_or(timeout));
    one.tcp_user_timeout(whole.get_tcp_user_timeout().copied().unwrap_or(timeout));
    one.keepalives(true);
    one.keepalives_idle(Duration::from_secs(5).min(whole.get_keepalives_idle()));
    one.keepalives_interval(whole.get_keepalives_interval().unwrap_or(Duration::from_secs(2)));
    one.keepalives_retries(whole.get_keepalives_retries().unwrap_or(3));
    one
}

/// The r2d2 side: connections are made by `Target::connect`, and one whose socket closed
/// or whose statement failed at the transport level is dropped, not reused.
pub struct Manager(pub Target);

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = Error;

    fn connect(&self) -> Result<PgConn> {
        self.0.connect()
    }

    /// Local only (no round trip on every checkout): a connection whose server closed it,
    /// say a primary that was killed, is not handed out again.
    fn is_valid(&self, conn: &mut PgConn) -> Result<()> {
        if conn.is_usable() { Ok(()) } else { Err(Error::Unavailable("the PostgreSQL connection is closed".into())) }
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_host_conninfo_becomes_one_config_per_host_in_order() {
        let t = Target::parse(
            "host=pg1,pg2 port=5433,5434 user=tokend password=s3cret dbname=auth target_session_attrs=read-write",
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(t.hosts.len(), 2);
        assert_eq!(t.hosts[1].get_ports(), &[5434]);
        assert_eq!(t.hosts[0].get_password(), Some(&b"s3cret"[..]));
        assert_eq!(t.hosts[0].get_connect_timeout(), Some(&Duration::from_secs(5)));
        assert!(!t.shown.contains("s3cret"), "{}", t.shown);
        assert_eq!(t.shown, "postgresql pg1:5433,pg2:5434 database auth");
    }

    #[test]
    fn one_port_serves_every_host_and_urls_parse_too() {
        let t = Target::parse("postgresql://u@a:6000,b:6000/db", Duration::from_secs(1)).unwrap();
        assert_eq!(t.shown, "postgresql a:6000,b:6000 database db");
    }

    #[test]
    fn the_tls_mode_is_shown_and_reaches_tokio_postgres() {
        let timeout = Duration::from_secs(1);
        let t = Target::parse("host=a sslmode=require", timeout).unwrap();
        assert_eq!(t.hosts[0].get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        assert!(t.shown.ends_with("over TLS (certificate not checked)"), "{}", t.shown);
        let t = Target::parse("host=a sslmode=verify-full sslrootcert=system", timeout).unwrap();
        assert_eq!(t.hosts[0].get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        let t = Target::parse("host=a sslmode=disable", timeout).unwrap();
        assert!(t.tls.is_none());
        assert_eq!(t.hosts[0].get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        assert!(Target::parse("host=a", timeout).unwrap().tls.is_some(), "prefer: TLS when offered");
    }

    #[test]
    fn what_tokend_cannot_honour_is_refused_with_the_reason() {
        let timeout = Duration::from_secs(1);
        assert!(Target::parse("host=a,b port=1,2,3", timeout).unwrap_err().contains("3 ports"));
        assert!(
            Target::parse("host=a sslmode=verify-full sslrootcert=/nonexistent/ca.pem", timeout)
                .unwrap_err()
                .contains("/nonexistent/ca.pem")
        );
        assert!(Target::parse("nonsense", timeout).is_err());
    }

    #[test]
    fn require_in_a_url_with_a_question_mark_in_the_password_stays_require() {
        let t = Target::parse("postgresql://u:p?ss@h/db?sslmode=require", Duration::from_secs(1)).unwrap();
        assert_eq!(t.hosts[0].get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        assert!(t.shown.ends_with("over TLS (certificate not checked)"), "{}", t.shown);
    }
}
