//! The HTTP dialects tokend speaks. Each has its own error envelope and route table.

pub mod client_addr;
pub mod rate_limit;
pub mod request_limits;
pub mod rocketchat;
pub mod saymon;
pub mod strict_json;
