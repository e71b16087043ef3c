//! The SAYMON REST dialect under `/node/api` (spec/saymon.md). One route table.

pub mod auth;
pub mod error;
pub mod extract;
pub mod refusal;
pub mod same_origin;
pub mod session;
pub mod tokens;
pub mod user_edit;
pub mod users;
pub mod views;

use crate::api::route_table::{self, Endpoint};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use error::SaymonError;

fn method_not_allowed(req: &HttpRequest) -> HttpResponse {
    SaymonError::MethodNotAllowed(req.method().to_string()).error_response()
}

async fn no_route(req: HttpRequest) -> HttpResponse {
    SaymonError::NoRoute(req.path().to_string()).error_response()
}

/// Every endpoint of the dialect. openapi.json documents exactly these (tests/api/contract.rs).
/// Fixed paths come first: they would otherwise match `/users/{id}`.
fn table() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/node/api/users/session", session::create),
        Endpoint::new(Method::DELETE, "/node/api/users/session", session::delete),
        Endpoint::new(Method::GET, "/node/api/users/current", users::current),
        Endpoint::new(Method::GET, "/node/api/users", users::list),
        Endpoint::new(Method::POST, "/node/api/users", users::create),
        Endpoint::new(Method::GET, "/node/api/users/{id}", users::get),
        Endpoint::new(Method::PATCH, "/node/api/users/{id}", user_edit::patch),
        Endpoint::new(Method::DELETE, "/node/api/users/{id}", user_edit::delete),
        Endpoint::new(Method::POST, "/node/api/users/{id}/auth-token", tokens::create),
        Endpoint::new(Method::DELETE, "/node/api/users/{id}/auth-token", tokens::delete),
        Endpoint::new(Method::PUT, "/node/api/users/{id}/password", user_edit::set_password),
    ]
}

/// `(path, method)` of every route this dialect serves.
pub fn endpoints() -> Vec<(&'static str, Method)> {
    route_table::list(&table())
}

/// `(path, method)` of every route of this dialect that may change state.
pub fn changing_endpoints() -> Vec<(&'static str, Method)> {
    route_table::list_changing(&table())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(route_table::scope("/node/api", table(), method_not_allowed).default_service(web::to(no_route)));
}
