//! Bounds on what a single request may be: its URL, its header lines, and the time its body
//! takes to arrive. Each refusal is a 4xx in the dialect of the path asked for. (Body size is
//! bounded by `PayloadConfig` in startup; the time to send the headers by actix's
//! `client_request_timeout`.)

use crate::api::rocketchat::error::RcError;
use crate::api::saymon::error::SaymonError;
use crate::api::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use std::future::Future;
use std::time::Duration;

/// The longest path plus query string accepted (nginx's default request-line buffer).
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// The longest single header line (name and value) accepted.
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;
/// All header lines together.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The middleware: refuses an over-long URL (414) or header set (431) before any routing,
/// authentication or database work happens.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let url_bytes = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let mut total = 0;
    let mut longest_line = 0;
    for (name, value) in req.headers() {
        let line = name.as_str().len() + value.len();
        total += line;
        longest_line = longest_line.max(line);
    }
    let refusal = if url_bytes > MAX_URL_BYTES {
        Some((StatusCode::URI_TOO_LONG, "The request URL is too long"))
    } else if longest_line > MAX_HEADER_LINE_BYTES || total > MAX_HEADER_BYTES {
        Some((StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "The request headers are too large"))
    } else {
        None
    };
    match refusal {
        Some((status, message)) => {
            let response = refuse(req.path(), status, message.into());
            Ok(req.into_response(response))
        }
        None => next.call(req).await.map(ServiceResponse::map_into_boxed_body),
    }
}

/// A request-limit (or rate-limit) refusal in the envelope of the dialect `path` belongs to.
pub fn refuse(path: &str, status: StatusCode, message: String) -> HttpResponse {
    if crate::api::is_saymon_path(path) {
        SaymonError::RequestLimit(status, message).error_response()
    } else {
        RcError::Status(status, message).error_response()
    }
}

/// What a client hears when its body did not arrive in time.
pub const BODY_TIMED_OUT: &str = "The request body did not arrive in time";

/// Why a request body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyReadError {
    TooLarge,
    /// The client stopped sending before the declared body arrived.
    TimedOut,
    Unreadable,
}

/// Reads the whole body, giving up after the configured request timeout so a client that
/// announces a body and then falls silent cannot hold a worker forever (slowloris).
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<Bytes, BodyReadError>> + use<> {
    let deadline =
        req.app_data::<web::Data<AppState>>().map_or(Duration::from_secs(10), |s| s.config.limits.request_timeout);
    let bytes = Bytes::from_request(req, payload);
    async move {
        match tokio::time::timeout(deadline, bytes).await {
            Err(_) => Err(BodyReadError::TimedOut),
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(BodyReadError::TooLarge)
            }
            Ok(Err(_)) => Err(BodyReadError::Unreadable),
        }
    }
}
