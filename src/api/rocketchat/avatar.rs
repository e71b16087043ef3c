//! Avatars (spec §7 `avatarUrl`): tokend stores no uploaded pictures, so `/avatar/<name>` is
//! what Rocket.Chat serves for a user without one — an SVG of the name's first letter on a
//! colour picked from the name — and `users.getAvatar` redirects there.

use super::error::RcResult;
use super::extract::RcQuery;
use super::target::{self, UserParams};
use crate::api::state::AppState;
use actix_web::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// Rocket.Chat's palette for letter avatars, indexed by the name's length.
const COLOURS: [&str; 6] = ["#158D65", "#7F1B9F", "#B68D00", "#E26D0E", "#10529E", "#6C727A"];
const DEFAULT_SIZE: u32 = 200;

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

#[derive(Deserialize)]
pub struct AvatarQuery {
    size: Option<String>,
    #[serde(rename = "format")]
    _format: Option<String>,
}

/// `GET /avatar/<username>`: the letter avatar of any name, known or not (Rocket.Chat does
/// the same, so the answer tells nobody which accounts exist). `size` is clamped to 16–1024.
pub async fn serve(path: web::Path<String>, RcQuery(q): RcQuery<AvatarQuery>) -> HttpResponse {
    let name = path.into_inner();
    let name = name.strip_prefix('@').unwrap_or(&name);
    let size = q.size.and_then(|s| s.trim().parse::<u32>().ok()).map_or(DEFAULT_SIZE, |s| s.clamp(16, 1024));
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/svg+xml"))
        // An SVG opened on its own must not run anything.
        .insert_header((CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"))
        .body(letter_svg(name, size))
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
    fn the_colour_depends_only_on_the_name() {
        assert_eq!(colour("bob"), colour("bob"));
        assert_eq!(colour("bob"), COLOURS[3]);
    }
}
