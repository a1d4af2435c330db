//! The web client, embedded in release builds and read from `web/` while developing.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web"]
#[exclude = "e2e/*"]
#[exclude = "*.json"]
struct WebClient;

pub(crate) async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") || path == "ws" {
        return Err(ApiError::not_found());
    }
    let path = if path.is_empty() { "index.html" } else { path };
    let Some(file) = WebClient::get(path) else {
        return Err(ApiError::not_found());
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // index.html must be revalidated so a new release is picked up at once.
    let cache = if path == "index.html" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime.as_ref()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned()))
}
