//! One declaration per setting (`tokend::config::SETTINGS`) and what is derived from it: the
//! flags, the README's configuration table, the completions and the man page.

use std::collections::HashSet;
use std::process::{Command, Output};
use tokend::config::{Config, Kind, SETTINGS, markdown, snap};

const BIN: &str = env!("CARGO_BIN_EXE_tokend");

/// `tokend ARGS` with no tokend variable in its environment.
fn tokend(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for setting in SETTINGS {
        cmd.env_remove(setting.variable);
    }
    cmd.args(args).output().expect("run tokend")
}

#[test]
fn the_readme_configuration_table_is_the_one_rendered_from_the_declarations() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find(markdown::HEADER).expect("README.md has the configuration table");
    let end = readme[start..].find("\n\n").map_or(readme.len(), |n| start + n + 1);
    let expected = markdown::table();
    assert!(
        readme[start..end] == expected,
        "README.md's configuration table drifted from src/config/variables.rs; replace it with the output of \
         `tokend settings markdown`:\n{expected}"
    );
    let printed = tokend(&["settings", "markdown"]);
    assert!(printed.status.success());
    assert_eq!(String::from_utf8_lossy(&printed.stdout), expected);
}

#[test]
fn variables_flags_and_snap_keys_are_each_declared_once() {
    let variables: HashSet<_> = SETTINGS.iter().map(|s| s.variable).collect();
    let flags: HashSet<_> = SETTINGS.iter().map(|s| s.flag).collect();
    let keys: Vec<_> = snap::keys().iter().map(|k| k.name).collect();
    assert_eq!(variables.len(), SETTINGS.len());
    assert_eq!(flags.len(), SETTINGS.len());
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), keys.len());
    for setting in SETTINGS.iter().filter(|s| s.secret) {
        assert!(snap::keys().iter().all(|k| k.setting.variable != setting.variable), "{} is secret", setting.variable);
    }
}

#[test]
fn every_number_accepts_its_range_and_refuses_one_past_it_naming_the_variable() {
    for setting in SETTINGS {
        let (min, max) = match setting.kind {
            Kind::Number { min, max, .. } | Kind::OptionalNumber { min, max, .. } => (min, max),
            _ => continue,
        };
        let parse = |value: u32| Config::from_lookup(|name| (name == setting.variable).then(|| value.to_string()));
        assert!(parse(min).is_ok() && parse(max).is_ok(), "{} refuses its own range", setting.variable);
        assert_eq!(parse(max + 1).unwrap_err().variable, setting.variable);
        if min > 0 {
            assert_eq!(parse(min - 1).unwrap_err().variable, setting.variable);
        }
    }
}

#[test]
fn every_declared_default_is_what_an_unset_variable_means() {
    let unset = format!("{:?}", Config::from_lookup(|_| None).unwrap());
    for setting in SETTINGS {
        let default = match setting.kind {
            Kind::Number { default, .. } => default.to_string(),
            Kind::Switch { default } => if default { "on" } else { "off" }.to_string(),
            Kind::Text { default } => default.to_string(),
            _ => continue,
        };
        let explicit = Config::from_lookup(|name| (name == setting.variable).then(|| default.clone()));
        assert_eq!(format!("{:?}", explicit.unwrap()), unset, "{}={default} is not the default", setting.variable);
    }
}

#[test]
fn a_flag_wins_over_its_variable_and_a_bad_one_exits_2_naming_the_variable() {
    let output = Command::new(BIN)
        .env("TOKEND_BCRYPT_COST", "12")
        .args(["--bcrypt-cost", "9", "healthcheck"])
        .output()
        .expect("run tokend");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid configuration: TOKEND_BCRYPT_COST=\"9\""), "{stderr}");
}

#[test]
fn describing_commands_ignore_a_bad_configuration() {
    let output = Command::new(BIN).env("TOKEND_BCRYPT_COST", "nonsense").args(["settings", "snap-keys"]).output();
    let output = output.expect("run tokend");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).lines().any(|key| key == "port"));
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_commands_and_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let output = tokend(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        for word in ["healthcheck", "backup", "bcrypt-cost", "login-expiration-days"] {
            assert!(script.contains(word), "the {shell} completion lacks {word}");
        }
    }
    let renamed = tokend(&["completions", "bash", "--bin-name", "tokend.cli"]);
    assert!(String::from_utf8_lossy(&renamed.stdout).contains("tokend.cli"));
}

#[test]
fn the_man_page_documents_every_setting() {
    let output = tokend(&["man"]);
    assert!(output.status.success());
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH tokend"), "not roff: {}", &page[..page.len().min(200)]);
    for setting in SETTINGS {
        assert!(page.contains(setting.variable), "the man page lacks {}", setting.variable);
        assert!(page.contains(&setting.flag.replace('-', "\\-")), "the man page lacks --{}", setting.flag);
    }
}
