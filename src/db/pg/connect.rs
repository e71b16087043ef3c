//! Connecting to PostgreSQL: one small runtime drives every connection's socket, and each
//! host of a libpq-style multi-host conninfo is tried in turn under a timeout of tokend's own.
//! tokio-postgres bounds only the TCP connect of a host; a host that accepts the connection
//! and then never answers (a frozen machine: its kernel still completes the handshake) would
//! hang the start-up exchange for ever, and with it every host after it in the list.

use super::conn::PgConn;
use crate::error::{Error, Result};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use tokio_postgres::config::{Config, Host};

/// The runtime whose one thread drives every PostgreSQL connection's socket. The store's
/// threads hand it requests through the client and wait for the answers (`wait`).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pg-io")
            .enable_all()
            .build()
            .expect("the PostgreSQL I/O runtime starts")
    })
}

/// Polls `work` on this thread until it is done or `limit` has passed (`None`). A client's
/// request only exchanges messages with its connection's task on the I/O runtime, so it
/// needs no runtime here; and not entering one lets any thread wait, including a runtime's
/// own during start-up.
pub(super) fn wait<F: Future>(limit: Duration, work: F) -> Option<F::Output> {
    let deadline = Instant::now() + limit;
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut work = std::pin::pin!(work);
    loop {
        if let Poll::Ready(done) = work.as_mut().poll(&mut cx) {
            return Some(done);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        // Woken by the answer; an early wake only polls again.
        std::thread::park_timeout(deadline - now);
    }
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// The conninfo split into one configuration per host, in the order given.
#[derive(Clone)]
pub struct Target {
    hosts: Vec<Config>,
    /// For connecting and for each statement: beyond it a server is taken for gone.
    pub timeout: Duration,
    /// What log lines and errors show: hosts, ports and database, never a password.
    pub shown: String,
}

impl Target {
    /// Parses `TOKEND_DATABASE_URL` (key=value conninfo or a `postgresql://` URL).
    pub fn parse(url: &str, timeout: Duration) -> std::result::Result<Target, String> {
        let whole: Config = url.parse().map_err(|e| format!("{e}"))?;
        if !whole.get_hostaddrs().is_empty() {
            return Err("`hostaddr` is not supported; give the addresses as `host`".into());
        }
        if whole.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            return Err("`sslmode=require` is not supported: tokend connects without TLS (use a local network, a Unix socket or a TLS tunnel)".into());
        }
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
                        one.host_path(path);
                        shown.push(format!("{}:{}", path.display(), port_of(i)));
                    }
                }
                one.port(port_of(i));
                one
            })
            .collect();
        let shown = format!("postgresql {} database {}", shown.join(","), whole.get_dbname().unwrap_or("(user's)"));
        Ok(Target { hosts: configs, timeout, shown })
    }

    /// A connection to the first host that answers within the timeout and, with
    /// `target_session_attrs=read-write`, accepts writes.
    pub fn connect(&self) -> Result<PgConn> {
        let mut causes = Vec::new();
        for config in &self.hosts {
            // The socket lives on the I/O runtime, so the attempt runs there too.
            let one = config.clone();
            let attempt = runtime().spawn(async move {
                let (client, connection) = one.connect(tokio_postgres::NoTls).await?;
                // Ends when the server or tokend closes the connection; the client then
                // reports itself closed and the pool drops it.
                tokio::spawn(connection);
                Ok::<_, tokio_postgres::Error>(client)
            });
            let abort = attempt.abort_handle();
            match wait(self.timeout, attempt) {
                Some(Ok(Ok(client))) => return PgConn::ready(client, self.timeout),
                Some(Ok(Err(e))) => causes.push(format!("{}: {e}", describe(config))),
                Some(Err(e)) => causes.push(format!("{}: {e}", describe(config))),
                None => {
                    abort.abort();
                    causes.push(format!("{}: no answer within {:?}", describe(config), self.timeout));
                }
            }
        }
        Err(Error::Unavailable(format!("cannot reach a usable PostgreSQL server ({})", causes.join("; "))))
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
        if conn.is_broken() { Err(Error::Unavailable("the PostgreSQL connection is closed".into())) } else { Ok(()) }
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
    fn what_tokend_cannot_honour_is_refused_with_the_reason() {
        let timeout = Duration::from_secs(1);
        assert!(Target::parse("host=a,b port=1,2,3", timeout).unwrap_err().contains("3 ports"));
        assert!(Target::parse("host=a sslmode=require", timeout).unwrap_err().contains("TLS"));
        assert!(Target::parse("nonsense", timeout).is_err());
    }
}
