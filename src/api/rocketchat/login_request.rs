//! The body forms `POST /api/v1/login` accepts (spec §5.1), decided without side effects.
//! Types are strict: a number or an object where a string belongs is a 400, never coerced.

use super::error::RcError;
use crate::accounts::{LoginName, MAX_PASSWORD_CHARS};
use crate::auth::password::PasswordDigest;
use serde_json::{Map, Value};

#[derive(Debug)]
pub enum LoginRequest {
    Password {
        who: LoginName,
        digest: PasswordDigest,
        code: Option<String>,
    },
    Resume(String),
    /// No handler recognises the body (Rocket.Chat answers with the generic 401).
    Unrecognized,
}

const COMPAT_KEYS: [&str; 5] = ["user", "username", "email", "password", "code"];

fn bad(field: &str, expectation: &str) -> RcError {
    RcError::invalid_params(&format!("'{field}' must be {expectation}"))
}

fn string_field(body: &Map<String, Value>, field: &str) -> Result<Option<String>, RcError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, "a string")),
    }
}

fn password(value: &Value) -> Result<PasswordDigest, RcError> {
    match value {
        Value::String(plain) if plain.chars().count() <= MAX_PASSWORD_CHARS => Ok(PasswordDigest::of_plaintext(plain)),
        Value::String(_) => Err(bad("password", &format!("at most {MAX_PASSWORD_CHARS} characters"))),
        Value::Object(o) if o.len() == 2 && o.get("algorithm") == Some(&Value::String("sha-256".into())) => o
            .get("digest")
            .and_then(Value::as_str)
            .and_then(PasswordDigest::from_client_digest)
            .ok_or_else(|| bad("password.digest", "64 hexadecimal characters")),
        _ => Err(bad("password", "a string or {digest, algorithm: \"sha-256\"}")),
    }
}

/// `{"username": ..}`, `{"email": ..}` or `{"id": ..}`: exactly one non-empty string.
fn user_selector(value: &Value) -> Result<LoginName, RcError> {
    let Value::Object(o) = value else {
        return Err(bad("user", "an object with one of username, email or id"));
    };
    let mut fields = o.iter();
    let (Some((key, Value::String(v))), None) = (fields.next(), fields.next()) else {
        return Err(bad("user", "an object with exactly one string field"));
    };
    if v.is_empty() {
        return Err(bad(&format!("user.{key}"), "a non-empty string"));
    }
    match key.as_str() {
        "username" => Ok(LoginName::Username(v.clone())),
        "email" => Ok(LoginName::Email(v.clone())),
        "id" => Ok(LoginName::Id(v.clone())),
        _ => Err(bad("user", "an object with one of username, email or id")),
    }
}

pub fn parse(body: &Value) -> Result<LoginRequest, RcError> {
    let Value::Object(body) = body else {
        return Err(RcError::invalid_params("must be object"));
    };
    let has_password = !matches!(body.get("password"), None | Some(Value::Null));
    if has_password && body.keys().all(|k| COMPAT_KEYS.contains(&k.as_str())) {
        let who = match body.get("user") {
            Some(Value::String(u)) if u.contains('@') => Some(LoginName::Email(u.clone())),
            Some(Value::String(u)) => Some(LoginName::Username(u.clone())),
            _ => match (string_field(body, "username")?, string_field(body, "email")?) {
                (Some(u), _) => Some(LoginName::Username(u)),
                (None, Some(e)) => Some(LoginName::Email(e)),
                (None, None) => None,
            },
        };
        if let Some(who) = who {
            let digest = password(&body["password"])?;
            return Ok(LoginRequest::Password { who, digest, code: string_field(body, "code")? });
        }
    }
    native(body, None)
}

/// Meteor's own login forms: `{resume}`, `{user, password}`, `{totp: {login, code}}`.
fn native(body: &Map<String, Value>, code: Option<String>) -> Result<LoginRequest, RcError> {
    if let Some(resume) = body.get("resume") {
        return match resume {
            Value::String(token) => Ok(LoginRequest::Resume(token.clone())),
            _ => Err(bad("resume", "a string")),
        };
    }
    if let Some(totp) = body.get("totp") {
        let Value::Object(totp) = totp else {
            return Err(bad("totp", "an object with login and code"));
        };
        let (Some(Value::Object(login)), Some(code)) = (totp.get("login"), string_field(totp, "code")?) else {
            return Err(bad("totp", "an object with login and code"));
        };
        return native(login, Some(code));
    }
    match (body.get("user"), body.get("password")) {
        (Some(user), Some(pw)) if !pw.is_null() => Ok(LoginRequest::Password {
            who: user_selector(user)?,
            digest: password(pw)?,
            code: code.or(string_field(body, "code")?),
        }),
        _ => Ok(LoginRequest::Unrecognized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn who(v: Value) -> LoginName {
        match parse(&v).unwrap() {
            LoginRequest::Password { who, .. } => who,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn compat_forms_pick_email_or_username() {
        assert!(matches!(who(json!({"user":"a@b.c","password":"x"})), LoginName::Email(e) if e == "a@b.c"));
        assert!(matches!(who(json!({"user":"alice","password":"x"})), LoginName::Username(u) if u == "alice"));
        assert!(matches!(who(json!({"username":"alice","password":"x"})), LoginName::Username(_)));
        assert!(matches!(who(json!({"email":"a@b.c","password":"x"})), LoginName::Email(_)));
    }

    #[test]
    fn native_forms_are_understood() {
        assert!(matches!(who(json!({"user":{"id":"X"},"password":"x"})), LoginName::Id(_)));
        assert!(matches!(parse(&json!({"resume":"tok"})).unwrap(), LoginRequest::Resume(t) if t == "tok"));
        let totp = json!({"totp":{"login":{"user":{"username":"a"},"password":"x"},"code":"123456"}});
        assert!(matches!(parse(&totp).unwrap(), LoginRequest::Password { code: Some(c), .. } if c == "123456"));
    }

    #[test]
    fn digest_passwords_equal_plaintext_ones() {
        let digest = PasswordDigest::of_plaintext("pw").as_str().to_string();
        let a = parse(&json!({"user":"u","password":{"digest":digest,"algorithm":"sha-256"}})).unwrap();
        let LoginRequest::Password { digest: d, .. } = a else { panic!() };
        assert_eq!(d, PasswordDigest::of_plaintext("pw"));
    }

    #[test]
    fn wrong_types_are_refused_not_coerced() {
        for body in [
            json!([]),
            json!("alice"),
            json!(null),
            json!(123),
            json!({"user":123,"password":"x"}),
            json!({"user":"alice","password":123}),
            json!({"user":{"$ne":null},"password":{"$ne":null}}),
            json!({"user":["a","b"],"password":"x"}),
            json!({"resume":{"$ne":""}}),
            json!({"user":"a","password":"x".repeat(257)}),
        ] {
            assert!(parse(&body).is_err(), "{body}");
        }
    }

    #[test]
    fn bodies_without_credentials_are_unrecognized() {
        assert!(matches!(parse(&json!({})).unwrap(), LoginRequest::Unrecognized));
        assert!(matches!(parse(&json!({"user":"alice"})).unwrap(), LoginRequest::Unrecognized));
        assert!(matches!(parse(&json!({"ldap":true,"username":"a"})).unwrap(), LoginRequest::Unrecognized));
    }
}
