//! The outermost middleware: gives every request its id (`X-Request-Id`, echoed), makes it
//! the current request of the log context while the request is served, and when it is
//! answered records the metrics (if on) and, in JSON log format, the access line. Both
//! name the route by its *pattern* (`/node/api/users/{id}`), never the path asked for.

use crate::api::state::AppState;
use crate::config::LogFormat;
use crate::logging::{RequestContext, request_id};
use crate::metrics::{Dialect, METRICS};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
use std::future::Future;
use std::sync::LazyLock;
use std::time::Instant;

/// The pattern of the route a resource serves, attached to it as resource data by the
/// route tables (`route_table::scope`, `web::routes`).
#[derive(Clone, Copy, Debug)]
pub struct RoutePattern(pub &'static str);

/// The route label of a request that matched no route (404s of unknown paths).
pub const UNMATCHED: &str = "unmatched";

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let (metrics_on, json_log) = req.app_data::<web::Data<AppState>>().map_or((false, false), |s| {
        let o = &s.config.observability;
        (o.metrics_bind.is_some(), o.log_format == LogFormat::Json)
    });
    let context = RequestContext::new(request_id::accept_or_generate(req.headers()));
    // No clone of the request may be held meanwhile: routing needs it to itself.
    let mut inner = std::pin::pin!(next.call(req));
    let outcome = std::future::poll_fn(|cx| {
        let _current = context.enter();
        inner.as_mut().poll(cx)
    })
    .await;
    // An error here (none of tokend's layers returns one: they answer in their dialect)
    // is rendered by actix further out, without the id.
    let mut response = outcome?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(context.id()) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
    if metrics_on || json_log {
        let took = started.elapsed();
        let route = route_of(response.request());
        let dialect = Dialect::of_path(response.request().path());
        let method = method_label(response.request());
        let status = response.status().as_u16();
        if metrics_on {
            METRICS.request(dialect, route, method, status, took);
        }
        // The readiness route is polled many times a second; its failures are logged.
        if json_log && response.request().path() != crate::api::rocketchat::ready::PATH {
            let _current = context.enter();
            let latency_ms = took.as_secs_f64() * 1000.0;
            log::info!(
                target: "tokend::access",
                dialect = dialect.as_str(), route = route, method = method, status = status, latency_ms = latency_ms;
                "{method} {route} {status}"
            );
        }
    }
    Ok(response)
}

/// The matched route's pattern, or `unmatched`. A request refused before routing (a rate
/// limit, an over-long header) carries no pattern: it is looked up, at the price of a string,
/// among the patterns tokend serves (so the label is still one of them).
pub fn route_of(req: &HttpRequest) -> &'static str {
    if let Some(pattern) = req.app_data::<RoutePattern>() {
        return pattern.0;
    }
    static KNOWN: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        crate::api::endpoints().into_iter().map(|(path, _)| path).chain(crate::web::PATTERNS).collect()
    });
    req.match_pattern().and_then(|p| KNOWN.iter().find(|k| **k == p).copied()).unwrap_or(UNMATCHED)
}

/// The method as a label: the ones tokend serves by name, anything else `other` (a client
/// may send any token as a method).
fn method_label(req: &HttpRequest) -> &'static str {
    use actix_web::http::Method;
    match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
