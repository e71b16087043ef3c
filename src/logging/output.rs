//! Where log lines go: stderr, written by a thread of its own.
//!
//! At the default level every request has an access line. Written by the request thread
//! that made it, each line was a `write` to stderr under stderr's lock — a system call per
//! request, and request threads queueing for one lock. Here a request thread appends its
//! line to a buffer in memory; the writer, woken by the first line after a write, lets lines
//! gather for `GATHER` and writes them in one call. Under load that is a write every few
//! milliseconds instead of tens of thousands a second; an idle server is not woken at all.
//!
//! The buffer is bounded: when stderr stops draining (a stalled journal) a thread that logs
//! waits, as a blocking `write` did, rather than the buffer growing without end. `Output`'s
//! drop waits until every line logged before it is written, so a process that returns from
//! `main` loses none.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the writer lets lines gather after the first: the most a line waits for stderr.
const GATHER: Duration = Duration::from_millis(5);

/// Bytes buffered at most before a thread that logs waits for the writer.
const MAX_BUFFERED: usize = 1 << 20;

/// How long dropping `Output` waits for the buffer to be written (a stderr nobody reads).
const DRAIN_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The writer waits here for a first line, or for `draining` while lines gather.
    arrived: Condvar,
    /// Threads that log (over `MAX_BUFFERED`) and `Output`'s drop wait here for a write.
    written: Condvar,
}

#[derive(Default)]
struct State {
    lines: Vec<u8>,
    /// The writer holds a batch it has taken but not yet written.
    writing: bool,
    /// `Output` is being dropped: write without gathering.
    draining: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The logger's end, as env_logger's pipe target (one `write` per record).
pub struct Pipe(Arc<Shared>);

impl Write for Pipe {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut state = self.0.lock();
        while state.lines.len() >= MAX_BUFFERED {
            state = self.0.written.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let first = state.lines.is_empty();
        state.lines.extend_from_slice(line);
        drop(state);
        if first {
            self.0.arrived.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // the writer writes every line within `GATHER`
    }
}

/// Keeps the buffered lines from being lost at exit: dropping it writes them.
pub struct Output(Arc<Shared>);

impl Output {
    /// Starts the writer thread on `out`; the `Pipe` is for the logger.
    pub fn start(mut out: impl Write + Send + 'static) -> io::Result<(Output, Pipe)> {
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new().name("log-writer".into()).spawn(move || write_forever(&writer, &mut out))?;
        Ok((Output(shared.clone()), Pipe(shared)))
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.draining = true;
        self.0.arrived.notify_one();
        let deadline = Instant::now() + DRAIN_WAIT;
        while !state.lines.is_empty() || state.writing {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            state = self.0.written.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// The writer: waits for a first line, lets more gather, writes them together. A failed
/// write drops its batch (stderr closed): logging never stops the server.
fn write_forever(shared: &Shared, out: &mut dyn Write) {
    let mut batch = Vec::new();
    let mut state = shared.lock();
    loop {
        while state.lines.is_empty() {
            state = shared.arrived.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if !state.draining {
            state = shared.arrived.wait_timeout(state, GATHER).unwrap_or_else(|e| e.into_inner()).0;
        }
        std::mem::swap(&mut state.lines, &mut batch);
        state.writing = true;
        drop(state);
        shared.written.notify_all();
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        state = shared.lock();
        state.writing = false;
        shared.written.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_output_is_dropped() {
        let sink = Sink::default();
        let (output, mut pipe) = Output::start(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut pipe = Pipe(output.0.clone());
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        pipe.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        pipe.write_all(b"last\n").unwrap();
        drop(output);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 20_001);
        assert_eq!(text.lines().last(), Some("last"));
        for t in 0..4 {
            let mine: Vec<usize> =
                text.lines().filter_map(|l| l.strip_prefix(&format!("{t} "))).map(|i| i.parse().unwrap()).collect();
            assert_eq!(mine, (0..5_000).collect::<Vec<_>>(), "thread {t}'s lines, whole and in order");
        }
    }

    /// A stderr that takes nothing until `open` is sent.
    struct Stalled(std::sync::mpsc::Receiver<()>, Sink);

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let _ = self.0.recv();
            self.1.write(bytes)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_stderr_makes_loggers_wait_at_the_bound_instead_of_buffering_more() {
        let (open, opened) = std::sync::mpsc::channel();
        let sink = Sink::default();
        let (output, mut pipe) = Output::start(Stalled(opened, sink.clone())).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let logger = std::thread::spawn(move || {
            let line = [b'x'; 1024];
            // The writer holds one batch; the buffer takes MAX_BUFFERED more, then waits.
            for _ in 0..3 * MAX_BUFFERED / line.len() {
                pipe.write_all(&line).unwrap();
            }
            done.send(()).unwrap();
        });
        assert!(finished.recv_timeout(Duration::from_millis(300)).is_err(), "the logger went past the bound");
        assert!(output.0.lock().lines.len() <= MAX_BUFFERED + 1024);
        for _ in 0..1_000 {
            let _ = open.send(());
        }
        finished.recv().unwrap();
        logger.join().unwrap();
        drop(output);
        assert_eq!(sink.0.lock().unwrap().len(), 3 * MAX_BUFFERED);
    }
}
