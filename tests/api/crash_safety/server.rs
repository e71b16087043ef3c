//! A tokend process that the crash test can SIGKILL and start again on the same data
//! directory — which `helpers::ServerProcess` (a fresh directory each time) cannot do.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary under test: `CRASH_TOKEND_BIN` (CI points it at the release build), else the
/// one Cargo built for this test crate.
pub fn binary() -> PathBuf {
    std::env::var_os("CRASH_TOKEND_BIN").map(PathBuf::from).unwrap_or_else(|| crate::helpers::TOKEND_BIN.into())
}

pub struct CrashServer {
    child: Child,
    pub base: String,
    log_path: PathBuf,
}

impl CrashServer {
    /// Starts the binary on `data_dir` with `env` added, on a fresh port (a killed server's
    /// port may linger), appending its output to `log_path`; waits until `/api/info` answers.
    pub async fn start(data_dir: &Path, log_path: &Path, env: &[(&str, &str)]) -> CrashServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = OpenOptions::new().create(true).append(true).open(log_path).expect("open server log");
        let mut cmd = Command::new(binary());
        crate::helpers::without_inherited_settings(&mut cmd);
        cmd.env("TOKEND_DATA_DIR", data_dir)
            .env("TOKEND_BIND", format!("127.0.0.1:{port}"))
            .env("TOKEND_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied());
        let child = cmd.stdout(log.try_clone().unwrap()).stderr(log).spawn().expect("spawn tokend");
        let mut server = CrashServer { child, base: format!("http://127.0.0.1:{port}"), log_path: log_path.into() };
        server.wait_until_serving().await;
        server
    }

    async fn wait_until_serving(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(resp) = client.get(format!("{}/api/info", self.base)).send().await {
                if resp.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("tokend exited with {status} on start:\n{}", self.log_tail());
            }
            assert!(Instant::now() < deadline, "tokend not serving after 30 s:\n{}", self.log_tail());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown hook, no final checkpoint — the crash under test.
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL tokend");
        self.child.wait().expect("reap tokend");
    }

    /// SIGTERM: the server stops accepting, finishes what is in flight, and must exit 0
    /// within its 30 s shutdown timeout (plus slack).
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("run kill").success());
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "tokend exited with {status} after SIGTERM:\n{}", self.log_tail());
                return;
            }
            assert!(Instant::now() < deadline, "tokend still running 40 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The last lines the server wrote, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for CrashServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
