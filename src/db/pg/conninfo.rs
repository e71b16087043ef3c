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
    split_with_env(url, |name| std::env::var(name).ok())
}

/// libpq's environment variables for the TLS keys. libpq reads them as defaults the conninfo
/// overrides, and tokio-postgres reads none: ignored, `PGSSLMODE=verify-full` in a node's
/// environment would quietly leave it on `prefer`.
const ENVIRONMENT: [(&str, &str); 6] = [
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
];

/// `split` with the environment given (for tests).
pub fn split_with_env(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<(String, TlsSettings), String> {
    let trimmed = url.trim();
    let (rest, pairs) = if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
        split_url(trimmed)?
    } else {
        split_keywords(trimmed)?
    };
    let mut settings = TlsSettings { mode: SslMode::Prefer, roots: None };
    let mut mode_given = false;
    // The environment first, so that the conninfo's own keys win, as in libpq.
    for (variable, key) in ENVIRONMENT {
        if let Some(value) = env(variable).filter(|v| !v.is_empty()) {
            apply(&mut settings, &mut mode_given, key, &value)
                .map_err(|e| format!("{e} (set by the environment variable {variable})"))?;
        }
    }
    for (key, value) in pairs {
        apply(&mut settings, &mut mode_given, &key, &value)?;
    }
    // libpq's rules for a root file given with a weaker mode: `system` means verify-full (the
    // default with it, and any other mode an error: a chain to a public CA proves nothing
    // without the name), and `require` with a CA file checks the chain as verify-ca does. An
    // operator who copied such a conninfo gets the checks libpq would have made.
    match (&settings.roots, settings.mode) {
        (Some(Roots::System), SslMode::VerifyFull) => {}
        (Some(Roots::System), _) if !mode_given => settings.mode = SslMode::VerifyFull,
        (Some(Roots::System), _) => {
            return Err(
                "`sslrootcert=system` needs `sslmode=verify-full` (as in libpq: any public CA would do otherwise)"
                    .into(),
            );
        }
        (Some(Roots::File(_)), SslMode::Require) => settings.mode = SslMode::VerifyCa,
        _ => {}
    }
    let verifies = matches!(settings.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    if verifies && settings.roots.is_none() {
        return Err("`sslmode=verify-ca` and `verify-full` need `sslrootcert`: the CA's PEM file, or `system` for the public CAs".into());
    }
    Ok((rest, settings))
}

/// One TLS key of the conninfo (or of the environment) into `settings`.
fn apply(settings: &mut TlsSettings, mode_given: &mut bool, key: &str, value: &str) -> Result<(), String> {
    match key {
        "sslmode" => {
            *mode_given = true;
            settings.mode = match value {
                "disable" => SslMode::Disable,
                "allow" | "prefer" => SslMode::Prefer,
                "require" => SslMode::Require,
                "verify-ca" => SslMode::VerifyCa,
                "verify-full" => SslMode::VerifyFull,
                _ => return Err("`sslmode` must be disable, allow, prefer, require, verify-ca or verify-full".into()),
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
    Ok(())
}

/// The error for a quoted value that never ends. The key is named only when it is a known
/// keyword: in a mis-quoted conninfo what reads as a key may be a piece of the password.
fn unclosed(key: &str) -> String {
    const KNOWN: &[&str] = &[
        "host",
        "hostaddr",
        "port",
        "user",
        "password",
        "dbname",
        "options",
        "application_name",
        "connect_timeout",
        "tcp_user_timeout",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_retries",
        "target_session_attrs",
        "channel_binding",
        "load_balance_hosts",
        "sslnegotiation",
    ];
    if KNOWN.contains(&key) || is_tls_key(key) {
        format!("the value of `{key}` has no closing quote")
    } else {
        "a quoted value has no closing quote".into()
    }
}

/// Keys tokio-postgres adds to on each occurrence where libpq keeps the last one: `host=a
/// … host=b` would try `a` first where libpq connects to `b` only.
fn appends(key: &str) -> bool {
    matches!(key, "host" | "hostaddr" | "port")
}

fn given_twice(key: &str) -> String {
    format!("`{key}` is given twice (libpq would use the last one, tokend all of them): give one list, `{key}=a,b`")
}

/// The keys this module takes; everything else goes to tokio-postgres untouched.
fn is_tls_key(key: &str) -> bool {
    matches!(key, "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir")
}

/// `postgresql://…?a=b&c=d`: TLS pairs are taken from the query, the others kept as written.
/// The query is found where tokio-postgres finds it (after the first `@`, which ends the user
/// and password): a `?` in an unencoded password must not hide the real query from this
/// module while tokio-postgres reads its `sslmode=require`, which `Target::parse` would then
/// overwrite with the default. Values are percent-decoded only, as libpq does (`+` stays `+`).
fn split_url(url: &str) -> Result<(String, Vec<(String, String)>), String> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let hosts_start = match url[after_scheme..].find('@') {
        // libpq ends the user and password at a `/` too: the two would read different hosts.
        Some(at) if url[after_scheme..after_scheme + at].contains('/') => {
            return Err(
                "an `@` after a `/` in a postgresql:// URL (libpq and tokend would read different hosts): percent-encode `@` and `/` (%40, %2F)".into(),
            );
        }
        Some(at) => after_scheme + at + 1,
        None => after_scheme,
    };
    let hosts_end = url[hosts_start..].find(['/', '?']).map_or(url.len(), |i| hosts_start + i);
    if url[hosts_start..hosts_end].contains('@') {
        // An unencoded `@` in the password: the rest of it would be taken for (and logged as)
        // a host name.
        return Err(
            "more than one `@` before the database name: percent-encode `@` in the user name and password (%40)".into(),
        );
    }
    let Some(mark) = url[hosts_end..].find('?').map(|i| hosts_end + i) else {
        return Ok((url.to_string(), Vec::new()));
    };
    let (base, query) = (&url[..mark], &url[mark + 1..]);
    let has_hosts = hosts_end > hosts_start;
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for raw in query.split('&').filter(|p| !p.is_empty()) {
        let decoded = form_urlencoded::parse(raw.replace('+', "%2B").as_bytes())
            .next()
            .map(|(k, v)| (k.into_owned(), v.into_owned()));
        match decoded {
            Some((key, value)) if is_tls_key(&key) => taken.push((key, value)),
            // The query's `host` or `port` would be added to the URL's, not replace them.
            Some((key, _)) if has_hosts && appends(&key) => return Err(given_twice(&key)),
            _ => kept.push(raw),
        }
    }
    let rest = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    Ok((rest, taken))
}

/// `key = value …` as libpq reads it: a value is single-quoted (with `\'` and `\\`) or runs to
/// the next blank, a backslash escaping the character after it. Pairs other than TLS ones are
/// passed on as their original text.
fn split_keywords(conninfo: &str) -> Result<(String, Vec<(String, String)>), String> {
    let chars: Vec<char> = conninfo.chars().collect();
    let mut i = 0;
    let mut kept: Vec<String> = Vec::new();
    let mut taken = Vec::new();
    let mut seen: Vec<String> = Vec::new();
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
        if key.is_empty() {
            // tokio-postgres stops reading at a bare `=` and drops all after it, `sslmode`
            // included; libpq refuses it.
            return Err("a `=` with no keyword before it".into());
        }
        if i >= chars.len() || chars[i] != '=' {
            // tokio-postgres words the error; this module only needs well-formed pairs.
            kept.push(chars[start..].iter().collect());
            break;
        }
        i += 1;
        skip_blanks(&mut i);
        let value = read_value(&chars, &mut i).ok_or_else(|| unclosed(&key))?;
        if is_tls_key(&key) {
            taken.push((key, value));
        } else {
            if appends(&key) && seen.contains(&key) {
                return Err(given_twice(&key));
            }
            seen.push(key);
            kept.push(chars[start..i].iter().collect());
        }
    }
    Ok((kept.join(" "), taken))
}

/// The value starting at `chars[*i]`, decoded, with `*i` moved past it: single-quoted (`\'`
/// and `\\` escaped) or up to the next blank, a backslash escaping the character after it.
/// `None` for a quote that never closes.
fn read_value(chars: &[char], i: &mut usize) -> Option<String> {
    let mut value = String::new();
    let quoted = chars.get(*i) == Some(&'\'');
    if quoted {
        *i += 1;
    }
    loop {
        match chars.get(*i) {
            None if quoted => return None,
            None => return Some(value),
            Some('\'') if quoted => {
                *i += 1;
                return Some(value);
            }
            Some(c) if !quoted && c.is_whitespace() => return Some(value),
            Some('\\') if *i + 1 < chars.len() => {
                value.push(chars[*i + 1]);
                *i += 2;
            }
            Some(c) => {
                value.push(*c);
                *i += 1;
            }
        }
    }
}

#[cfg(test)]
#[path = "conninfo_tests.rs"]
mod tests;
