//! The `tokend` binary: `serve` (the default), `healthcheck`, operator commands, and the
//! commands that describe it (completions, man page, settings). Every setting is an
//! environment variable; each has a flag of the same meaning, and flags win.

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;
use tokend::admin::AdminCommand;
use tokend::config::{self, Config};
use tokend::db::inventory::KindFilter;
use tokend::startup::Application;

mod settings;
mod tools;
use settings::Settings;

#[derive(Parser)]
#[command(name = "tokend", version, about = "Authentication-token server speaking Rocket.Chat and SAYMON REST")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Run(RunCommand),
    #[command(flatten)]
    Describe(tools::DescribeCommand),
}

/// The commands that read the configuration.
#[derive(Subcommand)]
enum RunCommand {
    /// Run the server (the default).
    Serve,
    /// Exit 0 when the server at TOKEND_BIND answers, 1 otherwise.
    Healthcheck,
    /// Copy the database consistently to PATH (safe while the server runs).
    Backup {
        /// Where to write the copy; must not exist yet
        path: std::path::PathBuf,
    },
    /// Operator commands on the database in TOKEND_DATA_DIR (safe while the server runs).
    #[command(subcommand)]
    Admin(AdminCli),
    /// Helpers of bench/run.sh (see src/bench.rs); not for production stores.
    #[command(subcommand, hide = true)]
    Bench(tokend::bench::BenchCommand),
}

#[derive(Subcommand)]
enum AdminCli {
    /// Mint a login token for a user and print it once.
    MintToken {
        /// Username or user id
        #[arg(long)]
        user: String,
    },
    /// List a user's tokens: kinds, names, last parts, dates. Never secrets.
    ListTokens {
        /// Username or user id
        #[arg(long)]
        user: String,
    },
    /// Revoke one session (an ID from list-tokens, e.g. login-12) or one PAT of a user.
    RevokeToken {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// A session id: login-N or saymon-N
        #[arg(long)]
        session: Option<String>,
        /// A personal access token's name
        #[arg(long)]
        pat: Option<String>,
    },
    /// Revoke a user's tokens.
    RevokeTokens {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// Which tokens: login, pat or all
        #[arg(long, value_enum, default_value = "all")]
        kind: KindArg,
    },
    /// Print the newest audit events, oldest first.
    Audit {
        /// How many events
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only events whose actor or subject is this username or id
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Login,
    Pat,
    All,
}

impl From<AdminCli> for AdminCommand {
    fn from(cli: AdminCli) -> Self {
        match cli {
            AdminCli::MintToken { user } => AdminCommand::MintToken { user },
            AdminCli::ListTokens { user } => AdminCommand::ListTokens { user },
            AdminCli::RevokeToken { user, session, pat } => AdminCommand::RevokeToken { user, session, pat },
            AdminCli::RevokeTokens { user, kind } => AdminCommand::RevokeTokens {
                user,
                kind: match kind {
                    KindArg::Login => KindFilter::Login,
                    KindArg::Pat => KindFilter::Pat,
                    KindArg::All => KindFilter::All,
                },
            },
            AdminCli::Audit { limit, user } => AdminCommand::Audit { limit: limit.max(1), user },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run(RunCommand::Serve)) {
        Command::Describe(command) => tools::describe(command, Cli::command()),
        Command::Run(command) => run(&cli.settings, command),
    }
}

fn run(settings: &Settings, command: RunCommand) -> ExitCode {
    let log_filter = match (settings.lookup(config::variables::LOG_LEVEL.variable), config::variables::LOG_LEVEL.kind) {
        (Some(filter), _) => filter,
        (None, config::Kind::LogFilter { default }) => default.to_string(),
        (None, _) => "info".to_string(),
    };
    let config = match Config::from_lookup(|name| settings.lookup(name)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tokend: {e}");
            return ExitCode::from(2);
        }
    };
    // After the configuration, which says the format; its errors go to stderr directly.
    // Held to the end of `run`: its drop writes the log lines still queued.
    let _log_output = tokend::logging::init(&log_filter, config.observability.log_format);
    let env_names: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    for unknown in config::unknown_variables(env_names.iter().map(String::as_str)) {
        log::warn!("ignoring unknown variable {unknown} (see tokend --help for the known ones)");
    }
    match command {
        RunCommand::Serve => serve(config),
        RunCommand::Admin(cmd) => admin(config, cmd.into()),
        RunCommand::Bench(cmd) => match tokend::bench::run(&config, cmd) {
            Ok(out) => {
                println!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tokend bench: {e}");
                ExitCode::FAILURE
            }
        },
        RunCommand::Backup { path } => match tokend::backup::run(&config, &path) {
            Ok(bytes) => {
                println!("backed up {} to {} ({bytes} bytes)", config.database_path().display(), path.display());
                let key = tokend::backup::key_path(&path);
                if key.exists() {
                    println!("copied the key that seals TOTP secrets to {}; restore both together", key.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tokend backup: {e}");
                ExitCode::FAILURE
            }
        },
        RunCommand::Healthcheck => match tokend::healthcheck::check(config.bind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("tokend healthcheck: {why}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(config: Config) -> ExitCode {
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async move {
        let app = match Application::build(config) {
            Ok(app) => app,
            Err(e) => {
                eprintln!("tokend: {e}");
                return ExitCode::from(2);
            }
        };
        match app.run_until_signalled().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tokend: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn admin(config: Config, command: AdminCommand) -> ExitCode {
    let db = match tokend::db::Db::open(&config) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("tokend: {e}");
            return ExitCode::from(2);
        }
    };
    let state = match tokend::accounts::Accounts::new(config, db) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("tokend: {e}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(tokend::admin::run(&state, command));
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tokend admin: {e}");
            ExitCode::FAILURE
        }
    }
}
