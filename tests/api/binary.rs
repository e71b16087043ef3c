//! The real `tokend` binary: first start, healthcheck, graceful SIGTERM, restart, and the
//! ways startup must fail cleanly (bad configuration, corrupt database).

use reqwest::StatusCode;
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tokend");

/// A running tokend whose stderr is collected; killed on drop so a failing test never
/// leaves a server behind.
struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn tokend");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Server { child, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits up to `limit` for the process to exit.
    fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader thread drain what the process wrote last.
                std::thread::sleep(Duration::from_millis(50));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    fn terminate(&mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `tokend <args>` with a clean tokend environment: data in `dir`, listening on `port`.
fn tokend(dir: &Path, port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TOKEND_")
            || name.starts_with("CREATE_TOKENS_FOR_USERS")
            || name == "MAX_RESUME_LOGIN_TOKENS"
        {
            cmd.env_remove(name);
        }
    }
    cmd.args(args)
        .env("TOKEND_DATA_DIR", dir)
        .env("TOKEND_BIND", format!("127.0.0.1:{port}"))
        .env("TOKEND_WORKERS", "2")
        .env("RUST_LOG", "info");
    cmd
}

fn healthcheck(dir: &Path, port: u16) -> bool {
    tokend(dir, port, &["healthcheck"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run healthcheck")
        .success()
}

/// Polls `tokend healthcheck` until it passes; panics (with the server's stderr) after 20 s.
fn wait_until_healthy(server: &mut Server, dir: &Path, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !healthcheck(dir, port) {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("tokend exited with {status}: {}", server.stderr());
        }
        assert!(Instant::now() < deadline, "never healthy: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn login(port: u16, password: &str) -> (StatusCode, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/login"))
        .json(&json!({"user": "admin", "password": password}))
        .send()
        .await
        .expect("login request");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

/// Runs a command that must fail within `limit`; returns its exit status and stderr.
fn run_to_failure(cmd: Command, limit: Duration) -> (ExitStatus, String) {
    let mut server = Server::spawn(cmd);
    let status =
        server.wait_for_exit(limit).unwrap_or_else(|| panic!("still running after {limit:?}: {}", server.stderr()));
    assert!(!status.success(), "exited 0: {}", server.stderr());
    (status, server.stderr())
}

#[tokio::test]
async fn first_start_prints_a_password_once_and_sigterm_and_restart_keep_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server::spawn(tokend(dir.path(), port, &[]));
    wait_until_healthy(&mut server, dir.path(), port);

    let stderr = server.stderr();
    let announced: Vec<&str> = stderr.lines().filter(|l| l.contains("generated password")).collect();
    assert_eq!(announced.len(), 1, "{stderr}");
    let password = announced[0].split_whitespace().last().unwrap().to_string();
    assert!(password.len() >= 16, "{password}");
    let mentions = stderr.lines().filter(|l| l.contains(&password)).count();
    assert_eq!(mentions, 1, "the password appears on exactly one line");

    let (status, body) = login(port, &password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin_id = body["data"]["userId"].clone();
    let token = body["data"]["authToken"].as_str().unwrap().to_string();
    assert!(!server.stderr().contains(&token), "a token was logged");

    server.terminate();
    let status = server.wait_for_exit(Duration::from_secs(10)).expect("tokend did not stop within 10 s of SIGTERM");
    assert!(status.success(), "{status}: {}", server.stderr());
    assert!(!server.stderr().contains("panicked"));
    drop(server);

    let mut again = Server::spawn(tokend(dir.path(), port, &[]));
    wait_until_healthy(&mut again, dir.path(), port);
    let (status, body) = login(port, &password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["userId"], admin_id);
    let stderr = again.stderr();
    assert!(!stderr.contains("generated password"), "{stderr}");
    assert!(!stderr.contains(&password), "{stderr}");
    again.terminate();
    let status = again.wait_for_exit(Duration::from_secs(10)).expect("stops");
    assert!(status.success());
}

#[test]
fn a_bcrypt_cost_below_ten_stops_startup_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokend(dir.path(), free_port(), &[]);
    cmd.env("TOKEND_BCRYPT_COST", "5");
    let started = Instant::now();
    let (_, stderr) = run_to_failure(cmd, Duration::from_secs(10));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert!(stderr.contains("TOKEND_BCRYPT_COST"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn healthcheck_fails_when_nobody_listens() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let started = Instant::now();
    assert!(!healthcheck(dir.path(), port));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn help_lists_every_variable_with_its_flag() {
    let output = Command::new(BIN).arg("--help").output().expect("run --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for setting in tokend::config::SETTINGS {
        assert!(help.contains(setting.variable), "--help does not mention {}:\n{help}", setting.variable);
        assert!(help.contains(&format!("--{} ", setting.flag)), "--help does not mention --{}:\n{help}", setting.flag);
    }
}

#[test]
fn a_corrupt_database_stops_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(dir.path().join("tokend.sqlite3"), garbage).unwrap();
    let cmd = tokend(dir.path(), free_port(), &[]);
    let (_, stderr) = run_to_failure(cmd, Duration::from_secs(30));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("tokend.sqlite3"), "{stderr}");
    assert!(stderr.contains("not a usable SQLite database"), "no clear message: {stderr}");
}
