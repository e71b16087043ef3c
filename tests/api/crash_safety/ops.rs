//! The lane worker: sends its lane's writes one after another until the server dies.
//! A write counts as acknowledged only once its whole 2xx response has been read; the
//! one that fails on the wire is left as the lane's `pending` write.

use super::lane::{Held, Lane, Op, Outcome};
use crate::helpers::Session;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// What every lane needs to reach the current server as the admin.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub client: reqwest::Client,
    pub admin: Session,
    /// The admin's SAYMON API token (`?api-token=`): SAYMON writes without a bcrypt each.
    pub admin_api_token: String,
}

/// The request never got a complete answer: the server died (or was already dead).
#[derive(Debug)]
pub struct Interrupted;

/// Runs `lane` until a request is interrupted; returns it with `pending` set.
pub async fn run(mut lane: Lane, target: Target) -> Lane {
    loop {
        let op = lane.choose();
        match perform(&target, &lane, &op).await {
            Ok(outcome) => lane.acknowledge(&op, outcome),
            Err(Interrupted) => {
                lane.pending = Some(op);
                return lane;
            }
        }
    }
}

async fn perform(target: &Target, lane: &Lane, op: &Op) -> Result<Outcome, Interrupted> {
    let as_admin = |req: reqwest::RequestBuilder| {
        req.header("X-User-Id", &target.admin.user_id).header("X-Auth-Token", &target.admin.token)
    };
    let as_lane = |req: reqwest::RequestBuilder| {
        let token = lane.logins.iter().rev().find_map(|h| h.token.clone()).unwrap_or_default();
        req.header("X-User-Id", &lane.user_id).header("X-Auth-Token", token)
    };
    let url = |path: &str| format!("{}{path}", target.base);
    let saymon_url =
        || format!("{}/node/api/users/{}/auth-token?api-token={}", target.base, lane.user_id, target.admin_api_token);
    let client = &target.client;
    let (req, expected) = match op {
        Op::Login => (
            client.post(url("/api/v1/login")).json(&json!({"user": lane.username, "password": lane.password})),
            StatusCode::OK,
        ),
        Op::CreateToken => (
            as_admin(client.post(url("/api/v1/users.createToken"))).json(&json!({"userId": lane.user_id})),
            StatusCode::OK,
        ),
        Op::Logout(token) => (
            client.post(url("/api/v1/logout")).header("X-User-Id", &lane.user_id).header("X-Auth-Token", token),
            StatusCode::OK,
        ),
        Op::GeneratePat(name) | Op::DuplicatePat(name) => {
            let body = json!({"tokenName": name, "bypassTwoFactor": false});
            let expected = if matches!(op, Op::GeneratePat(_)) { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            (as_lane(client.post(url("/api/v1/users.generatePersonalAccessToken"))).json(&body), expected)
        }
        Op::RemovePat(name) => (
            as_lane(client.post(url("/api/v1/users.removePersonalAccessToken"))).json(&json!({"tokenName": name})),
            StatusCode::OK,
        ),
        Op::SaymonPost => (client.request(Method::POST, saymon_url()), StatusCode::OK),
        Op::SaymonDelete => (client.request(Method::DELETE, saymon_url()), StatusCode::OK),
        Op::ChangePassword(password) => {
            let body = json!({"userId": lane.user_id, "data": {"password": password}});
            (as_admin(client.post(url("/api/v1/users.update"))).json(&body), StatusCode::OK)
        }
    };
    let resp = req.send().await.map_err(|_| Interrupted)?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|_| Interrupted)?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, expected, "lane {}: {} answered {body}", lane.username, op.label());
    Ok(match op {
        Op::Login | Op::CreateToken => Outcome::Minted(Held::acknowledged(text(&body["data"]["authToken"]))),
        Op::GeneratePat(_) => Outcome::Minted(Held::acknowledged(text(&body["token"]))),
        Op::SaymonPost => Outcome::Minted(Held::acknowledged(text(&body))),
        Op::DuplicatePat(_) => {
            assert_eq!(body["errorType"], "error-token-already-exists", "lane {}: {body}", lane.username);
            Outcome::Refused
        }
        Op::Logout(_) | Op::RemovePat(_) | Op::SaymonDelete | Op::ChangePassword(_) => Outcome::Done,
    })
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("expected a token string, got {value}")).to_string()
}
