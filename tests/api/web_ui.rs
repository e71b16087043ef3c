//! The web UI's files: served under /ui/ from the binary, with their media types and a
//! Content-Security-Policy that allows no inline script; nothing else is served there.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use serde_json::json;

async fn fetch(app: &crate::helpers::TestApp, path: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.get(app.url(path)).send().await.expect("request")
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    resp.headers().get(&name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn the_root_redirects_to_the_ui() {
    let app = spawn_app().await;
    for path in ["/", "/ui"] {
        let resp = fetch(&app, path).await;
        assert_eq!(resp.status(), StatusCode::FOUND, "{path}");
        assert_eq!(header(&resp, LOCATION), "/ui/", "{path}");
    }
}

#[tokio::test]
async fn pages_scripts_and_styles_have_their_media_type_and_the_policy() {
    let app = spawn_app().await;
    for (path, media_type) in [
        ("/ui/", "text/html"),
        ("/ui/index.html", "text/html"),
        ("/ui/style.css", "text/css"),
        ("/ui/js/main.js", "text/javascript"),
        ("/ui/vendor/qrcode.mjs", "text/javascript"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ] {
        let resp = fetch(&app, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(header(&resp, CONTENT_TYPE).starts_with(media_type), "{path}: {}", header(&resp, CONTENT_TYPE));
        let policy = header(&resp, CONTENT_SECURITY_POLICY);
        assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{path}: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert_eq!(header(&resp, "x-content-type-options".parse().unwrap()), "nosniff", "{path}");
    }
}

#[tokio::test]
async fn unknown_files_and_paths_outside_static_are_404() {
    let app = spawn_app().await;
    // (A client normalises `/ui/../x` itself; encoded separators reach the server.)
    for path in ["/ui/nope.js", "/ui/js/", "/ui/Cargo.toml", "/ui/js/..%2f..%2fCargo.toml", "/ui/..%2fsrc%2fweb.rs"] {
        let resp = fetch(&app, path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!header(&resp, CONTENT_SECURITY_POLICY).is_empty(), "{path}");
    }
}

#[tokio::test]
async fn only_get_and_head_are_answered() {
    let app = spawn_app().await;
    let resp = app.client.post(app.url("/ui/")).body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let resp = app.client.head(app.url("/ui/style.css")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The policy forbids inline script and style; a page that used them would break. Every
/// served page is checked, so a new page cannot slip one in.
#[tokio::test]
async fn no_served_html_contains_inline_script_style_or_handlers() {
    let app = spawn_app().await;
    let html = fetch(&app, "/ui/").await.text().await.unwrap();
    let lower = html.to_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "inline script: {tag}");
    }
    assert!(!lower.contains("<style"), "inline <style>");
    assert!(!lower.contains(" style="), "style attribute");
    assert!(!lower.contains("javascript:"), "javascript: URL");
    for handler in [" onclick=", " onload=", " onsubmit=", " onerror=", " oninput=", " onchange="] {
        assert!(!lower.contains(handler), "inline handler {handler}");
    }
    // Every script and stylesheet the page names is served.
    for (at, _) in html.match_indices(" src=\"").chain(html.match_indices(" href=\"")) {
        let value = &html[at..];
        let value = &value[value.find('"').unwrap() + 1..];
        let target = &value[..value.find('"').unwrap()];
        if target.starts_with('#') {
            continue;
        }
        let resp = fetch(&app, &format!("/ui/{target}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{target}");
    }
}

/// The two-factor page shows what `me.services` says: like Rocket.Chat's `/me`, a factor
/// appears there only once it is on.
#[tokio::test]
async fn me_reports_whether_totp_is_on() {
    let app = spawn_app().await;
    let alice = app.user_session("alice").await;
    let (status, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["services"], json!({"password": {"exists": true}}), "{me}");
    crate::totp::enrol(&app, &alice).await;
    let (_, me) = app.get("/api/v1/me", Some(&alice)).await;
    assert_eq!(me["services"]["totp"]["enabled"], true, "{me}");
}
