//! The TLS settings of a conninfo, taken out before tokio-postgres parses the rest: it knows
//! `sslmode` only as disable/prefer/require and has no `sslrootcert`, while an operator copies
//! libpq's spelling (`sslmode=verify-full sslrootcert=/etc/tokend/pg-ca.pem`) from their
//! provider's documentation. Both forms are handled: `key=value …` and `postgresql://…?…`.

use std::path::PathBuf;

/// libpq's `sslmode`, with its meanings (`allow` is read as `prefer`: either accepts both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, unverified; plain otherwise (libpq's default).
    Prefer,
    /// TLS or no connection; the certificate is not checked.
    Require,
    /// TLS, and the certificate chains to `sslrootcert`; any host name.
    VerifyCa,
    /// TLS, the certificate chains to `sslrootcert` and names the host connected to.
    VerifyFull,
}

/// Where trusted CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Roots {
    /// `sslrootcert=system`: the Mozilla roots built into tokend (a managed database's
    /// public CA).
    System,
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub roots: Option<Roots>,
}

/// Splits `url` into what tokio-postgres parses (the TLS keys removed) and the TLS settings.
/// Errors name the key at fault, never a value (a value may be a password).
pub fn split(url: &str) -> Result<(String, TlsSettings), String> {
    let trimmed = url.trim();
    let (rest, pairs) = if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
        split_url(trimmed)
    } else {
        split_keywords(trimmed)?
    };
    let mut settings = TlsSettings { mode: SslMode::Prefer, roots: None };
    for (key, value) in pairs {
        match key.as_str() {
            "sslmode" => {
                settings.mode = match value.as_str() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    _ => {
                        return Err("`sslmode` must be disable, allow, prefer, require, verify-ca or verify-full".into());
                    }
                }
            }
            "sslrootcert" if value == "system" => settings.roots = Some(Roots::System),
            "sslrootcert" if value.is_empty() => return Err("`sslrootcert` is empty".into()),
            "sslrootcert" => settings.roots = Some(Roots::File(PathBuf::from(value))),
            "sslcert" | "sslkey" | "sslpassword" => {
                return Err(format!("`{key}`: client certificates are not supported (authenticate with a password)"));
            }
            "sslcrl" | "sslcrldir" => return Err(format!("`{key}`: certificate revocation lists are not supported")),
            _ => unreachable!("only TLS keys are taken out"),
        }
    }
    let verifies = matches!(settings.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    if verifies && settings.roots.is_none() {
        return Err("`sslmode=verify-ca` and `verify-full` need `sslrootcert`: the CA's PEM file, or `system` for the public CAs".into());
    }
    Ok((rest, settings))
}

/// The keys this module takes; everything else goes to tokio-postgres untouched.
fn is_tls_key(key: &str) -> bool {
    matches!(key, "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir")
}

/// `postgresql://…?a=b&c=d`: TLS pairs are taken from the query, the others kept as written.
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for raw in query.split('&').filter(|p| !p.is_empty()) {
        let decoded = form_urlencoded::parse(raw.as_bytes()).next();
        match decoded {
            Some((key, value)) if is_tls_key(&key) => taken.push((key.into_owned(), value.into_owned())),
            _ => kept.push(raw),
        }
    }
    let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (rest, taken)
}

/// `key = value …` as libpq reads it: a value is single-quoted (with `\'` and `\\`) or runs to
/// the next blank, a backslash escaping the character after it. Pairs other than TLS ones are
/// passed on as their original text.
fn split_keywords(conninfo: &str) -> Result<(String, Vec<(String, String)>), String> {
    let chars: Vec<char> = conninfo.chars().collect();
    let mut i = 0;
    let mut kept: Vec<String> = Vec::new();
    let mut taken = Vec::new();
    let skip_blanks = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_blanks(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_blanks(&mut i);
        if i >= chars.len() || chars[i] != '=' || key.is_empty() {
            // tokio-postgres words the error; this module only needs well-formed pairs.
            kept.push(chars[start..].iter().collect());
            break;
        }
        i += 1;
        skip_blanks(&mut i);
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("the value of `{key}` has no closing quote")),
                    Some('\'') => break,
                    Some('\\') if i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 1;
                    }
                    Some(c) => value.push(*c),
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
        }
        if is_tls_key(&key) {
            taken.push((key, value));
        } else {
            kept.push(chars[start..i].iter().collect());
        }
    }
    Ok((kept.join(" "), taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_tls_keys_are_taken_out_of_keyword_conninfos() {
        let (rest, tls) =
            split("host=pg1,pg2 sslmode = verify-full  password='a b\\' c' sslrootcert='/etc/ca dir/ca.pem' dbname=a")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rest, "host=pg1,pg2 password='a b\\' c' dbname=a");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.roots, Some(Roots::File("/etc/ca dir/ca.pem".into())));
    }

    #[test]
    fn and_out_of_url_queries() {
        let (rest, tls) = split("postgresql://u:p%3F@a,b/db?sslmode=require&target_session_attrs=read-write").unwrap();
        assert_eq!(rest, "postgresql://u:p%3F@a,b/db?target_session_attrs=read-write");
        assert_eq!(tls, TlsSettings { mode: SslMode::Require, roots: None });
        let (rest, tls) = split("postgres://a/db?sslrootcert=system&sslmode=verify-ca").unwrap();
        assert_eq!(rest, "postgres://a/db");
        assert_eq!(tls, TlsSettings { mode: SslMode::VerifyCa, roots: Some(Roots::System) });
    }

    #[test]
    fn the_default_is_prefer_and_allow_reads_as_prefer() {
        assert_eq!(split("host=a").unwrap().1.mode, SslMode::Prefer);
        assert_eq!(split("host=a sslmode=allow").unwrap().1.mode, SslMode::Prefer);
        assert_eq!(split("host=a sslmode=disable").unwrap().1.mode, SslMode::Disable);
    }

    #[test]
    fn what_cannot_be_honoured_is_refused_by_key_never_by_value() {
        let refused = |s: &str| split(s).unwrap_err();
        assert!(refused("host=a sslmode=verify-full").contains("sslrootcert"));
        assert!(refused("host=a sslmode=strict").contains("`sslmode`"));
        assert!(refused("host=a sslcert=/c.pem").contains("client certificates"));
        assert!(refused("host=a sslkey=/k.pem").contains("client certificates"));
        assert!(refused("host=a sslcrl=/x").contains("revocation"));
        let unclosed = refused("host=a password='s3cret");
        assert!(unclosed.contains("`password`") && !unclosed.contains("s3cret"), "{unclosed}");
    }
}
