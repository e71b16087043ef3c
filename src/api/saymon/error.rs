//! The SAYMON error envelope (spec/saymon.md §6): restify's `{"code", "message"}`, with the
//! documented 401 messages double-encoded byte for byte, and CSRF's bare body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};
use std::fmt;

#[derive(Debug)]
pub enum SaymonError {
    NotLoggedIn,
    SessionExpired,
    InvalidApiToken,
    InvalidCredentials,
    WrongCsrfToken,
    /// 403 `Forbidden`: an unsafe request riding the `sid` cookie from another origin.
    CrossOrigin,
    /// 400 `InvalidContent`: the body is not JSON.
    InvalidContent(String),
    /// 400 `BadRequest`: a parameter is missing, malformed or not supported.
    BadRequest(String),
    /// 403 `Forbidden`: a permission is missing.
    Forbidden(String),
    /// 404 `NotFound`: no such item.
    NotFound(String),
    /// 404 `ResourceNotFound`: no such route (restify's wording).
    NoRoute(String),
    /// 409 `Conflict`: e.g. a login already in use.
    Conflict(String),
    MethodNotAllowed(String),
    /// 429: too many failed logins from this account or address (failed-login blocking).
    TooManyFailedLogins,
    PayloadTooLarge,
    /// 408/414/429/431: the request took too long to arrive, its URL or headers are too long,
    /// or the rate limiter refused it (with Rocket.Chat's wording of the wait).
    RequestLimit(StatusCode, String),
    UnsupportedMediaType,
    Unavailable,
    Internal,
}

/// `{"errorCode":3,"message":...}` serialised into a string, as SAYMON sends it.
fn encoded(message: &str) -> String {
    json!({"errorCode": 3, "message": message}).to_string()
}

/// restify's error code for a request-limit status.
fn limit_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::REQUEST_TIMEOUT => "RequestTimeout",
        StatusCode::URI_TOO_LONG => "UriTooLong",
        StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "RequestHeaderFieldsTooLarge",
        _ => "BadRequest",
    }
}

impl SaymonError {
    fn body(&self) -> Value {
        let (code, message) = match self {
            SaymonError::NotLoggedIn => ("Unauthorized", encoded("Not logged in.")),
            SaymonError::SessionExpired => ("Unauthorized", encoded("Session expired.")),
            SaymonError::InvalidApiToken => ("Unauthorized", encoded("Invalid API token.")),
            SaymonError::InvalidCredentials => ("InvalidCredentials", encoded("Invalid login or password.")),
            SaymonError::WrongCsrfToken => return json!({"errorCode": 3, "message": "Wrong CSRF Token"}),
            SaymonError::InvalidContent(m) => ("InvalidContent", format!("Invalid JSON: {m}")),
            SaymonError::BadRequest(m) => ("BadRequest", m.clone()),
            SaymonError::Forbidden(m) => ("Forbidden", m.clone()),
            SaymonError::CrossOrigin => ("Forbidden", "Cross-origin request refused".into()),
            SaymonError::NotFound(m) => ("NotFound", m.clone()),
            SaymonError::NoRoute(path) => ("ResourceNotFound", format!("{path} does not exist")),
            SaymonError::Conflict(m) => ("Conflict", m.clone()),
            SaymonError::MethodNotAllowed(method) => ("MethodNotAllowed", format!("{method} is not allowed")),
            SaymonError::PayloadTooLarge => ("PayloadTooLarge", "Request body is too large".into()),
            SaymonError::TooManyFailedLogins => {
                ("TooManyRequests", "Too many failed logins: try again in a few minutes".into())
            }
            SaymonError::RequestLimit(status, m) => (limit_code(*status), m.clone()),
            SaymonError::UnsupportedMediaType => ("UnsupportedMediaType", "Send the body as application/json".into()),
            SaymonError::Unavailable => ("ServiceUnavailable", "Service temporarily unavailable".into()),
            SaymonError::Internal => ("Internal", "Internal error".into()),
        };
        json!({"code": code, "message": message})
    }
}

impl fmt::Display for SaymonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status_code(), self.body())
    }
}

impl ResponseError for SaymonError {
    fn status_code(&self) -> StatusCode {
        match self {
            SaymonError::NotLoggedIn
            | SaymonError::SessionExpired
            | SaymonError::InvalidApiToken
            | SaymonError::InvalidCredentials
            | SaymonError::WrongCsrfToken => StatusCode::UNAUTHORIZED,
            SaymonError::InvalidContent(_) | SaymonError::BadRequest(_) => StatusCode::BAD_REQUEST,
            SaymonError::Forbidden(_) | SaymonError::CrossOrigin => StatusCode::FORBIDDEN,
            SaymonError::NotFound(_) | SaymonError::NoRoute(_) => StatusCode::NOT_FOUND,
            SaymonError::Conflict(_) => StatusCode::CONFLICT,
            SaymonError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            SaymonError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            SaymonError::TooManyFailedLogins => StatusCode::TOO_MANY_REQUESTS,
            SaymonError::RequestLimit(status, _) => *status,
            SaymonError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SaymonError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            SaymonError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

impl From<crate::error::Error> for SaymonError {
    fn from(err: crate::error::Error) -> Self {
        match err {
            crate::error::Error::Refused(refusal) => refusal.into(),
            err => {
                if err.log_and_is_unavailable() {
                    SaymonError::Unavailable
                } else {
                    SaymonError::Internal
                }
            }
        }
    }
}

pub type SaymonResult<T> = Result<T, SaymonError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_401_bodies_are_reproduced_byte_for_byte() {
        assert_eq!(
            SaymonError::NotLoggedIn.body().to_string(),
            r#"{"code":"Unauthorized","message":"{\"errorCode\":3,\"message\":\"Not logged in.\"}"}"#
        );
        assert_eq!(
            SaymonError::InvalidCredentials.body().to_string(),
            r#"{"code":"InvalidCredentials","message":"{\"errorCode\":3,\"message\":\"Invalid login or password.\"}"}"#
        );
        assert_eq!(SaymonError::WrongCsrfToken.body().to_string(), r#"{"errorCode":3,"message":"Wrong CSRF Token"}"#);
    }
}
