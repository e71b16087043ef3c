//! Prometheus metrics (issue 18): served only on `TOKEND_METRICS_BIND`, off by default,
//! labels free of anything that names a user, an address or a token, and counters that move
//! with the events they count. Each test runs its own server process, so the counts are its own.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

const ADMIN_PW: &str = "metrics-Admin-pw-5e1b";

/// A server process with metrics on, and the URL of its metrics listener.
fn server_with_metrics(env: &[(&str, &str)]) -> (ServerProcess, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let mut all = vec![("TOKEND_METRICS_BIND", bind.as_str()), ("TOKEND_ADMIN_PASSWORD", ADMIN_PW)];
    all.extend_from_slice(env);
    (ServerProcess::start(&all), format!("http://{bind}/metrics"))
}

/// Every sample of a scrape: `name{labels}` → value.
async fn scrape(url: &str) -> HashMap<String, f64> {
    let response = reqwest::get(url).await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "a complete exposition: {text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("name value");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

async fn login(http: &reqwest::Client, server: &ServerProcess, user: &str, password: &str) -> (StatusCode, Value) {
    let response =
        http.post(server.url("/api/v1/login")).json(&json!({"user": user, "password": password})).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_never_on_the_api() {
    let (server, metrics_url) = server_with_metrics(&[]);
    let api = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND, "the API's listener does not serve metrics");
    let response = reqwest::get(&metrics_url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let media_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(media_type.starts_with("application/openmetrics-text"), "{media_type}");
    let samples = scrape(&metrics_url).await;
    assert_eq!(value(&samples, r#"tokend_build_info{version="0.1.0"}"#), 1.0, "{samples:?}");
    let other = reqwest::get(metrics_url.replace("/metrics", "/api/v1/info")).await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "the metrics listener serves nothing else");
}

#[tokio::test]
async fn every_registered_and_exposed_series_is_in_the_readme_table() {
    let (_server, metrics_url) = server_with_metrics(&[]);
    let text = reqwest::get(&metrics_url).await.unwrap().text().await.unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // A labelled family with no sample yet is left out of the exposition, so the registered
    // names are read from the registry's source as well as from a scrape of a fresh server.
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/metrics/mod.rs")).unwrap();
    let registered = source.split('"').filter(|s| s.starts_with("tokend_") && !s.contains(' '));
    // `# TYPE name kind`: a counter's samples (and the README's row) carry the `_total` suffix.
    let exposed = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split_once(' '));
    let names: Vec<String> = registered
        .map(str::to_string)
        .chain(exposed.map(|(name, kind)| if kind == "counter" { format!("{name}_total") } else { name.into() }))
        .collect();
    assert!(names.len() > 14, "the registry's names were found: {names:?}");
    let in_readme =
        |name: &str| [name.to_string(), format!("{name}_total")].iter().any(|n| readme.contains(&format!("| `{n}` |")));
    let undocumented: Vec<&String> = names.iter().filter(|n| !in_readme(n)).collect();
    assert!(undocumented.is_empty(), "series missing from README's metrics table: {undocumented:?}");
}

#[tokio::test]
async fn metrics_are_off_unless_an_address_is_set() {
    let mut server = ServerProcess::start(&[("TOKEND_ADMIN_PASSWORD", ADMIN_PW)]);
    assert_eq!(reqwest::get(server.url("/metrics")).await.unwrap().status(), StatusCode::NOT_FOUND);
    server.stop();
    assert!(!server.log().contains("metrics at"), "no metrics listener was started: {}", server.log());
}

#[tokio::test]
async fn counters_move_with_logins_failures_lockouts_mints_and_revocations() {
    let (server, metrics_url) =
        server_with_metrics(&[("CREATE_TOKENS_FOR_USERS", "true"), ("TOKEND_LOGIN_BLOCK_USER_ATTEMPTS", "2")]);
    let http = reqwest::Client::new();
    let (status, admin) = login(&http, &server, "admin", ADMIN_PW).await;
    assert_eq!(status, StatusCode::OK);
    let (admin_id, admin_token) =
        (admin["data"]["userId"].as_str().unwrap(), admin["data"]["authToken"].as_str().unwrap());
    for _ in 0..2 {
        assert_eq!(login(&http, &server, "nobody", "wrong-password").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, blocked) = login(&http, &server, "nobody", "wrong-password").await;
    assert_eq!((status, blocked["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("error-login-blocked-for-user")));
    let minted = http
        .post(server.url("/api/v1/users.createToken"))
        .header("X-User-Id", admin_id)
        .header("X-Auth-Token", admin_token)
        .json(&json!({"userId": admin_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), StatusCode::OK);
    let logout =
        http.post(server.url("/api/v1/logout")).header("X-User-Id", admin_id).header("X-Auth-Token", admin_token);
    assert_eq!(logout.send().await.unwrap().status(), StatusCode::OK);

    let s = scrape(&metrics_url).await;
    assert_eq!(value(&s, r#"tokend_logins_total{dialect="rocketchat"}"#), 1.0, "{s:#?}");
    let failures = r#"tokend_login_failures_total{dialect="rocketchat",reason="bad_credentials"}"#;
    assert_eq!(value(&s, failures), 2.0, "{s:#?}");
    assert_eq!(value(&s, r#"tokend_login_failures_total{dialect="rocketchat",reason="blocked"}"#), 1.0);
    assert_eq!(value(&s, r#"tokend_lockouts_total{scope="account"}"#), 1.0, "{s:#?}");
    assert_eq!(value(&s, r#"tokend_tokens_minted_total{kind="login",actor="self"}"#), 2.0, "login and createToken");
    assert_eq!(value(&s, r#"tokend_tokens_revoked_total{kind="login",actor="self"}"#), 1.0, "{s:#?}");
    let logins = r#"tokend_http_requests_total{dialect="rocketchat",route="/api/v1/login",method="POST",status="401"}"#;
    assert_eq!(value(&s, logins), 3.0, "two wrong passwords, then the lockout: {s:#?}");
    let histogram = r#"tokend_http_request_duration_seconds_count{dialect="rocketchat",route="/api/v1/login"}"#;
    assert_eq!(value(&s, histogram), 4.0, "{s:#?}");
    assert!(value(&s, r#"tokend_token_cache_lookups_total{cache="rocketchat",result="miss"}"#) >= 1.0);
    assert!(value(&s, "tokend_store_write_batch_size_count") >= 1.0);
}

#[tokio::test]
async fn labels_name_route_patterns_never_users_addresses_or_tokens() {
    // A name no label value could contain by chance.
    let (server, metrics_url) = server_with_metrics(&[("TOKEND_ADMIN_USERNAME", "opsroot")]);
    let http = reqwest::Client::new();
    let (_, admin) = login(&http, &server, "opsroot", ADMIN_PW).await;
    let (admin_id, token) = (admin["data"]["userId"].as_str().unwrap(), admin["data"]["authToken"].as_str().unwrap());
    let saymon = http.get(server.url(&format!("/node/api/users/{admin_id}"))).basic_auth("opsroot", Some(ADMIN_PW));
    assert_eq!(saymon.send().await.unwrap().status(), StatusCode::OK);
    let pasted = http.get(server.url(&format!("/api/v1/{token}?api-token={token}"))).send().await.unwrap();
    assert_eq!(pasted.status(), StatusCode::NOT_FOUND);
    let odd_method = reqwest::Method::from_bytes(b"BREW").unwrap();
    http.request(odd_method, server.url("/api/v1/me")).send().await.unwrap();

    let samples = scrape(&metrics_url).await;
    let saymon_series =
        r#"tokend_http_requests_total{dialect="saymon",route="/node/api/users/{id}",method="GET",status="200"}"#;
    assert_eq!(value(&samples, saymon_series), 1.0, "the route's pattern, not its path: {samples:#?}");
    assert!(samples.keys().any(|k| k.contains(r#"route="unmatched""#) && k.contains(r#"status="404""#)));
    assert!(samples.keys().any(|k| k.contains(r#"method="other""#)), "unknown methods share one label");
    for series in samples.keys() {
        for private in [admin_id, token, "opsroot", "127.0.0.1", "BREW"] {
            assert!(!series.contains(private), "{private:?} in a label: {series}");
        }
    }
}
