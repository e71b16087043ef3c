//! `GET /api/ready`: not a Rocket.Chat route. Load balancers poll it to learn whether this
//! node can serve, i.e. whether its store answers; `/api/info` never touches the store and
//! `tokend healthcheck` only asks whether the process listens (README "Running several nodes").

use crate::accounts::readiness::{self, Verdict};
use crate::api::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// The path, which the rate limiter and the access log leave alone: a balancer polls it
/// many times a second and presents no credentials.
pub const PATH: &str = "/api/ready";

/// 200 `{"ready": true}`, or 503 `{"ready": false, "reason": …}`; no authentication.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match readiness::check(&state).await {
        Verdict::Ready => HttpResponse::Ok().json(json!({"ready": true})),
        Verdict::NotReady(reason) => HttpResponse::ServiceUnavailable().json(json!({"ready": false, "reason": reason})),
    }
}
