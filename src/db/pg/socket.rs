//! The socket of one PostgreSQL connection, driven by the thread that uses it. A statement is
//! a few messages each way on one socket; waking another thread to write them, then being
//! woken when it has read the answer, cost more than the exchange itself (measured: most of a
//! `/me`'s time went to context switches). So each connection has its own `mio` poller, and the
//! thread that runs a statement polls the statement, the connection and the socket itself,
//! sleeping in the poller until the server answers or the deadline passes.

use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::NoTlsStream;

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

type Connection = tokio_postgres::Connection<Stream, NoTlsStream>;

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
    /// Connects to `addr` within `timeout`, with keepalives and a TCP user timeout so that a
    /// peer that vanished is noticed by the kernel too; the stream to hand to tokio-postgres.
    pub fn connect(addr: std::net::SocketAddr, timeout: Duration) -> std::io::Result<(Driver, Stream)> {
        let std_stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        std_stream.set_nodelay(true)?;
        let socket = socket2::SockRef::from(&std_stream);
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(5))
            .with_interval(Duration::from_secs(2))
            .with_retries(3);
        socket.set_tcp_keepalive(&keepalive)?;
        #[cfg(target_os = "linux")]
        socket.set_tcp_user_timeout(Some(timeout))?;
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

    /// Whether the server has ended the connection, found without waiting or sending: what
    /// the socket holds (the server's farewell, or its end) is read. Asked before a pooled
    /// connection is handed out: the socket is polled only while a statement runs, so a
    /// server that closed an idle connection (a restart, a failover, an administrator)
    /// would otherwise cost the next statement on it the whole timeout.
    pub fn ended(&mut self) -> bool {
        if let Some(connection) = self.connection.as_mut().filter(|_| !self.closed) {
            if connection.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready() {
                self.closed = true;
                self.connection = None;
            }
        }
        self.closed
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
            if let Some(connection) = self.connection.as_mut().filter(|_| !self.closed) {
                // Ready means the connection ended (closed by the server, or failed): the
                // statement then fails at its next poll, with the connection's error.
                if connection.as_mut().poll(&mut cx).is_ready() {
                    self.closed = true;
                    // Dropped, so that a statement waiting for its answer fails now instead
                    // of at the deadline: the answer's sender goes with the connection.
                    self.connection = None;
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
