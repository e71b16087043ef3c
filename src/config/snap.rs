//! The `snap set tokend` keys, derived from the declarations: which keys exist, what the
//! install hook gives them, how the configure hook checks a value (with the same parser as
//! startup, so `snap set` refuses what tokend would refuse) and how the launcher turns them
//! into environment variables. The hooks call these through `tokend settings snap-…`.

use super::Config;
use super::setting::{Kind, Setting, Snap};
use super::variables::{self as v, SETTINGS};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug)]
pub struct SnapKey {
    pub name: &'static str,
    pub setting: &'static Setting,
    /// What install and post-refresh set when the key has no value.
    pub default: Option<&'static str>,
}

const PORT: &str = "port";
const BIND_ADDRESS: &str = "bind-address";

/// Every key, in the order of the declarations.
pub fn keys() -> Vec<SnapKey> {
    let mut keys = Vec::new();
    for setting in SETTINGS {
        match setting.snap {
            Snap::None => {}
            Snap::Key | Snap::CreateTokens => {
                keys.push(SnapKey { name: setting.flag, setting, default: setting.snap_default })
            }
            Snap::BindAddressAndPort => {
                let (address, port) = bind_default(setting);
                keys.push(SnapKey { name: PORT, setting, default: Some(port) });
                keys.push(SnapKey { name: BIND_ADDRESS, setting, default: Some(address) });
            }
        }
    }
    keys
}

/// The declared default `host:port` of the listen address, split in two.
fn bind_default(setting: &Setting) -> (&'static str, &'static str) {
    match setting.kind {
        Kind::Text { default } => default.rsplit_once(':').unwrap_or((default, "")),
        _ => ("", ""),
    }
}

/// Silent (Ok) when `value` is acceptable for the key `name` (empty means unset and is
/// always acceptable); otherwise one line naming the key and the fix.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let Some(key) = keys().into_iter().find(|k| k.name == name) else {
        return Err(format!("unknown key '{name}'"));
    };
    if value.is_empty() {
        return Ok(());
    }
    let fix = match (key.setting.snap, key.setting.kind) {
        (Snap::BindAddressAndPort, _) if name == PORT => {
            let plain = !value.starts_with('0') && value.len() <= 5 && value.bytes().all(|b| b.is_ascii_digit());
            match value.parse::<u32>() {
                Ok(port) if plain && (1..=65535).contains(&port) => return Ok(()),
                _ => "is not a TCP port: use a whole number from 1 to 65535, e.g. snap set tokend port=3000".to_string(),
            }
        }
        (Snap::BindAddressAndPort, _) => match value.parse::<IpAddr>() {
            Ok(_) => return Ok(()),
            Err(_) => "is not a numeric IP address: use e.g. 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 interface) or :: (IPv6), without brackets or port".to_string(),
        },
        (Snap::CreateTokens, _) => match value {
            "true" | "false" => return Ok(()),
            _ => format!("must be true or false (or unset it to let *.env files decide: snap unset tokend {name})"),
        },
        (_, Kind::LogFilter { .. }) => match is_log_filter(value) {
            true => return Ok(()),
            false => "must be error, warn, info, debug, trace or off, or env_logger directives such as info,actix_web=warn".to_string(),
        },
        _ => {
            let variable = key.setting.variable;
            match Config::from_lookup(|n| (n == variable).then(|| value.to_string())) {
                Err(e) if e.variable == variable => format!("is refused: {}", e.fix),
                _ => return Ok(()),
            }
        }
    };
    Err(format!("{name} '{value}' {fix}"))
}

/// An `env_logger` filter as tokend documents it: comma-separated `LEVEL` or
/// `MODULE=LEVEL` directives.
fn is_log_filter(value: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_:=,.-".contains(c);
    !value.is_empty()
        && value.chars().all(allowed)
        && value.split(',').all(|directive| {
            let level = match directive.split_once('=') {
                None => directive,
                Some((module, level)) if !module.is_empty() && !level.contains('=') => level,
                Some(_) => return false,
            };
            matches!(level.to_ascii_lowercase().as_str(), "off" | "error" | "warn" | "info" | "debug" | "trace")
        })
}

/// POSIX sh for the launcher to `eval`: exports what the set keys say (a set key wins over
/// the env files) and leaves alone what unset keys would control. `values` are `(key, value)`.
pub fn environment(values: &[(String, String)]) -> String {
    let value_of = |name: &str| values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let mut out = String::new();
    for key in keys() {
        let value = value_of(key.name);
        match key.setting.snap {
            Snap::BindAddressAndPort if key.name == PORT => {
                let (port, address) = (value, value_of(BIND_ADDRESS));
                if port.is_empty() && address.is_empty() {
                    continue;
                }
                let (default_address, default_port) = bind_default(key.setting);
                let address = if address.is_empty() { default_address } else { address };
                let port = if port.is_empty() { default_port } else { port };
                let host = if address.contains(':') { format!("[{address}]") } else { address.to_string() };
                out.push_str(&export(key.setting.variable, &format!("{host}:{port}")));
            }
            Snap::CreateTokens if value == "true" => out.push_str(&export(key.setting.variable, "true")),
            Snap::CreateTokens if value == "false" => {
                out.push_str(&format!("unset {} {}\n", key.setting.variable, v::CREATE_TOKENS_SECRET.variable))
            }
            Snap::Key if !value.is_empty() => out.push_str(&export(key.setting.variable, value)),
            _ => {}
        }
    }
    out
}

fn export(variable: &str, value: &str) -> String {
    format!("export {variable}='{}'\n", value.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_keys_join_into_one_address_with_ipv6_in_brackets() {
        let env = environment(&[("bind-address".into(), "::1".into())]);
        assert_eq!(env, "export TOKEND_BIND='[::1]:3000'\n");
        assert_eq!(environment(&[]), "");
    }

    #[test]
    fn values_are_quoted_for_sh() {
        let env = environment(&[("site-url".into(), "http://x/'; reboot".into())]);
        assert_eq!(env, "export TOKEND_SITE_URL='http://x/'\\''; reboot'\n");
    }

    #[test]
    fn plain_keys_are_checked_by_the_startup_parser() {
        assert!(check("bcrypt-cost", "12").is_ok());
        let refused = check("bcrypt-cost", "9").unwrap_err();
        assert!(refused.starts_with("bcrypt-cost '9' ") && refused.contains("from 10 to 31"), "{refused}");
        assert!(check("rate-limit", "sometimes").is_err());
        assert!(check("port", "080").is_err());
        assert!(check("no-such-key", "1").is_err());
    }
}
