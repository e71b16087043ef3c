//! Fills a benchmark store quickly: many users and login tokens in one transaction, without
//! HTTP or bcrypt. Token plaintexts are derived from a caller-chosen prefix and their index
//! so the load generator can rebuild them; only their SHA-256 is stored, as for any token.

use super::sql::{Sql, params};
use crate::auth::random;
use crate::auth::token::{TOKEN_LENGTH, TokenHash};
use crate::clock::Millis;
use crate::error::{Error, Result};

/// Digits of the token index at the end of every seeded token.
pub const INDEX_DIGITS: usize = 10;
/// Length of the prefix: with the index, a token has the length of a real one.
pub const PREFIX_LENGTH: usize = TOKEN_LENGTH - INDEX_DIGITS;

/// The plaintext of seeded token number `index` (what the load generator sends).
pub fn token(prefix: &str, index: u64) -> String {
    format!("{prefix}{index:0width$}", width = INDEX_DIGITS)
}

/// The SAYMON API token of seeded user `index`: a UUID built from the index (benchmark
/// stores only), so the load generator can rebuild it; stored by SHA-256 like any other.
pub fn api_token(index: u64) -> String {
    format!("5eed0000-0000-4000-8000-{index:012x}")
}

/// Creates `users` users (`bench-0`, `bench-1`, ...; role `user`, no password), each with a
/// SAYMON API token (`api_token`), and `tokens` login tokens, token `i` belonging to user
/// `i % users`. Returns the users' ids in order.
/// Refuses a store that holds anything but its first admin: seeding is for benchmark
/// stores, never for one that serves real accounts.
pub fn seed(
    conn: &dyn Sql,
    users: u64,
    tokens: u64,
    prefix: &str,
    now: Millis,
    lifetime: Millis,
) -> Result<Vec<String>> {
    let existing: i64 = conn.query_one("SELECT count(*) FROM users", params![], |r| r.get(0))?;
    if existing > 1 {
        return Err(Error::Conflict(format!("the store already has {existing} users; seed a fresh one")));
    }
    if users == 0 || prefix.len() != PREFIX_LENGTH || !prefix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Conflict(format!(
            "need at least one user and a prefix of {PREFIX_LENGTH} letters or digits"
        )));
    }
    let mut ids = Vec::with_capacity(users as usize);
    // Each statement is prepared once and cached by the executor across the loops.
    const ADD_USER: &str =
        "INSERT INTO users (id, username, name, active, created_at, updated_at) VALUES (?1, ?2, ?2, 1, ?3, ?3)";
    const ADD_ROLE: &str = "INSERT INTO user_roles (user_id, role_id) VALUES (?1, 'user')";
    const ADD_API_TOKEN: &str =
        "INSERT INTO saymon_tokens (user_id, token_hash, last_part, created_at) VALUES (?1, ?2, ?3, ?4)";
    const ADD_TOKEN: &str = "INSERT INTO tokens (user_id, token_hash, kind, last_part, created_at, expires_at)
         VALUES (?1, ?2, 'login', ?3, ?4, ?5)";
    for i in 0..users {
        let id = random::user_id();
        conn.exec(ADD_USER, params![id, format!("bench-{i}"), now])?;
        conn.exec(ADD_ROLE, params![id])?;
        let api_token = api_token(i);
        conn.exec(ADD_API_TOKEN, params![id, TokenHash::of(&api_token).as_bytes(), &api_token[32..], now])?;
        ids.push(id);
    }
    for i in 0..tokens {
        let plain = token(prefix, i);
        let hash = TokenHash::of(&plain);
        let owner = &ids[(i % users) as usize];
        conn.exec(ADD_TOKEN, params![owner, hash.as_bytes(), &plain[plain.len() - 6..], now, now + lifetime])?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_tokens_have_the_shape_of_real_ones() {
        let prefix = "a".repeat(PREFIX_LENGTH);
        let t = token(&prefix, 42);
        assert!(crate::auth::token::is_plausible(&t));
        assert!(t.ends_with("0000000042"));
        assert!(crate::accounts::saymon::is_uuid(&api_token(42)), "{}", api_token(42));
    }
}
