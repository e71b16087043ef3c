//! The Rocket.Chat REST dialect under `/api` (spec/rocketchat.md). One route table.

pub mod audit;
pub mod caller;
pub mod create_token;
pub mod email_2fa;
pub mod error;
pub mod extract;
pub mod gate;
pub mod login_request;
pub mod method_call;
pub mod pats;
pub mod permissions;
pub mod roles;
pub mod session;
pub mod target;
pub mod totp;
pub mod user_sessions;
pub mod users;
pub mod users_edit;
pub mod views;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, Route, web};
use error::RcError;

async fn method_not_allowed() -> HttpResponse {
    RcError::Status(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".into()).error_response()
}

async fn not_found() -> HttpResponse {
    RcError::NotFound("Resource not found".into()).error_response()
}

/// A resource answering `routes`, and 405 in the Rocket.Chat envelope for other methods.
fn resource(path: &str, routes: Vec<Route>) -> actix_web::Resource {
    routes.into_iter().fold(web::resource(path), |r, route| r.route(route)).default_service(web::to(method_not_allowed))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    cfg.service(
        web::scope("/api")
            .service(resource("/info", vec![get().to(session::info)]))
            .service(
                web::scope("/v1")
                    .service(resource("/login", vec![post().to(session::login)]))
                    .service(resource("/logout", vec![get().to(session::logout), post().to(session::logout)]))
                    .service(resource("/me", vec![get().to(session::me)]))
                    .service(resource("/users.create", vec![post().to(users::create)]))
                    .service(resource("/users.info", vec![get().to(users::info)]))
                    .service(resource("/users.list", vec![get().to(users::list)]))
                    .service(resource("/users.update", vec![post().to(users_edit::update)]))
                    .service(resource("/users.delete", vec![post().to(users_edit::delete)]))
                    .service(resource("/users.setActiveStatus", vec![post().to(users_edit::set_active_status)]))
                    .service(resource("/users.logout", vec![post().to(user_sessions::logout_user)]))
                    .service(resource(
                        "/users.logoutOtherClients",
                        vec![post().to(user_sessions::logout_other_clients)],
                    ))
                    .service(resource("/users.removeOtherTokens", vec![post().to(user_sessions::remove_other_tokens)]))
                    .service(resource("/users.createToken", vec![post().to(create_token::create_token)]))
                    .service(resource("/users.generatePersonalAccessToken", vec![post().to(pats::generate)]))
                    .service(resource("/users.regeneratePersonalAccessToken", vec![post().to(pats::regenerate)]))
                    .service(resource("/users.removePersonalAccessToken", vec![post().to(pats::remove)]))
                    .service(resource("/users.getPersonalAccessTokens", vec![get().to(pats::list)]))
                    .service(resource("/users.enableTotp", vec![post().to(totp::rest_enable)]))
                    .service(resource("/users.validateTotp", vec![post().to(totp::rest_validate)]))
                    .service(resource("/users.disableTotp", vec![post().to(totp::rest_disable)]))
                    .service(resource("/users.regenerateTotpCodes", vec![post().to(totp::rest_regenerate)]))
                    .service(resource("/users.totpCodesRemaining", vec![get().to(totp::rest_remaining)]))
                    .service(resource("/users.resetTOTP", vec![post().to(totp::rest_reset)]))
                    .service(resource("/users.2fa.enableEmail", vec![post().to(email_2fa::enable)]))
                    .service(resource("/users.2fa.disableEmail", vec![post().to(email_2fa::disable)]))
                    .service(resource("/users.2fa.sendEmailCode", vec![post().to(email_2fa::send_code)]))
                    .service(resource("/method.call/{method}", vec![post().to(method_call::method_call)]))
                    .service(resource("/method.callAnon/{method}", vec![post().to(method_call::method_call_anon)]))
                    .service(resource("/tokend.audit", vec![get().to(audit::list)]))
                    .service(resource("/permissions.listAll", vec![get().to(permissions::list_all)]))
                    .service(resource("/permissions.update", vec![post().to(permissions::update)]))
                    .service(resource("/roles.list", vec![get().to(roles::list)]))
                    .service(resource("/roles.create", vec![post().to(roles::create)]))
                    .service(resource("/roles.addUserToRole", vec![post().to(roles::add_user_to_role)]))
                    .service(resource("/roles.removeUserFromRole", vec![post().to(roles::remove_user_from_role)]))
                    .service(resource("/roles.getUsersInRole", vec![get().to(roles::get_users_in_role)])),
            )
            .default_service(web::to(not_found)),
    );
}

/// Used by the app-wide fallback so unknown paths still get a JSON body.
pub async fn fallback() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"success": false, "error": "Resource not found"}))
}
