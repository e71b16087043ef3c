//! "Nothing lost" (spec/security.md §5.2, §6.J item 70): lanes of concurrent writers —
//! logins, `users.createToken`, PAT generation, SAYMON auth-tokens, password changes, and
//! their revocations — run against the real binary, which is killed at a random moment
//! (0.5–5 s) and restarted on the same file, cycle after cycle. After every restart the
//! file passes `integrity_check`, each lane's tokens are exactly its acknowledged writes
//! (the one interrupted write may go either way, but whole: a password change never
//! without its token revocations), held tokens authenticate, revoked ones get 401, no
//! user exceeds the login-token cap and no PAT name repeats.
//!
//! Knobs (environment): `CRASH_CYCLES` (default 5; CI runs 25 against the release build),
//! `CRASH_SEED` (printed on every run, to replay the choices), `CRASH_TOKEND_BIN`.

mod lane;
mod ops;
mod server;
mod verify;

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USERNAME, Session};
use lane::{Lane, Rng};
use ops::Target;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::CrashServer;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use verify::Figures;

const LANES: usize = 16;
/// A small cap, so that evicting the oldest login token happens all the time.
const CAP: usize = 5;
const DEFAULT_CYCLES: u64 = 5;

const SERVER_ENV: &[(&str, &str)] = &[
    ("TOKEND_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ("CREATE_TOKENS_FOR_USERS", "yes"),
    ("MAX_RESUME_LOGIN_TOKENS", "5"),
    // Challenges, blocking and rate limits would refuse the writers' steady stream of
    // requests; they have tests of their own.
    ("TOKEND_2FA", "off"),
    ("TOKEND_LOGIN_BLOCKING", "off"),
    ("TOKEND_RATE_LIMIT", "off"),
];

fn setting(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let cycles = setting("CRASH_CYCLES").unwrap_or(DEFAULT_CYCLES);
    let seed = setting("CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("crash safety: seed {seed} (replay the choices with CRASH_SEED={seed}), binary {:?}", server::binary());
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let (data, log) = (dir.path().join("data"), dir.path().join("tokend.log"));
    let mut server = CrashServer::start(&data, &log, SERVER_ENV).await;
    let (mut target, mut lanes) = set_up(&server, &mut rng).await;
    let mut figures = Figures::default();
    for cycle in 1..=cycles {
        let delay = Duration::from_millis(500 + rng.below(4501));
        let workers: Vec<_> = lanes.into_iter().map(|lane| tokio::spawn(ops::run(lane, target.clone()))).collect();
        tokio::time::sleep(delay).await;
        // Every fifth stop is graceful (§5.2's SIGTERM extension): in-flight requests finish
        // or fail visibly, and the same checks apply.
        let graceful = cycle % 5 == 0;
        if graceful {
            tokio::task::block_in_place(|| server.terminate());
        } else {
            server.kill_hard();
        }
        lanes = Vec::new();
        for worker in workers {
            lanes.push(worker.await.unwrap_or_else(|e| panic!("cycle {cycle} (seed {seed}): a lane failed: {e}")));
        }
        server = CrashServer::start(&data, &log, SERVER_ENV).await;
        target = Target { base: server.base.clone(), client: reqwest::Client::new(), ..target };
        verify_after_restart(&target, &data, &mut lanes, &mut figures).await;
        let how = if graceful { "SIGTERM" } else { "SIGKILL" };
        println!("  cycle {cycle}: {how} after {} ms, store and tokens verified", delay.as_millis());
    }
    report(cycles, &lanes, &figures);
    assert!(!server.log().contains("panicked"), "the server panicked:\n{}", server.log_tail());
}

/// The admin's login token and SAYMON API token, and one user per lane.
async fn set_up(server: &CrashServer, rng: &mut Rng) -> (Target, Vec<Lane>) {
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let body = json!({"user": ADMIN_USERNAME, "password": ADMIN_PASSWORD});
    let login: Value = client.post(url("/api/v1/login")).json(&body).send().await.unwrap().json().await.unwrap();
    let admin = Session {
        user_id: login["data"]["userId"].as_str().expect("admin login").into(),
        token: login["data"]["authToken"].as_str().unwrap().into(),
    };
    let resp = client
        .post(url(&format!("/node/api/users/{}/auth-token", admin.user_id)))
        .basic_auth(ADMIN_USERNAME, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let admin_api_token: String = resp.json().await.expect("the admin's API token");
    let mut lanes = Vec::new();
    for i in 0..LANES {
        let (username, password) = (format!("lane{i}"), format!("lane{i}-password"));
        let body = json!({"username": username, "password": password, "name": username,
                          "email": format!("{username}@example.com"), "roles": ["user"]});
        let req = client.post(url("/api/v1/users.create")).json(&body);
        let resp = req.header("X-User-Id", &admin.user_id).header("X-Auth-Token", &admin.token).send().await.unwrap();
        let created: Value = resp.json().await.unwrap();
        let user_id = created["user"]["_id"].as_str().unwrap_or_else(|| panic!("users.create: {created}")).into();
        lanes.push(Lane::new(user_id, username, password, rng.next(), CAP));
    }
    (Target { base: server.base.clone(), client, admin, admin_api_token }, lanes)
}

async fn verify_after_restart(target: &Target, data: &Path, lanes: &mut [Lane], figures: &mut Figures) {
    let conn = rusqlite::Connection::open(data.join("tokend.sqlite3")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    verify::check_file(&conn, CAP, figures);
    for lane in lanes.iter_mut() {
        let observed = verify::stored(&conn, &lane.user_id);
        verify::resolve(lane, &observed, figures);
    }
    drop(conn);
    let me = target.client.get(format!("{}/api/v1/me", target.base));
    let me = me.header("X-User-Id", &target.admin.user_id).header("X-Auth-Token", &target.admin.token);
    assert_eq!(me.send().await.unwrap().status(), StatusCode::OK, "the admin's token was lost");
    for lane in lanes.iter_mut() {
        verify::check_credentials(target, lane, figures).await;
    }
}

fn report(cycles: u64, lanes: &[Lane], figures: &Figures) {
    let mut acknowledged: BTreeMap<&str, u64> = BTreeMap::new();
    for (kind, n) in lanes.iter().flat_map(|l| l.acknowledged.iter()) {
        *acknowledged.entry(kind).or_default() += n;
    }
    let total: u64 = acknowledged.values().sum();
    let graceful = cycles / 5;
    println!(
        "crash safety: {cycles} cycles ({} SIGKILL, {graceful} SIGTERM), {LANES} writer lanes, login-token cap {CAP}",
        cycles - graceful
    );
    println!("  acknowledged writes: {total} ({acknowledged:?})");
    println!(
        "  interrupted writes (outcome unknown to the client): {} — {} took effect, {} did not",
        figures.unknown,
        figures.unknown_took_effect,
        figures.unknown - figures.unknown_took_effect
    );
    println!(
        "  after restarts: {} held tokens authenticated, {} revoked tokens refused; at most {} login tokens per user",
        figures.held_checked, figures.revoked_checked, figures.most_login_tokens
    );
}
