//! The web UI: the files of `static/`, compiled into the binary and served under `/ui/`.
//! The pages are plain HTML, CSS and JavaScript modules that call the public REST API
//! like any other client; nothing here reads the database or knows about sessions.

use crate::api::observe::RoutePattern;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, guard, web};

/// Where the UI lives. `/` redirects here.
pub const MOUNT: &str = "/ui/";

/// Sent with every UI response: only this origin's scripts, styles, images and API, no
/// inline script or style, no framing, no form posts elsewhere. `data:` images carry the
/// QR code of the TOTP enrolment.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// One file of `static/`: the path under `/ui/`, its media type and its bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset { path: $path, content_type: $content_type, body: include_bytes!(concat!("../static/", $path)) }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file the UI needs; anything else under `/ui/` is 404.
static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/session-store.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/dialogs.js", JS),
    asset!("js/sha256.js", JS),
    asset!("js/signin.js", JS),
    asset!("js/tokens.js", JS),
    asset!("js/pat-options.js", JS),
    asset!("js/lifetime.js", JS),
    asset!("js/sessions.js", JS),
    asset!("js/two-factor.js", JS),
    asset!("js/admin-users.js", JS),
    asset!("js/admin-user-form.js", JS),
    asset!("js/admin-mint.js", JS),
    asset!("js/admin-user-tokens.js", JS),
    asset!("js/admin-audit.js", JS),
    asset!("js/self-service.js", JS),
    asset!("js/reset-password.js", JS),
    asset!("js/account.js", JS),
    asset!("vendor/qrcode.mjs", JS),
    asset!("vendor/qrcode-generator.LICENSE.txt", "text/plain; charset=utf-8"),
];

fn find(path: &str) -> Option<&'static Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

fn with_policy(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let response = match find(&path) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            // The bytes change only with the binary; revalidating on every load is cheap
            // and keeps an upgraded server from mixing old and new modules.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(if req.method() == actix_web::http::Method::HEAD { &[][..] } else { asset.body }),
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("Not found\n"),
    };
    with_policy(response)
}

async fn to_mount() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, MOUNT)).finish()
}

async fn method_not_allowed() -> HttpResponse {
    with_policy(
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .content_type("text/plain; charset=utf-8")
            .body("Method not allowed\n"),
    )
}

fn read_only() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The UI's route patterns, as `routes` registers them.
pub const PATTERNS: [&str; 3] = ["/", "/ui", "/ui/{path:.*}"];

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Each with its pattern, for the metrics' and access log's route label.
    let resource = |pattern: &'static str| web::resource(pattern).app_data(RoutePattern(pattern));
    cfg.service(resource("/").route(read_only().to(to_mount)).default_service(web::to(method_not_allowed)))
        .service(resource("/ui").route(read_only().to(to_mount)).default_service(web::to(method_not_allowed)))
        .service(resource("/ui/{path:.*}").route(read_only().to(serve)).default_service(web::to(method_not_allowed)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_unique_path_and_is_not_empty() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(!a.body.is_empty(), "{} is empty", a.path);
            assert!(ASSETS[..i].iter().all(|b| b.path != a.path), "{} listed twice", a.path);
        }
    }

    /// A module added to `static/` but not listed here would be a 404 in the browser only.
    #[test]
    fn every_file_of_static_is_served() {
        fn walk(dir: &std::path::Path, prefix: &str, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("static/ is readable") {
                let entry = entry.expect("static/ is readable");
                let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
                if entry.path().is_dir() {
                    walk(&entry.path(), &format!("{name}/"), found);
                } else {
                    found.push(name);
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static"), "", &mut found);
        for path in found {
            assert!(find(&path).is_some(), "static/{path} is not listed in ASSETS");
        }
    }

    #[test]
    fn the_empty_path_is_the_index_and_paths_are_not_resolved_on_disk() {
        assert_eq!(find("").map(|a| a.path), Some("index.html"));
        assert!(find("../Cargo.toml").is_none());
        assert!(find("js/../index.html").is_none());
    }

    #[test]
    fn scripts_and_pages_have_their_media_types() {
        assert!(
            ASSETS.iter().filter(|a| a.path.ends_with(".js") || a.path.ends_with(".mjs")).all(|a| a.content_type == JS)
        );
        assert!(ASSETS.iter().filter(|a| a.path.ends_with(".html")).all(|a| a.content_type == HTML));
    }
}
