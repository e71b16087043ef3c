//! The SAYMON REST dialect under `/node/api` (spec/saymon.md). One route table.

pub mod auth;
pub mod error;
pub mod extract;
pub mod session;
pub mod tokens;
pub mod user_edit;
pub mod users;
pub mod views;

use actix_web::{HttpRequest, HttpResponse, ResponseError, Route, web};
use error::SaymonError;

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    SaymonError::MethodNotAllowed(req.method().to_string()).error_response()
}

async fn no_route(req: HttpRequest) -> HttpResponse {
    SaymonError::NoRoute(req.path().to_string()).error_response()
}

/// A resource answering `routes`, and 405 in SAYMON's envelope for other methods.
fn resource(path: &str, routes: Vec<Route>) -> actix_web::Resource {
    routes.into_iter().fold(web::resource(path), |r, route| r.route(route)).default_service(web::to(method_not_allowed))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, patch, post, put};
    cfg.service(
        web::scope("/node/api")
            // Fixed paths first: they would otherwise match `/users/{id}`.
            .service(resource("/users/session", vec![post().to(session::create), delete().to(session::delete)]))
            .service(resource("/users/current", vec![get().to(users::current)]))
            .service(resource("/users", vec![get().to(users::list), post().to(users::create)]))
            .service(resource(
                "/users/{id}",
                vec![get().to(users::get), patch().to(user_edit::patch), delete().to(user_edit::delete)],
            ))
            .service(resource("/users/{id}/auth-token", vec![post().to(tokens::create), delete().to(tokens::delete)]))
            .service(resource("/users/{id}/password", vec![put().to(user_edit::set_password)]))
            .default_service(web::to(no_route)),
    );
}
