//! The published contract: `openapi.json` at the repository root (OpenAPI 3.1, both
//! dialects), compiled into the binary and served at `GET /api/openapi.json`.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;

/// The document, byte for byte as it is in the repository.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(DOCUMENT)
}
