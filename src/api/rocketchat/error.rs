//! The Rocket.Chat error envelope (spec/rocketchat.md §1). Every refusal on `/api/*`
//! is one of these, so clients always get `{"success":false,...}` with the status
//! Rocket.Chat would send.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};
use std::fmt;

#[derive(Debug)]
pub enum RcError {
    /// 401 for a missing or invalid `X-User-Id`/`X-Auth-Token` (§2).
    NotLoggedIn,
    /// 400 `failure(...)`: `{success:false, error, errorType?, details?}` (§1).
    Failure { error: String, error_type: Option<String>, details: Option<Value> },
    /// 403 for a route-level `permissionsRequired` miss (§11.1).
    PermissionRequired,
    /// `{success:false,"error":"unauthorized"}` with 401 or 403 (`unauthorized()`/`forbidden()`).
    Unauthorized(StatusCode),
    /// 401 from `POST /api/v1/login` (§5.3): `{success:false, error, status:"error", message, details?}`.
    Login { error: String, message: String, details: Option<Value> },
    /// 404 `notFound(msg)`.
    NotFound(String),
    /// Any other 4xx in the generic envelope (413, 415, 405...).
    Status(StatusCode, String),
    /// 503: the store is temporarily unable to serve (busy, read-only, disk full).
    Unavailable,
    /// 500: a bug. The cause was logged; the client learns nothing of it.
    Internal,
}

impl RcError {
    /// A Meteor error as the REST layer renders it: `"<reason> [<code>]"`, `errorType: code`.
    pub fn meteor(code: &str, reason: &str) -> Self {
        let error = if reason.is_empty() { format!("[{code}]") } else { format!("{reason} [{code}]") };
        RcError::Failure { error, error_type: Some(code.to_string()), details: None }
    }

    pub fn meteor_with_details(code: &str, reason: &str, details: Value) -> Self {
        match RcError::meteor(code, reason) {
            RcError::Failure { error, error_type, .. } => {
                RcError::Failure { error, error_type, details: Some(details) }
            }
            other => other,
        }
    }

    /// `failure(msg)`: a bare message, no `errorType`.
    pub fn failure(msg: impl Into<String>) -> Self {
        RcError::Failure { error: msg.into(), error_type: None, details: None }
    }

    /// `failure(msg, errorType)`: message and type given separately, no `[code]` suffix.
    pub fn failure_typed(msg: impl Into<String>, error_type: &str) -> Self {
        RcError::Failure { error: msg.into(), error_type: Some(error_type.to_string()), details: None }
    }

    /// Body or query validation failure (§1.2 legacy form).
    pub fn invalid_params(msg: &str) -> Self {
        RcError::meteor("invalid-params", msg)
    }

    /// Validation failure of a typed route (8.x router, errata 3): `errorType:
    /// "error-invalid-params"`, the validator's message with no `[code]` suffix.
    pub fn typed_invalid_params(msg: &str) -> Self {
        RcError::failure_typed(msg, "error-invalid-params")
    }

    /// The ambiguous login failure (§5.3): unknown user and wrong password look the same.
    pub fn login_unauthorized() -> Self {
        RcError::Login { error: "Unauthorized".into(), message: "Unauthorized".into(), details: None }
    }

    pub fn action_not_allowed(reason: &str) -> Self {
        RcError::meteor("error-action-not-allowed", reason)
    }
}

impl fmt::Display for RcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status_code(), self.body())
    }
}

impl RcError {
    fn body(&self) -> Value {
        match self {
            RcError::NotLoggedIn => json!({
                "success": false,
                "error": "You must be logged in to do this.",
                "status": "error",
                "message": "You must be logged in to do this."
            }),
            RcError::Failure { error, error_type, details } => {
                let mut body = Map::new();
                body.insert("success".into(), Value::Bool(false));
                body.insert("error".into(), Value::String(error.clone()));
                if let Some(t) = error_type {
                    body.insert("errorType".into(), Value::String(t.clone()));
                }
                if let Some(d) = details {
                    body.insert("details".into(), d.clone());
                }
                Value::Object(body)
            }
            RcError::PermissionRequired => json!({
                "success": false,
                "error": "User does not have the permissions required for this action [error-unauthorized]"
            }),
            RcError::Unauthorized(_) => json!({"success": false, "error": "unauthorized"}),
            RcError::Login { error, message, details } => {
                let mut body = Map::new();
                body.insert("success".into(), Value::Bool(false));
                body.insert("error".into(), Value::String(error.clone()));
                body.insert("status".into(), Value::String("error".into()));
                if let Some(d) = details {
                    body.insert("details".into(), d.clone());
                }
                body.insert("message".into(), Value::String(message.clone()));
                Value::Object(body)
            }
            RcError::NotFound(msg) | RcError::Status(_, msg) => {
                json!({"success": false, "error": msg})
            }
            RcError::Unavailable => json!({"success": false, "error": "Service Unavailable"}),
            RcError::Internal => json!({"success": false, "error": "Internal server error"}),
        }
    }
}

impl ResponseError for RcError {
    fn status_code(&self) -> StatusCode {
        match self {
            RcError::NotLoggedIn | RcError::Login { .. } => StatusCode::UNAUTHORIZED,
            RcError::Failure { .. } => StatusCode::BAD_REQUEST,
            RcError::PermissionRequired => StatusCode::FORBIDDEN,
            RcError::Unauthorized(status) | RcError::Status(status, _) => *status,
            RcError::NotFound(_) => StatusCode::NOT_FOUND,
            RcError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            RcError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

impl From<crate::error::Error> for RcError {
    fn from(err: crate::error::Error) -> Self {
        match err {
            crate::error::Error::Refused(refusal) => refusal.into(),
            err => {
                if err.log_and_is_unavailable() {
                    RcError::Unavailable
                } else {
                    RcError::Internal
                }
            }
        }
    }
}

pub type RcResult<T> = Result<T, RcError>;
