//! A dialect's routes as data: each endpoint is a method, a path and a handler, and the
//! same table both registers the routes and lists them. actix cannot enumerate what it
//! serves, so this is what lets a test compare the server with openapi.json.

use crate::api::observe::RoutePattern;
use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route, Scope, web};

/// One method on one path, e.g. `POST /api/v1/login`.
pub struct Endpoint {
    pub method: Method,
    /// The full path from the server root, with actix's `{name}` segments (as in OpenAPI).
    pub path: &'static str,
    route: Route,
}

impl Endpoint {
    pub fn new<F, Args>(method: Method, path: &'static str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Endpoint { route: web::method(method.clone()).to(handler), method, path }
    }
}

pub fn get<F, Args>(path: &'static str, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint::new(Method::GET, path, handler)
}

pub fn post<F, Args>(path: &'static str, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint::new(Method::POST, path, handler)
}

/// `(path, method)` of every endpoint, for tests and documentation checks.
pub fn list(table: &[Endpoint]) -> Vec<(&'static str, Method)> {
    table.iter().map(|e| (e.path, e.method.clone())).collect()
}

/// A dialect's answer to a method its path does not serve (405 in its own envelope).
pub type MethodNotAllowed = fn(&HttpRequest) -> HttpResponse;

/// A scope at `prefix` serving `table` (whose paths must all start with `prefix`): one
/// resource per path, in the order paths first appear. Other methods get
/// `method_not_allowed` with the `Allow` header RFC 9110 requires. Order matters: a fixed
/// path listed before `/users/{id}` wins.
pub fn scope(prefix: &'static str, table: Vec<Endpoint>, method_not_allowed: MethodNotAllowed) -> Scope {
    let mut by_path: Vec<(&'static str, Vec<Method>, Vec<Route>)> = Vec::new();
    for endpoint in table {
        match by_path.iter_mut().find(|(path, _, _)| *path == endpoint.path) {
            Some((_, methods, routes)) => {
                methods.push(endpoint.method);
                routes.push(endpoint.route);
            }
            None => by_path.push((endpoint.path, vec![endpoint.method], vec![endpoint.route])),
        }
    }
    by_path.into_iter().fold(web::scope(prefix), |scope, (path, methods, routes)| {
        let relative = path.strip_prefix(prefix).unwrap_or_else(|| panic!("route {path} is outside {prefix}"));
        let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        let refuse = move |req: HttpRequest| {
            let mut response = method_not_allowed(&req);
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(ALLOW, value);
            }
            std::future::ready(response)
        };
        // The pattern, for the metrics' and access log's route label (`api::observe`).
        let resource = web::resource(relative).app_data(RoutePattern(path));
        let resource = routes.into_iter().fold(resource, Resource::route);
        scope.service(resource.default_service(web::to(refuse)))
    })
}
