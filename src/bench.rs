//! `tokend bench ...`: what bench/run.sh needs from inside the binary. Hidden from `--help`;
//! seeding refuses any store but a fresh one, so it cannot touch a store in real use.

use crate::auth::password::PasswordDigest;
use crate::clock::now_ms;
use crate::config::Config;
use crate::db::{Db, bench_seed};
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Fill a fresh store (only its first admin) with USERS users and TOKENS login tokens
    /// whose plaintexts are PREFIX followed by the 10-digit token index; prints the users'
    /// ids, one a line (token i belongs to user i % USERS).
    Seed {
        #[arg(long)]
        users: u64,
        #[arg(long)]
        tokens: u64,
        #[arg(long)]
        prefix: String,
    },
    /// Print the median time in milliseconds of one bcrypt verify at TOKEND_BCRYPT_COST
    /// (on this thread, at normal priority), over ROUNDS verifies.
    Bcrypt {
        #[arg(long, default_value_t = 15)]
        rounds: u32,
    },
}

/// Runs one command; returns what to print.
pub fn run(config: &Config, command: BenchCommand) -> Result<String, String> {
    match command {
        BenchCommand::Seed { users, tokens, prefix } => {
            let db = Db::open(config).map_err(|e| e.to_string())?;
            let (now, lifetime) = (now_ms(), config.login_token_lifetime().as_millis() as i64);
            let ids = db
                .write_now(crate::db::Scope::global(), |tx| bench_seed::seed(tx, users, tokens, &prefix, now, lifetime))
                .map_err(|e| e.to_string())?;
            // One tidy file, so its size on disk is the size of what was stored.
            db.checkpoint().map_err(|e| e.to_string())?;
            Ok(ids.join("\n"))
        }
        BenchCommand::Bcrypt { rounds } => {
            let digest = PasswordDigest::of_plaintext("a benchmark password");
            let hash = bcrypt::hash(digest.as_str(), config.bcrypt_cost).map_err(|e| e.to_string())?;
            let mut times: Vec<f64> = (0..rounds.max(1))
                .map(|_| {
                    let start = Instant::now();
                    let _ = bcrypt::verify(digest.as_str(), &hash);
                    start.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            times.sort_by(f64::total_cmp);
            Ok(format!("{:.3}", times[times.len() / 2]))
        }
    }
}
