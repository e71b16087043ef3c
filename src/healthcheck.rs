//! `tokend healthcheck`: asks the server at the configured address for `/api/info` over
//! plain HTTP/1.0. Packaging waits on its exit status, so it must never hang.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);

/// Ok when the server answers `/api/info` with 200; otherwise why not.
pub fn check(bind: SocketAddr) -> Result<(), String> {
    let target = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bind.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bind.port()),
        _ => bind,
    };
    let mut stream =
        TcpStream::connect_timeout(&target, TIMEOUT).map_err(|e| format!("cannot connect to {target}: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    write!(stream, "GET /api/info HTTP/1.0\r\nHost: {target}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).map_err(|e| format!("no answer from {target}: {e}"))?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    if status_line.starts_with("HTTP/1.0 200") || status_line.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("{target} answered: {}", status_line.lines().next().unwrap_or("")))
    }
}
