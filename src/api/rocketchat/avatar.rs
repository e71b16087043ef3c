//! Avatars (spec §7 `avatarUrl`): tokend stores no uploaded pictures, so `/avatar/<name>` is
//! what Rocket.Chat serves for a user without one — an SVG of the name's first letter on a
//! colour picked from the name — and `users.getAvatar` redirects there.

use super::error::RcResult;
use super::extract::RcQuery;
use super::target::{self, UserParams};
use crate::api::state::AppState;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, IF_MODIFIED_SINCE, LAST_MODIFIED,
    LOCATION,
};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// Rocket.Chat's palette for letter avatars, indexed by the name's length.
const COLOURS: [&str; 6] = ["#158D65", "#7F1B9F", "#B68D00", "#E26D0E", "#10529E", "#6C727A"];
const DEFAULT_SIZE: u32 = 200;
const MIN_SIZE: u32 = 16;
const MAX_SIZE: u32 = 1024;
/// The date Rocket.Chat stamps on every letter avatar, so that a client's `If-Modified-Since`
/// revalidation of one is a 304.
const FALLBACK_LAST_MODIFIED: &str = "Thu, 01 Jan 2015 00:00:00 GMT";
/// `Accounts_AvatarCacheTime`'s default (seconds).
const CACHE_SECONDS: u64 = 3600;

/// The first ASCII letter or digit of `name`, upper-cased; empty when there is none.
fn initial(name: &str) -> String {
    name.chars().find(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default()
}

/// The colour of `name`'s avatar: stable for a name, as in Rocket.Chat (length modulo the palette).
fn colour(name: &str) -> &'static str {
    COLOURS[name.chars().count() % COLOURS.len()]
}

/// The SVG document. Only an ASCII letter or digit of the name reaches it, so nothing
/// needs escaping.
pub fn letter_svg(name: &str, size: u32) -> String {
    let font_size = f64::from(size) / 1.6;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{}\"/>\n\
         <text x=\"50%\" y=\"50%\" dy=\"0.36em\" text-anchor=\"middle\" pointer-events=\"none\" fill=\"#ffffff\" \
         font-family=\"'Helvetica', 'Arial', 'Lucida Grande', 'sans-serif'\" font-size=\"{font_size}\">\n{}\n</text>\n</svg>",
        colour(name),
        initial(name)
    )
}

/// The side of the SVG for `?size=`, read as Rocket.Chat reads it (JavaScript's `parseInt`:
/// leading blanks, a sign, then the leading digits; `64px` is 64), then clamped to 16–1024.
/// No number, or 0, is the default 200; a negative size is the minimum.
fn requested_size(raw: Option<&str>) -> u32 {
    let Some(raw) = raw else { return DEFAULT_SIZE };
    let unsigned = raw.trim_start();
    let (negative, unsigned) = match unsigned.as_bytes().first() {
        Some(b'-') => (true, &unsigned[1..]),
        Some(b'+') => (false, &unsigned[1..]),
        _ => (false, unsigned),
    };
    let digits = &unsigned[..unsigned.bytes().take_while(u8::is_ascii_digit).count()];
    // Only an overflow fails here, and such a size is clamped to the maximum anyway.
    match digits.parse::<u64>() {
        Err(_) if digits.is_empty() => DEFAULT_SIZE,
        Ok(0) => DEFAULT_SIZE,
        _ if negative => MIN_SIZE,
        Ok(size) => u32::try_from(size).unwrap_or(MAX_SIZE).clamp(MIN_SIZE, MAX_SIZE),
        Err(_) => MAX_SIZE,
    }
}

#[derive(Deserialize)]
pub struct AvatarQuery {
    size: Option<String>,
    #[serde(rename = "format")]
    _format: Option<String>,
    #[serde(rename = "cacheTime")]
    cache_time: Option<String>,
}

/// `GET /avatar/<username>`: the letter avatar of any name, known or not (Rocket.Chat does
/// the same, so the answer tells nobody which accounts exist), with Rocket.Chat's caching
/// headers: public for `cacheTime` (digits only) or an hour, and its fixed `Last-Modified`,
/// so that a revalidation is a 304 with no body.
pub async fn serve(req: HttpRequest, path: web::Path<String>, RcQuery(q): RcQuery<AvatarQuery>) -> HttpResponse {
    let cache_seconds = q
        .cache_time
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(CACHE_SECONDS);
    let revalidating = req.headers().get(IF_MODIFIED_SINCE).is_some_and(|v| v == FALLBACK_LAST_MODIFIED);
    let mut response = if revalidating { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((CACHE_CONTROL, format!("public, max-age={cache_seconds}")))
        .insert_header((CONTENT_DISPOSITION, "inline"))
        .insert_header((LAST_MODIFIED, FALLBACK_LAST_MODIFIED));
    if revalidating {
        return response.finish();
    }
    let name = path.into_inner();
    let name = name.strip_prefix('@').unwrap_or(&name);
    response
        .insert_header((CONTENT_TYPE, "image/svg+xml"))
        // An SVG opened on its own must not run anything.
        .insert_header((CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"))
        .body(letter_svg(name, requested_size(q.size.as_deref())))
}

/// `GET /api/v1/users.getAvatar?userId=|username=` (no login needed): 307 to the user's
/// avatar, the URL also as the JSON body, as Rocket.Chat answers.
pub async fn get_avatar(state: web::Data<AppState>, RcQuery(q): RcQuery<UserParams>) -> RcResult<HttpResponse> {
    let user = target::resolve(&state, &q).await?;
    let url = format!("{}/avatar/{}", state.config.site_url, user.username);
    Ok(HttpResponse::TemporaryRedirect().insert_header((LOCATION, url.clone())).json(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_is_the_first_ascii_alphanumeric_upper_cased() {
        assert_eq!(initial("bob"), "B");
        assert_eq!(initial("_.9lives"), "9");
        assert_eq!(initial("<>\"&"), "");
        assert!(!letter_svg("<script>", 200).contains("<script>"));
    }

    #[test]
    fn the_size_is_read_as_javascripts_parse_int_then_clamped() {
        let cases = [
            (None, 200),
            (Some("64"), 64),
            (Some(" 64px"), 64),
            (Some("+100"), 100),
            (Some("0"), 200),
            (Some("abc"), 200),
            (Some(""), 200),
            (Some("-5"), 16),
            (Some("8"), 16),
            (Some("5000"), 1024),
            (Some("99999999999999999999999"), 1024),
        ];
        for (raw, size) in cases {
            assert_eq!(requested_size(raw), size, "{raw:?}");
        }
    }

    #[test]
    fn the_colour_depends_only_on_the_name() {
        assert_eq!(colour("bob"), colour("bob"));
        assert_eq!(colour("bob"), COLOURS[3]);
    }
}
