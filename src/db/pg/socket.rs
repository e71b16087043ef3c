//! The socket of one PostgreSQL connection, driven by the thread that uses it. A statement is
//! a few messages each way on one socket; with a shared I/O thread, each round trip also woke
//! that thread and then the caller (`perf` showed a `/me` on PostgreSQL spending most of its
//! time in context switches). So each connection has its own `mio` poller, and the thread
//! that runs a statement polls the statement, the connection and the socket itself, sleeping
//! in the poller until the server answers or the deadline passes. No thread of tokend's own
//! is involved, and a connection belongs to one thread at a time (the pool's checkout).

use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A non-blocking TCP stream as tokio-postgres reads and writes it: an operation that would
/// block is `Pending`, and the driver's poller says when to try again.
pub struct Stream(mio::net::TcpStream);

impl AsyncRead for Stream {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.0.read(buf.initialize_unfilled()) {
            Ok(n) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Poll::Pending,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                self.poll_read(&mut Context::from_waker(Waker::noop()), buf)
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Poll::Pending,
            other => Poll::Ready(other),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.0.shutdown(std::net::Shutdown::Write))
    }
}

type Connection = tokio_postgres::Connection<Stream, super::tls::TlsStream>;

/// The poller of one socket and, once the start-up exchange is done, its connection.
pub struct Driver {
    poll: mio::Poll,
    events: mio::Events,
    connection: Option<Pin<Box<Connection>>>,
    /// The server closed the connection (or it failed): nothing more will come.
    pub closed: bool,
}

/// Notes that a future asked to be polled again (a message moved between the client and
/// the connection), so the driver polls before it sleeps.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Driver {
    /// Connects to `addr` within `connect_within`, with the keepalives and TCP user timeout
    /// of `config` (`connect::copy_settings` fills them in where the conninfo is silent) so
    /// that a peer that vanished is noticed by the kernel too; the stream for tokio-postgres.
    pub fn connect(
        addr: std::net::SocketAddr,
        connect_within: Duration,
        config: &tokio_postgres::Config,
    ) -> std::io::Result<(Driver, Stream)> {
        let std_stream = std::net::TcpStream::connect_timeout(&addr, connect_within.max(Duration::from_millis(1)))?;
        std_stream.set_nodelay(true)?;
        let socket = socket2::SockRef::from(&std_stream);
        if config.get_keepalives() {
            let mut keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
            if let Some(interval) = config.get_keepalives_interval() {
                keepalive = keepalive.with_interval(interval);
            }
            if let Some(retries) = config.get_keepalives_retries() {
                keepalive = keepalive.with_retries(retries);
            }
            socket.set_tcp_keepalive(&keepalive)?;
        }
        #[cfg(target_os = "linux")]
        socket.set_tcp_user_timeout(config.get_tcp_user_timeout().copied())?;
        std_stream.set_nonblocking(true)?;
        let mut stream = mio::net::TcpStream::from_std(std_stream);
        let poll = mio::Poll::new()?;
        poll.registry().register(&mut stream, mio::Token(0), mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok((Driver { poll, events: mio::Events::with_capacity(4), connection: None, closed: false }, Stream(stream)))
    }

    /// The connection, once the start-up exchange has produced it.
    pub fn attach(&mut self, connection: Connection) {
        self.connection = Some(Box::pin(connection));
    }

    fn end(&mut self) {
        self.connection = None;
        self.closed = true;
    }

    /// Reads whatever the server sent while the connection sat idle in the pool (a FATAL
    /// before a shutdown, the end of the stream), without a round trip: a connection the
    /// server closed is then known closed before it is handed out.
    pub fn poll_idle(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        if let Some(connection) = self.connection.as_mut() {
            if connection.as_mut().poll(&mut cx).is_ready() {
                self.end();
            }
        }
    }

    /// Polls `work` (and the connection, which carries its messages) on this thread until
    /// `work` is done, or `None` once `limit` has passed.
    pub fn run<F: Future>(&mut self, limit: Duration, work: F) -> Option<F::Output> {
        let deadline = Instant::now() + limit;
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut work = std::pin::pin!(work);
        loop {
            flag.0.store(false, Ordering::SeqCst);
            if let Poll::Ready(done) = work.as_mut().poll(&mut cx) {
                return Some(done);
            }
            if let Some(connection) = self.connection.as_mut() {
                // Ready means the connection ended (closed by the server, or failed). Dropping
                // it drops the senders of every waiting answer, so the statement fails at its
                // next poll instead of waiting for the deadline.
                if connection.as_mut().poll(&mut cx).is_ready() {
                    self.end();
                    continue;
                }
            }
            if flag.0.load(Ordering::SeqCst) {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            // Edge-triggered: a read or write that would block is what arms the next event,
            // and every Pending above came from one.
            match self.poll.poll(&mut self.events, Some(deadline - now)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }
}
