//! The Rocket.Chat REST dialect under `/api` (spec/rocketchat.md). One route table, which
//! also serves the published contract at `/api/openapi.json`.

pub mod audit;
pub mod avatar;
pub mod caller;
pub mod create_token;
pub mod email_2fa;
pub mod error;
pub mod extract;
pub mod gate;
pub mod login_request;
pub mod method_call;
pub mod method_login;
pub mod own_account;
pub mod pats;
pub mod permissions;
pub mod ready;
pub mod refusal;
pub mod roles;
pub mod self_service;
pub mod session;
pub mod status;
pub mod target;
pub mod token_views;
pub mod totp;
pub mod user_sessions;
pub mod users;
pub mod users_edit;
pub mod views;

use crate::api::openapi;
use crate::api::route_table::{self, Endpoint, get, post};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use error::RcError;

fn method_not_allowed(_: &HttpRequest) -> HttpResponse {
    RcError::Status(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".into()).error_response()
}

async fn not_found() -> HttpResponse {
    RcError::NotFound("Resource not found".into()).error_response()
}

/// Every endpoint of the dialect. openapi.json documents exactly these (tests/api/contract.rs).
fn table() -> Vec<Endpoint> {
    vec![
        get("/api/info", session::info),
        get(ready::PATH, ready::ready),
        get("/api/openapi.json", openapi::document),
        post("/api/v1/login", session::login),
        get("/api/v1/logout", session::logout).changing(),
        post("/api/v1/logout", session::logout),
        get("/api/v1/me", session::me),
        post("/api/v1/users.create", users::create),
        get("/api/v1/users.info", users::info),
        get("/api/v1/users.list", users::list),
        get("/api/v1/users.getAvatar", avatar::get_avatar),
        post("/api/v1/users.setStatus", status::set_status),
        get("/api/v1/users.getStatus", status::get_status),
        get("/api/v1/users.getPresence", status::get_presence),
        post("/api/v1/users.update", users_edit::update),
        post("/api/v1/users.updateOwnBasicInfo", own_account::update_own_basic_info),
        post("/api/v1/users.register", self_service::register),
        post("/api/v1/users.deleteOwnAccount", self_service::delete_own_account),
        post("/api/v1/users.forgotPassword", self_service::forgot_password),
        get("/api/v1/settings.public", self_service::public_settings),
        post("/api/v1/users.delete", users_edit::delete),
        post("/api/v1/users.setActiveStatus", users_edit::set_active_status),
        post("/api/v1/users.logout", user_sessions::logout_user),
        post("/api/v1/users.logoutOtherClients", user_sessions::logout_other_clients),
        post("/api/v1/users.removeOtherTokens", user_sessions::remove_other_tokens),
        post("/api/v1/users.createToken", create_token::create_token),
        post("/api/v1/users.generatePersonalAccessToken", pats::generate),
        post("/api/v1/users.regeneratePersonalAccessToken", pats::regenerate),
        post("/api/v1/users.removePersonalAccessToken", pats::remove),
        get("/api/v1/users.getPersonalAccessTokens", pats::list),
        post("/api/v1/users.enableTotp", totp::rest_enable),
        post("/api/v1/users.validateTotp", totp::rest_validate),
        post("/api/v1/users.disableTotp", totp::rest_disable),
        post("/api/v1/users.regenerateTotpCodes", totp::rest_regenerate),
        get("/api/v1/users.totpCodesRemaining", totp::rest_remaining),
        post("/api/v1/users.resetTOTP", totp::rest_reset),
        post("/api/v1/users.2fa.enableEmail", email_2fa::enable),
        post("/api/v1/users.2fa.disableEmail", email_2fa::disable),
        post("/api/v1/users.2fa.sendEmailCode", email_2fa::send_code),
        post("/api/v1/method.call/{method}", method_call::method_call),
        post("/api/v1/method.callAnon/{method}", method_call::method_call_anon),
        get("/api/v1/tokend.audit", audit::list),
        get("/api/v1/tokend.userTokens", token_views::user_tokens),
        post("/api/v1/tokend.revokeToken", token_views::revoke),
        get("/api/v1/sessions/list", token_views::list_mine),
        post("/api/v1/sessions/logout.me", token_views::logout_mine),
        get("/api/v1/permissions.listAll", permissions::list_all),
        post("/api/v1/permissions.update", permissions::update),
        get("/api/v1/roles.list", roles::list),
        post("/api/v1/roles.create", roles::create),
        post("/api/v1/roles.addUserToRole", roles::add_user_to_role),
        post("/api/v1/roles.removeUserFromRole", roles::remove_user_from_role),
        get("/api/v1/roles.getUsersInRole", roles::get_users_in_role),
    ]
}

/// Rocket.Chat's routes outside `/api`: the avatar URL `/me` advertises.
fn root_table() -> Vec<Endpoint> {
    vec![get("/avatar/{username}", avatar::serve)]
}

/// `(path, method)` of every route this dialect serves.
pub fn endpoints() -> Vec<(&'static str, Method)> {
    let mut all = route_table::list(&table());
    all.extend(route_table::list(&root_table()));
    all
}

/// `(path, method)` of every route of this dialect that may change state.
pub fn changing_endpoints() -> Vec<(&'static str, Method)> {
    route_table::list_changing(&table())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(route_table::scope("/api", table(), method_not_allowed).default_service(web::to(not_found)));
    cfg.service(route_table::scope("/avatar", root_table(), method_not_allowed));
}

/// Used by the app-wide fallback so unknown paths still get a JSON body.
pub async fn fallback() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"success": false, "error": "Resource not found"}))
}
