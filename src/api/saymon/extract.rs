//! Request bodies and path ids for SAYMON routes, failing in SAYMON's envelope.

use super::error::SaymonError;
use crate::api::request_limits::{BODY_TIMED_OUT, BodyReadError, read_body};
use crate::api::strict_json::{BodyError, parse_body};
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// A JSON (or form) body decoded into `T`; an empty body is `{}`.
pub struct SaymonBody<T>(pub T);

/// serde's complaints in SAYMON's words (its docs quote `Mandatory "x" parameter is absent/empty.`).
fn describe(serde_message: &str) -> String {
    let quoted =
        |prefix: &str| serde_message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string);
    if let Some(field) = quoted("missing field `") {
        format!("Mandatory \"{field}\" parameter is absent/empty.")
    } else if let Some(field) = quoted("unknown field `") {
        format!("Field \"{field}\" is not supported by this server.")
    } else {
        format!("Invalid parameters: {serde_message}")
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for SaymonBody<T> {
    type Error = SaymonError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, SaymonError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = read_body(req, payload);
        let auth = crate::api::auth_first::waiter(req);
        Box::pin(async move {
            let parsed = Self::parse(content_type, bytes).await;
            if parsed.is_err() {
                crate::api::auth_first::settled(auth).await;
            }
            parsed
        })
    }
}

impl<T: DeserializeOwned + 'static> SaymonBody<T> {
    async fn parse(
        content_type: Option<String>,
        bytes: impl Future<Output = Result<actix_web::web::Bytes, BodyReadError>>,
    ) -> Result<Self, SaymonError> {
        let bytes = bytes.await.map_err(|e| match e {
            BodyReadError::TooLarge => SaymonError::PayloadTooLarge,
            BodyReadError::TimedOut => SaymonError::RequestLimit(StatusCode::REQUEST_TIMEOUT, BODY_TIMED_OUT.into()),
            BodyReadError::Unreadable => SaymonError::BadRequest("Could not read the request body".into()),
        })?;
        let value = parse_body(content_type.as_deref(), &bytes).map_err(|e| match e {
            BodyError::MalformedJson(m) | BodyError::MalformedForm(m) => SaymonError::InvalidContent(m),
            BodyError::UnsupportedMediaType => SaymonError::UnsupportedMediaType,
        })?;
        let decoded = serde_json::from_value(value).map_err(|e| SaymonError::BadRequest(describe(&e.to_string())))?;
        Ok(SaymonBody(decoded))
    }
}

/// A user id from the path: tokend's ids are 17 characters of the Rocket.Chat alphabet,
/// so anything else (`..`, `*`, `-1`, an encoded slash) is refused (400) before any lookup.
pub fn user_id(raw: &str) -> Result<String, SaymonError> {
    let ok = raw.len() == 17 && raw.bytes().all(|b| crate::auth::random::ID_ALPHABET.contains(&b));
    // SAYMON's own ids are MongoDB ObjectIds (24 hex digits): such an id is well formed,
    // it just names nobody here, so it is an unknown user (404), as SAYMON answers.
    let object_id = raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(raw.to_string())
    } else if object_id {
        Err(SaymonError::NotFound(format!("User {raw} not found")))
    } else if raw.len() <= 24 {
        Err(SaymonError::BadRequest(format!("Invalid user id: {:?}", raw)))
    } else {
        // Not echoed: a long "id" may be a token pasted into the path, and errors reach the log.
        Err(SaymonError::BadRequest("Invalid user id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_reworded_like_saymon() {
        assert_eq!(describe("missing field `password`"), "Mandatory \"password\" parameter is absent/empty.");
        assert_eq!(
            describe("unknown field `activeTo`, expected one of `login`"),
            "Field \"activeTo\" is not supported by this server."
        );
    }

    #[test]
    fn odd_path_ids_are_refused() {
        for bad in ["..", "%2e%2e", "*", "-1", "0", "999999999999999999999", "{\"$ne\":null}", "", "aaaaaaaaaaaaaaaa/"]
        {
            assert!(user_id(bad).is_err(), "{bad}");
        }
        assert!(user_id("aobEdbYhXfu5hkeqG").is_ok());
    }
}
