//! The shape of one setting's declaration. Every setting tokend reads is declared once, as a
//! `Setting` in `variables.rs`; the command line, the environment reading and validation
//! (`config.rs`), `tokend --help`, the snap keys (`snap.rs`) and the README's configuration
//! table (`markdown.rs`) are all derived from those declarations.

/// What values a setting takes, and its default when unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Number { default: u32, min: u32, max: u32 },
    /// on/off; true/false, yes/no and 1/0 are accepted too.
    Switch { default: bool },
    /// Text checked by its own parser in `config.rs`; `default` applies when unset.
    Text { default: &'static str },
    /// Text that may stay unset; `unset` says, in words, what happens then.
    Optional { unset: &'static str },
    /// A whole number in `min..=max` that may stay unset; `unset` says what happens then.
    OptionalNumber { unset: &'static str, min: u32, max: u32 },
    /// An `env_logger` filter (`RUST_LOG`), read by the logger rather than by `Config`.
    LogFilter { default: &'static str },
}

/// How a setting appears among the `snap set tokend` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Snap {
    /// Not a snap key: set it in an env file (secrets, and what the snap fixes itself).
    None,
    /// A key named like the flag, exported as the variable unchanged.
    Key,
    /// The two keys `bind-address` and `port`, joined into `host:port`.
    BindAddressAndPort,
    /// `create-tokens-for-users`: `true` turns the 7.x mode on, `false` turns
    /// `users.createToken` off whatever the env files say.
    CreateTokens,
}

#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// The environment variable.
    pub variable: &'static str,
    /// The command-line flag, without its leading `--`.
    pub flag: &'static str,
    pub kind: Kind,
    /// One paragraph for `--help` and the README (Markdown: backticks only).
    pub help: &'static str,
    /// Hidden from `--help`'s environment echo and from snap keys.
    pub secret: bool,
    pub snap: Snap,
    /// What the snap's install and post-refresh hooks give an unset key.
    pub snap_default: Option<&'static str>,
}

impl Setting {
    const fn new(variable: &'static str, flag: &'static str, kind: Kind, help: &'static str) -> Setting {
        Setting { variable, flag, kind, help, secret: false, snap: Snap::Key, snap_default: None }
    }

    pub const fn number(
        variable: &'static str,
        flag: &'static str,
        (default, min, max): (u32, u32, u32),
        help: &'static str,
    ) -> Setting {
        Setting::new(variable, flag, Kind::Number { default, min, max }, help)
    }

    pub const fn switch(variable: &'static str, flag: &'static str, default: bool, help: &'static str) -> Setting {
        Setting::new(variable, flag, Kind::Switch { default }, help)
    }

    pub const fn text(
        variable: &'static str,
        flag: &'static str,
        default: &'static str,
        help: &'static str,
    ) -> Setting {
        Setting::new(variable, flag, Kind::Text { default }, help)
    }

    pub const fn optional(
        variable: &'static str,
        flag: &'static str,
        unset: &'static str,
        help: &'static str,
    ) -> Setting {
        Setting::new(variable, flag, Kind::Optional { unset }, help)
    }

    pub const fn optional_number(
        variable: &'static str,
        flag: &'static str,
        unset: &'static str,
        (min, max): (u32, u32),
        help: &'static str,
    ) -> Setting {
        Setting::new(variable, flag, Kind::OptionalNumber { unset, min, max }, help)
    }

    pub const fn log_filter(
        variable: &'static str,
        flag: &'static str,
        default: &'static str,
        help: &'static str,
    ) -> Setting {
        Setting::new(variable, flag, Kind::LogFilter { default }, help)
    }

    /// A secret: never echoed by `--help`, never a snap key (`snap get` would show it).
    pub const fn secret(self) -> Setting {
        Setting { secret: true, snap: Snap::None, ..self }
    }

    pub const fn snap(self, snap: Snap) -> Setting {
        Setting { snap, ..self }
    }

    pub const fn snap_default(self, value: &'static str) -> Setting {
        Setting { snap_default: Some(value), ..self }
    }

    /// The default as a person reads it: a value in backticks, or words.
    pub fn default_markdown(&self) -> String {
        match self.kind {
            Kind::Number { default, .. } => format!("`{default}`"),
            Kind::Switch { default } => format!("`{}`", if default { "on" } else { "off" }),
            Kind::Text { default } | Kind::LogFilter { default } => format!("`{default}`"),
            Kind::Optional { unset } | Kind::OptionalNumber { unset, .. } => unset.to_string(),
        }
    }

    /// The `--help` and man-page text of the flag: the help without Markdown, then the range,
    /// the variable and the default. Never a value from the environment.
    pub fn help_plain(&self) -> String {
        let range = match self.kind {
            Kind::Number { min, max, .. } | Kind::OptionalNumber { min, max, .. } => format!(" ({min}..={max})"),
            _ => String::new(),
        };
        format!(
            "{}{range} [env: {}] [default: {}]",
            self.help.replace('`', ""),
            self.variable,
            self.default_markdown().replace('`', "")
        )
    }
}
