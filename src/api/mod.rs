//! The HTTP dialects tokend speaks. Each has its own error envelope and route table.

pub mod auth_first;
pub mod client_addr;
pub mod observe;
pub mod openapi;
pub mod rate_limit;
pub mod request_limits;
pub mod rocketchat;
pub mod route_table;
pub mod saymon;
pub mod state;
pub mod strict_json;

/// Whether `path` belongs to the SAYMON dialect; everything else answers in Rocket.Chat's.
/// What runs before routing (limits, the rate limiter) picks its error envelope by this.
pub fn is_saymon_path(path: &str) -> bool {
    path.starts_with("/node/")
}

/// `(path, method)` of every route tokend serves, both dialects.
pub fn endpoints() -> Vec<(&'static str, actix_web::http::Method)> {
    rocketchat::endpoints().into_iter().chain(saymon::endpoints()).collect()
}
