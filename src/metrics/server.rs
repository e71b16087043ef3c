//! The metrics listener: `GET /metrics` in Prometheus's text format on `TOKEND_METRICS_BIND`,
//! a listener of its own so the API's address never exposes it. Nothing else is served there.

use super::METRICS;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::{SocketAddr, TcpListener};

/// The media type of the text exposition format (what `prometheus-client` writes).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn metrics() -> HttpResponse {
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(METRICS.encode())
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("Not found: metrics are at /metrics\n")
}

/// Binds `addr` and returns the server (not yet polled) and the port it listens on.
pub fn bind(addr: SocketAddr) -> std::io::Result<(Server, u16)> {
    let listener = TcpListener::bind(addr)?;
    let port = listener.local_addr()?.port();
    let server =
        HttpServer::new(|| App::new().route("/metrics", web::get().to(metrics)).default_service(web::to(not_found)))
            // Scrapes are rare and small: one thread is plenty and takes nothing from the API's.
            .workers(1)
            .disable_signals()
            .shutdown_timeout(5)
            .listen(listener)?
            .run();
    Ok((server, port))
}
