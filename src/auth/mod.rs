//! Credentials: passwords, tokens, identifiers and randomness. No HTTP, no SQL.

pub mod hashing_pool;
mod hashing_priority;
pub mod ids;
pub mod password;
pub mod random;
pub mod token;
pub mod totp;
pub mod vault;
