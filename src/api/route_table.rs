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
    /// Whether the route may change anything: every method but GET and HEAD, and the GET
    /// routes marked with `changing`. A read-only token is refused on these.
    pub changes_state: bool,
    route: Route,
}

impl Endpoint {
    pub fn new<F, Args>(method: Method, path: &'static str, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let changes_state = !matches!(method, Method::GET | Method::HEAD);
        Endpoint { route: web::method(method.clone()).to(handler), method, path, changes_state }
    }

    /// Marks a GET route that changes state anyway (Rocket.Chat's `GET /logout`).
    pub fn changing(mut self) -> Self {
        self.changes_state = true;
        self
    }
}

/// The methods of one path that change state, attached to its resource so that the
/// authentication extractors can refuse a read-only token there (`state_changing`).
#[derive(Clone, Debug, Default)]
pub struct ChangingMethods(Vec<Method>);

/// Whether the route this request matched may change state. A request that matched no
/// route of a table counts as changing (fail closed).
pub fn state_changing(req: &HttpRequest) -> bool {
    req.app_data::<ChangingMethods>().is_none_or(|m| m.0.contains(req.method()))
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

/// `(path, method)` of every endpoint that may change state, for tests and documentation.
pub fn list_changing(table: &[Endpoint]) -> Vec<(&'static str, Method)> {
    table.iter().filter(|e| e.changes_state).map(|e| (e.path, e.method.clone())).collect()
}

/// A dialect's answer to a method its path does not serve (405 in its own envelope).
pub type MethodNotAllowed = fn(&HttpRequest) -> HttpResponse;

/// A scope at `prefix` serving `table` (whose paths must all start with `prefix`): one
/// resource per path, in the order paths first appear. Other methods get
/// `method_not_allowed` with the `Allow` header RFC 9110 requires. Order matters: a fixed
/// path listed before `/users/{id}` wins.
pub fn scope(prefix: &'static str, table: Vec<Endpoint>, method_not_allowed: MethodNotAllowed) -> Scope {
    let mut by_path: Vec<(&'static str, Vec<Method>, ChangingMethods, Vec<Route>)> = Vec::new();
    for endpoint in table {
        let index = match by_path.iter().position(|(path, ..)| *path == endpoint.path) {
            Some(index) => index,
            None => {
                by_path.push((endpoint.path, Vec::new(), ChangingMethods::default(), Vec::new()));
                by_path.len() - 1
            }
        };
        let (_, methods, changing, routes) = &mut by_path[index];
        if endpoint.changes_state {
            changing.0.push(endpoint.method.clone());
        }
        methods.push(endpoint.method);
        routes.push(endpoint.route);
    }
    by_path.into_iter().fold(web::scope(prefix), |scope, (path, methods, changing, routes)| {
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
        let resource = web::resource(relative).app_data(changing).app_data(RoutePattern(path));
        let resource = routes.into_iter().fold(resource, Resource::route);
        scope.service(resource.default_service(web::to(refuse)))
    })
}
