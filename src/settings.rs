//! The settings every sub-command of the `tokend` binary shares (this module belongs to the
//! binary, not the library): one global flag per declared setting (`tokend::config::SETTINGS`),
//! each falling back to its environment variable, so `--help` lists them all.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use std::collections::HashMap;
use tokend::config::SETTINGS;

/// The raw values clap resolved (flag, else environment), by variable name.
pub struct Settings {
    values: HashMap<&'static str, String>,
}

impl Settings {
    /// The raw value for a variable name, as clap resolved it (flag, else environment).
    pub fn lookup(&self, name: &str) -> Option<String> {
        match self.values.get(name) {
            Some(value) => Some(value.clone()),
            None if SETTINGS.iter().any(|s| s.variable == name) => None,
            None => std::env::var(name).ok(),
        }
    }
}

impl FromArgMatches for Settings {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let values = SETTINGS
            .iter()
            .filter_map(|s| matches.get_one::<String>(s.variable).map(|v| (s.variable, v.clone())))
            .collect();
        Ok(Settings { values })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Settings::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for Settings {
    fn augment_args(command: Command) -> Command {
        SETTINGS.iter().fold(command.next_help_heading("Settings (each flag mirrors its variable)"), |command, s| {
            command.arg(
                Arg::new(s.variable)
                    .long(s.flag)
                    .env(s.variable)
                    .global(true)
                    .value_name("VALUE")
                    // help_plain names the variable; clap's own echo would show its value.
                    .hide_env(true)
                    .help(s.help_plain()),
            )
        })
    }

    fn augment_args_for_update(command: Command) -> Command {
        Settings::augment_args(command)
    }
}
