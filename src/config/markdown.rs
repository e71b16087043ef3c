//! The README's configuration table, rendered from the declarations (`tokend settings
//! markdown` prints it; a test fails when README.md holds anything else).

use super::setting::{Setting, Snap};
use super::snap;
use super::variables::SETTINGS;

pub const HEADER: &str = "| env variable | snap key | default | meaning |\n|---|---|---|---|\n";

/// The whole table: header, then one row per setting.
pub fn table() -> String {
    let mut out = String::from(HEADER);
    for setting in SETTINGS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            setting.variable,
            snap_cell(setting),
            setting.default_markdown(),
            setting.help
        ));
    }
    out
}

fn snap_cell(setting: &Setting) -> String {
    let keys: Vec<snap::SnapKey> =
        snap::keys().into_iter().filter(|k| k.setting.variable == setting.variable).collect();
    if keys.is_empty() {
        return "-".into();
    }
    let names: Vec<String> = keys.iter().map(|k| format!("`{}`", k.name)).collect();
    let defaults: Vec<String> = keys.iter().filter_map(|k| k.default.map(|d| format!("`{}={d}`", k.name))).collect();
    match (setting.snap, defaults.is_empty()) {
        (Snap::CreateTokens, _) => format!("{} (no default: the env files decide)", names.join(" + ")),
        (_, true) => names.join(" + "),
        (_, false) => format!("{} (install sets {})", names.join(" + "), defaults.join(", ")),
    }
}
