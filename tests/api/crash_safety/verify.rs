//! After each restart: the file is intact, every lane's store contents equal its
//! acknowledged history (with the interrupted write either applied or not, nothing in
//! between), and the server agrees token by token — held ones authenticate, killed ones
//! get 401.

use super::lane::{Hash, Held, Lane, Op, Outcome, Revoked, View};
use super::ops::Target;
use crate::helpers::with_query;
use reqwest::StatusCode;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// What the run checked, for the report.
#[derive(Debug, Default)]
pub struct Figures {
    pub unknown: u64,
    pub unknown_took_effect: u64,
    pub held_checked: u64,
    pub revoked_checked: u64,
    pub most_login_tokens: i64,
}

/// `PRAGMA integrity_check`, foreign keys, the login cap and unique PAT names, file-wide.
pub fn check_file(conn: &Connection, cap: usize, figures: &mut Figures) {
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "integrity_check after a crash");
    let dangling = conn.prepare("PRAGMA foreign_key_check").unwrap().query_map([], |_| Ok(())).unwrap().count();
    assert_eq!(dangling, 0, "rows with dangling foreign keys");
    let most: i64 = conn
        .query_row(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM tokens WHERE kind = 'login' GROUP BY user_id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(most <= cap as i64, "a user holds {most} login tokens, over the cap of {cap}");
    figures.most_login_tokens = figures.most_login_tokens.max(most);
    let duplicated: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM tokens WHERE kind = 'pat' GROUP BY user_id, name HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicated, 0, "PAT names repeated for one user");
}

/// What the store holds for `user_id`, in the order the server evicts by.
pub fn stored(conn: &Connection, user_id: &str) -> View {
    let hash = |bytes: Vec<u8>| -> Hash { bytes.try_into().expect("32-byte SHA-256") };
    let mut logins = conn
        .prepare("SELECT token_hash FROM tokens WHERE user_id = ?1 AND kind = 'login' ORDER BY created_at, id")
        .unwrap();
    let logins = logins.query_map([user_id], |r| r.get::<_, Vec<u8>>(0)).unwrap().map(|h| hash(h.unwrap())).collect();
    let mut pats = conn.prepare("SELECT name, token_hash FROM tokens WHERE user_id = ?1 AND kind = 'pat'").unwrap();
    let pats: BTreeMap<String, Hash> = pats
        .query_map([user_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .unwrap()
        .map(|row| row.map(|(name, h)| (name, hash(h))).unwrap())
        .collect();
    let saymon: Option<Vec<u8>> = conn
        .query_row("SELECT token_hash FROM saymon_tokens WHERE user_id = ?1", [user_id], |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
        .unwrap();
    let password_changes: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE subject_id = ?1 AND detail LIKE 'password change:%'",
            [user_id],
            |r| r.get(0),
        )
        .unwrap();
    View { logins, pats, saymon: saymon.map(hash), password_changes: password_changes as u64 }
}

/// Settles the lane's interrupted write against what the store holds: the store must
/// equal the acknowledged history either without it or with it, and the lane becomes that.
pub fn resolve(lane: &mut Lane, observed: &View, figures: &mut Figures) {
    let Some(op) = lane.pending.take() else {
        assert_eq!(lane.view(), *observed, "lane {}: the store lost or gained a write", lane.username);
        return;
    };
    figures.unknown += 1;
    if lane.view() == *observed {
        return;
    }
    let outcome = outcome_if_applied(&op, lane, observed);
    let mut applied = lane.clone();
    if let Some(outcome) = outcome {
        applied.apply(&op, outcome);
    }
    assert_eq!(
        applied.view(),
        *observed,
        "lane {}: the store matches neither the acknowledged writes nor them plus the interrupted {}",
        lane.username,
        op.label()
    );
    figures.unknown_took_effect += 1;
    *lane = applied;
}

/// How an interrupted write would have ended had it committed; for a mint, the new token
/// is recognised by its hash in the store (its value never reached the client).
fn outcome_if_applied(op: &Op, lane: &Lane, observed: &View) -> Option<Outcome> {
    let unseen = |hash: &Hash| Outcome::Minted(Held { hash: *hash, token: None });
    match op {
        Op::Login | Op::CreateToken => {
            let known: Vec<Hash> = lane.logins.iter().map(|h| h.hash).collect();
            observed.logins.iter().find(|h| !known.contains(h)).map(unseen)
        }
        Op::GeneratePat(name) if !lane.pats.contains_key(name) => observed.pats.get(name).map(unseen),
        Op::SaymonPost => {
            observed.saymon.filter(|h| Some(*h) != lane.saymon.as_ref().map(|s| s.hash)).map(|h| unseen(&h))
        }
        Op::Logout(_) | Op::RemovePat(_) | Op::SaymonDelete | Op::ChangePassword(_) => Some(Outcome::Done),
        Op::GeneratePat(_) | Op::DuplicatePat(_) => None,
    }
}

/// Every token the lane holds authenticates; every one it saw killed gets 401.
pub async fn check_credentials(target: &Target, lane: &mut Lane, figures: &mut Figures) {
    let held_rc = lane.logins.iter().chain(lane.pats.values()).filter_map(|h| h.token.clone());
    for token in held_rc.collect::<Vec<_>>() {
        assert_eq!(me(target, &lane.user_id, &token).await, StatusCode::OK, "lane {}: a held token", lane.username);
        figures.held_checked += 1;
    }
    if let Some(token) = lane.saymon.as_ref().and_then(|h| h.token.clone()) {
        assert_eq!(current(target, &token).await, StatusCode::OK, "lane {}: the held API token", lane.username);
        figures.held_checked += 1;
    }
    for revoked in std::mem::take(&mut lane.revoked) {
        let status = match &revoked {
            Revoked::RocketChat(token) => me(target, &lane.user_id, token).await,
            Revoked::Saymon(token) => current(target, token).await,
        };
        assert_eq!(status, StatusCode::UNAUTHORIZED, "lane {}: a revoked token came back", lane.username);
        figures.revoked_checked += 1;
    }
}

async fn me(target: &Target, user_id: &str, token: &str) -> StatusCode {
    let req = target.client.get(format!("{}/api/v1/me", target.base));
    req.header("X-User-Id", user_id).header("X-Auth-Token", token).send().await.expect("GET /api/v1/me").status()
}

async fn current(target: &Target, token: &str) -> StatusCode {
    let path = with_query("/node/api/users/current", &[("api-token", token)]);
    target.client.get(format!("{}{path}", target.base)).send().await.expect("GET current").status()
}
