//! Request bodies parsed strictly, shared by both dialects: JSON with duplicate keys
//! refused (so `{"user":"a","user":"admin"}` can never log in as whichever key a parser
//! keeps), form bodies with repeated keys refused, and serde's nesting limit kept.

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(A::Error::custom(format!("duplicate key '{key}'")));
            }
        }
        Ok(Value::Object(object))
    }
}

/// Parses a JSON document, refusing duplicate object keys.
pub fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<Strict>(bytes).map(|s| s.0).map_err(|e| e.to_string())
}

/// Parses `a=1&b=2` into a JSON object of strings, refusing repeated keys.
pub fn parse_form(text: &[u8]) -> Result<Value, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(text).map_err(|e| e.to_string())?;
    let mut object = Map::new();
    for (key, value) in pairs {
        if object.insert(key.clone(), Value::String(value)).is_some() {
            return Err(format!("duplicate parameter '{key}'"));
        }
    }
    Ok(Value::Object(object))
}

/// Why a request body could not be read as a JSON value.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Neither JSON (UTF-8) nor a form.
    UnsupportedMediaType,
    /// Declared JSON or form, but malformed (the parser's explanation).
    MalformedJson(String),
    MalformedForm(String),
}

/// Parses a request body by its content type: JSON or `application/x-www-form-urlencoded`;
/// an empty body is `{}`. Anything else (`text/plain`, UTF-16...) is refused, which also
/// keeps browsers' cross-site "simple" requests out.
pub fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let mime = content_type.unwrap_or("").to_ascii_lowercase();
    let essence = mime.split(';').next().unwrap_or("").trim();
    let charset_ok = !mime.contains("charset") || mime.contains("charset=utf-8");
    match essence {
        "application/json" if charset_ok => parse_json(bytes).map_err(BodyError::MalformedJson),
        "application/x-www-form-urlencoded" => parse_form(bytes).map_err(BodyError::MalformedForm),
        _ => Err(BodyError::UnsupportedMediaType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_json(br#"{"user":"alice","user":"admin"}"#).is_err());
        assert!(parse_json(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(parse_json(br#"{"a":{"b":1},"c":[{"d":1}]}"#).is_ok());
    }

    #[test]
    fn deep_nesting_and_bad_encodings_are_errors_not_crashes() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_json(deep.as_bytes()).is_err());
        assert!(parse_json(b"\xef\xbb\xbf{}").is_err());
        assert!(parse_json(b"{\"a\":\"\xff\xfe\"}").is_err());
        assert!(parse_json(br#"{"a":1e309}"#).is_err());
    }

    #[test]
    fn content_types_other_than_json_and_form_are_refused() {
        assert_eq!(parse_body(Some("text/plain"), b"{}"), Err(BodyError::UnsupportedMediaType));
        assert_eq!(parse_body(Some("application/json; charset=utf-16"), b"{}"), Err(BodyError::UnsupportedMediaType));
        assert_eq!(parse_body(None, b"{\"a\":1}"), Err(BodyError::UnsupportedMediaType));
        assert!(parse_body(None, b"").is_ok());
        assert!(parse_body(Some("application/json; charset=UTF-8"), b"{}").is_ok());
    }

    #[test]
    fn forms_become_objects_of_strings_and_repeats_are_refused() {
        assert_eq!(
            parse_form(b"user=alice&password=x%26y").unwrap(),
            serde_json::json!({"user":"alice","password":"x&y"})
        );
        assert!(parse_form(b"api-token=a&api-token=b").is_err());
    }
}
