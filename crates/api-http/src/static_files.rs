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
    // Revalidate every file (cheaply, by content hash) so that after an upgrade a
    // browser never runs a mix of old and new modules.
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, "no-cache"));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response.insert_header((header::CONTENT_TYPE, mime.as_ref())).body(file.data.into_owned()))
}

fn hex_prefix(hash: &[u8]) -> String {
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
