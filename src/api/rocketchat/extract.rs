//! Request bodies and query strings for Rocket.Chat routes, parsed so that every failure
//! speaks the Rocket.Chat envelope (spec/rocketchat.md §1.2–1.3).

use super::error::RcError;
use crate::api::request_limits::{BODY_TIMED_OUT, BodyReadError, read_body};
use crate::api::strict_json::{BodyError, parse_body, parse_form};
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A request body as JSON (or form) decoded into `T`. An empty body is `{}`, as in
/// Rocket.Chat; a malformed one is a 400 in the Rocket.Chat envelope.
pub struct RcBody<T>(pub T);

/// The query string decoded into `T` (every value a string; repeated keys refused).
pub struct RcQuery<T>(pub T);

/// Parses a body by its content type into a JSON value, failing in the Rocket.Chat envelope.
pub fn body_value(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, RcError> {
    parse_body(content_type, bytes).map_err(|e| match e {
        BodyError::MalformedJson(e) => RcError::invalid_params(&format!("Invalid JSON body: {e}")),
        BodyError::MalformedForm(e) => RcError::invalid_params(&format!("Invalid form body: {e}")),
        BodyError::UnsupportedMediaType => RcError::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported content type: send the body as application/json".into(),
        ),
    })
}

/// Decodes a JSON value into `T`, wording serde's complaints as Rocket.Chat's validator does.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, RcError> {
    serde_json::from_value(value).map_err(|e| RcError::invalid_params(&describe(&e.to_string())))
}

fn describe(serde_message: &str) -> String {
    let quoted =
        |prefix: &str| serde_message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string);
    if let Some(field) = quoted("missing field `") {
        format!("must have required property '{field}'")
    } else if quoted("unknown field `").is_some() {
        "must NOT have additional properties".to_string()
    } else if let Some(expected) =
        serde_message.strip_prefix("invalid type: ").and_then(|m| m.split(", expected ").nth(1))
    {
        format!("must be {}", ajv_type(expected))
    } else {
        serde_message.to_string()
    }
}

/// serde's "expected ..." phrase as the JSON-schema type name ajv reports.
fn ajv_type(expected: &str) -> &'static str {
    match expected {
        e if e.contains("string") => "string",
        e if e.contains("boolean") => "boolean",
        e if e.contains("sequence") => "array",
        e if e.contains("integer") || ["i64", "u64", "i32", "u32"].contains(&e) => "integer",
        e if e.contains("number") || e.contains("f64") => "number",
        _ => "object",
    }
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, RcError>>>>;

impl<T: DeserializeOwned + 'static> FromRequest for RcBody<T> {
    type Error = RcError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = read_body(req, payload);
        let auth = crate::api::auth_first::waiter(req);
        Box::pin(async move {
            let parsed = async {
                let bytes = bytes.await.map_err(|e| match e {
                    BodyReadError::TooLarge => {
                        RcError::Status(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large".into())
                    }
                    BodyReadError::TimedOut => RcError::Status(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT.into()),
                    BodyReadError::Unreadable => RcError::invalid_params("Could not read the request body"),
                })?;
                let value = body_value(content_type.as_deref(), &bytes)?;
                Ok(RcBody(decode(value)?))
            }
            .await;
            if parsed.is_err() {
                crate::api::auth_first::settled(auth).await;
            }
            parsed
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for RcQuery<T> {
    type Error = RcError;
    type Future = std::future::Ready<Result<Self, RcError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = parse_form(req.query_string().as_bytes())
            .map_err(|e| RcError::invalid_params(&format!("Invalid query string: {e}")))
            .and_then(decode)
            .map(RcQuery);
        std::future::ready(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_reworded_like_ajv() {
        assert_eq!(describe("missing field `email`"), "must have required property 'email'");
        assert_eq!(describe("unknown field `x`, expected one of `a`"), "must NOT have additional properties");
        assert_eq!(describe("invalid type: string \"true\", expected a boolean"), "must be boolean");
        assert_eq!(describe("invalid type: integer `1`, expected a string"), "must be string");
        assert_eq!(describe("invalid type: string \"x\", expected a sequence"), "must be array");
        assert_eq!(describe("invalid type: string \"x\", expected struct UpdateData"), "must be object");
    }
}
