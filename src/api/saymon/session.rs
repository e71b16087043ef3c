//! `POST` and `DELETE /node/api/users/session` (spec/saymon.md §3.1, §3.2).

use super::auth::{check_login, csrf_matches};
use super::error::{SaymonError, SaymonResult};
use super::extract::SaymonBody;
use crate::accounts::saymon;
use crate::accounts::{Acting, Credential};
use crate::api::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    login: Option<String>,
    password: Option<String>,
    #[serde(rename = "auth-token")]
    auth_token: Option<String>,
}

use crate::api::client_addr::client_addr;

/// §3.1: `{login, password}` (login may be the e-mail) or `{"auth-token"}`. Answers the
/// session id as a JSON string and sets it as the `sid` cookie (plus `csrf` when on).
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    SaymonBody(body): SaymonBody<SessionBody>,
) -> SaymonResult<HttpResponse> {
    let (user, how, not_after) = match (body.login, body.password, body.auth_token) {
        (_, _, Some(_)) if !state.config.saymon_api_token => return Err(SaymonError::InvalidApiToken),
        (_, _, Some(token)) => {
            let (user, expires_at) =
                saymon::user_by_api_token(&state, &token).await?.ok_or(SaymonError::InvalidApiToken)?;
            (user, "session from auth-token", expires_at)
        }
        (Some(login), Some(password), None) => {
            (check_login(&state, &login, &password, client_addr(&req).as_deref()).await?, "session login", None)
        }
        (None, _, None) => {
            return Err(SaymonError::BadRequest("Mandatory \"login\" parameter is absent/empty.".into()));
        }
        (Some(_), None, None) => {
            return Err(SaymonError::BadRequest("Mandatory \"password\" parameter is absent/empty.".into()));
        }
    };
    let user_agent = req.headers().get("user-agent").and_then(|v| v.to_str().ok());
    let acting =
        Acting::user(&user.id, &user.username, client_addr(&req), Credential::Password).with_user_agent(user_agent);
    let session = saymon::open_session(&state, &acting, &user, how, not_after).await?;
    log::info!("saymon: user {} opened a session ({how})", user.id);
    let mut response = HttpResponse::Ok();
    response
        .cookie(Cookie::build("sid", session.sid.clone()).path("/").http_only(true).same_site(SameSite::Lax).finish());
    if let Some(csrf) = &session.csrf {
        // Readable by the page's scripts: they echo it in x-csrf-token.
        response.cookie(Cookie::build("csrf", csrf.expose().to_string()).path("/").same_site(SameSite::Lax).finish());
    }
    Ok(response.json(session.sid))
}

/// §3.2: ends the session named by the `sid` cookie. Without a valid session there is
/// nothing to end, which is not an error.
pub async fn delete(state: web::Data<AppState>, req: HttpRequest) -> SaymonResult<HttpResponse> {
    if let Some(cookie) = req.cookie("sid") {
        super::same_origin::check(&req, state.config.limits.forwarded_count)?;
        let sid = cookie.value().to_string();
        if let Some((user, csrf_hash)) = saymon::session(&state, &sid).await? {
            if state.config.saymon_csrf && !csrf_matches(&req, csrf_hash.as_deref()) {
                return Err(SaymonError::WrongCsrfToken);
            }
            let acting = Acting::user(&user.id, &user.username, client_addr(&req), Credential::SaymonSession);
            saymon::close_session(&state, &acting.actor, &user, &sid).await?;
        }
    }
    let mut expired = Cookie::build("sid", "").path("/").finish();
    expired.make_removal();
    Ok(HttpResponse::Ok().cookie(expired).finish())
}
