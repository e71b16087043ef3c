//! Sub-commands that describe tokend rather than run it (this module belongs to the binary):
//! shell completions, the man page, and what the README and the snap's hooks derive from the
//! settings' declarations. None of them reads the configuration, so a bad setting in the
//! environment never stops them.

use clap::Subcommand;
use std::io::Write;
use std::process::ExitCode;
use tokend::config::{markdown, snap};

#[derive(Subcommand)]
pub enum DescribeCommand {
    /// Print the shell completion script for SHELL.
    Completions {
        shell: clap_complete::Shell,
        /// The command name to complete (the snap's is tokend.cli)
        #[arg(long, default_value = "tokend")]
        bin_name: String,
    },
    /// Print the man page, tokend(1), in roff.
    Man,
    /// What the README and the snap's hooks derive from the settings' declarations.
    #[command(subcommand)]
    Settings(SettingsCommand),
}

/// Runs a describing command; `cli` is the whole command-line definition.
pub fn describe(command: DescribeCommand, cli: clap::Command) -> ExitCode {
    match command {
        DescribeCommand::Completions { shell, bin_name } => completions(cli, shell, &bin_name),
        DescribeCommand::Man => man(cli),
        DescribeCommand::Settings(command) => settings(command),
    }
}

#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print README.md's configuration table, rendered from the settings' declarations.
    Markdown,
    /// Print the `snap set tokend` keys, one a line.
    SnapKeys,
    /// Print KEY=VALUE for each snap key the install hook gives a default.
    SnapDefaults,
    /// Check snap keys: prints one line per refused KEY=VALUE and exits 1 if any was refused.
    SnapCheck {
        /// KEY=VALUE pairs, as `snapctl get` returns them (an empty value means unset)
        pairs: Vec<String>,
    },
    /// Print sh that exports what the snap keys say (the launcher evaluates it).
    SnapEnv {
        /// KEY=VALUE pairs, as `snapctl get` returns them (an empty value means unset)
        pairs: Vec<String>,
    },
}

fn settings(command: SettingsCommand) -> ExitCode {
    match command {
        SettingsCommand::Markdown => print!("{}", markdown::table()),
        SettingsCommand::SnapKeys => snap::keys().iter().for_each(|k| println!("{}", k.name)),
        SettingsCommand::SnapDefaults => {
            snap::keys().iter().filter_map(|k| k.default.map(|d| (k.name, d))).for_each(|(k, d)| println!("{k}={d}"))
        }
        SettingsCommand::SnapCheck { pairs } => {
            let refused: Vec<String> =
                split(&pairs).iter().filter_map(|(key, value)| snap::check(key, value).err()).collect();
            refused.iter().for_each(|why| println!("{why}"));
            if !refused.is_empty() {
                return ExitCode::FAILURE;
            }
        }
        SettingsCommand::SnapEnv { pairs } => print!("{}", snap::environment(&split(&pairs))),
    }
    ExitCode::SUCCESS
}

/// `key=value` → `(key, value)`; an argument without `=` is a key with an empty value.
fn split(pairs: &[String]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (pair.clone(), String::new()),
        })
        .collect()
}

/// The completion script for `shell`, for the command named `bin_name`.
fn completions(mut command: clap::Command, shell: clap_complete::Shell, bin_name: &str) -> ExitCode {
    clap_complete::generate(shell, &mut command, bin_name, &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// The man page, tokend(1), in roff.
fn man(command: clap::Command) -> ExitCode {
    let mut page = Vec::new();
    if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
        eprintln!("tokend man: {e}");
        return ExitCode::FAILURE;
    }
    match std::io::stdout().write_all(&page) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokend man: {e}");
            ExitCode::FAILURE
        }
    }
}
