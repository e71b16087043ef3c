//! Reading one declared setting from a lookup of variable name → raw value: its default when
//! unset, its range, and the exit-2 message when the value is malformed. Each function takes
//! the setting's declaration, so the variable name, default and range are never restated.

use super::setting::{Kind, Setting};
use super::{ConfigError, variables as v};

/// The value of a `Kind::Number` setting, or its default when unset.
pub(super) fn number(get: &impl Fn(&'static str) -> Option<String>, setting: &Setting) -> Result<u32, ConfigError> {
    let Kind::Number { default, min, max } = setting.kind else {
        panic!("{} is not declared as a number", setting.variable);
    };
    match get(setting.variable) {
        None => Ok(default),
        Some(raw) => whole_number(setting, raw, min, max, &format!("unset it for the default ({default})")),
    }
}

/// The value of a `Kind::OptionalNumber` setting; `None` when unset.
pub(super) fn optional_number(
    get: &impl Fn(&'static str) -> Option<String>,
    setting: &Setting,
) -> Result<Option<u32>, ConfigError> {
    let Kind::OptionalNumber { unset, min, max } = setting.kind else {
        panic!("{} is not declared as an optional number", setting.variable);
    };
    get(setting.variable).map(|raw| whole_number(setting, raw, min, max, &format!("unset it ({unset})"))).transpose()
}

fn whole_number(setting: &Setting, raw: String, min: u32, max: u32, or_else: &str) -> Result<u32, ConfigError> {
    match raw.trim().parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            variable: setting.variable,
            value: raw,
            fix: format!("use a whole number from {min} to {max}, or {or_else}"),
        }),
    }
}

/// The value of a `Kind::Text` setting, or its default when unset.
pub(super) fn text(get: &impl Fn(&'static str) -> Option<String>, setting: &Setting) -> String {
    let Kind::Text { default } = setting.kind else {
        panic!("{} is not declared as text with a default", setting.variable);
    };
    get(setting.variable).unwrap_or_else(|| default.to_string())
}

/// A comma-separated list of IP addresses, kept in their canonical text form.
pub(super) fn ip_list(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<std::net::IpAddr>().map(|ip| ip.to_string()).map_err(|_| ConfigError {
                variable: v::LOGIN_BLOCK_IP_ALLOWLIST.variable,
                value: raw.clone(),
                fix: "list IP addresses separated by commas, e.g. 127.0.0.1,192.0.2.7".into(),
            })
        })
        .collect()
}

/// An on/off switch; also accepts true/false, yes/no and 1/0.
pub(super) fn switch(get: &impl Fn(&'static str) -> Option<String>, setting: &Setting) -> Result<bool, ConfigError> {
    let Kind::Switch { default } = setting.kind else {
        panic!("{} is not declared as a switch", setting.variable);
    };
    let Some(raw) = get(setting.variable) else {
        return Ok(default);
    };
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(ConfigError { variable: setting.variable, value: raw, fix: "use 'on' or 'off'".into() }),
    }
}
