//! The HTTP dialects tokend speaks. Each has its own error envelope and route table.

pub mod client_addr;
pub mod openapi;
pub mod rate_limit;
pub mod request_limits;
pub mod rocketchat;
pub mod route_table;
pub mod saymon;
pub mod strict_json;

/// `(path, method)` of every route tokend serves, both dialects.
pub fn endpoints() -> Vec<(&'static str, actix_web::http::Method)> {
    rocketchat::endpoints().into_iter().chain(saymon::endpoints()).collect()
}
