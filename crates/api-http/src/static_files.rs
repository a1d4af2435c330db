//! The web client, embedded in release builds and read from `web/` while developing.
//! `/sw.js` is served with the app shell written into it (every other file with
//! its content hash, and a version made from that list), so that a change to any
//! file changes the worker's bytes and browsers install the new version.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::LazyLock;

#[derive(RustEmbed)]
#[folder = "../../web"]
#[exclude = "e2e/*"]
#[exclude = "*.json"]
struct WebClient;

const SERVICE_WORKER: &str = "sw.js";

/// What `sw.js` holds where the server writes the shell (valid JavaScript as it is:
/// an empty shell that caches nothing).
const SHELL_PLACEHOLDER: &str = "/* shell */ { version: '', files: [] }";

/// The worker's script as served and its hash, made once from the files this process serves.
static SERVICE_WORKER_SCRIPT: LazyLock<Option<(Vec<u8>, [u8; 32])>> = LazyLock::new(|| {
    let script = service_worker_script()?;
    let hash = Sha256::digest(&script).into();
    Some((script, hash))
});

/// The fallback route serving the client's files. Builds the worker's script now,
/// at start-up, rather than on its first request.
pub(crate) fn route() -> actix_web::Route {
    LazyLock::force(&SERVICE_WORKER_SCRIPT);
    web::to(serve)
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") || path == "ws" {
        return Err(ApiError::not_found());
    }
    let path = if path.is_empty() { "index.html" } else { path };
    let (body, hash): (Cow<'static, [u8]>, [u8; 32]) = if path == SERVICE_WORKER {
        match SERVICE_WORKER_SCRIPT.as_ref() {
            Some((script, hash)) => (Cow::Borrowed(script.as_slice()), *hash),
            None => return Err(ApiError::not_found()),
        }
    } else {
        match WebClient::get(path) {
            Some(file) => {
                let hash = file.metadata.sha256_hash();
                (file.data, hash)
            }
            None => return Err(ApiError::not_found()),
        }
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // Revalidate every file (cheaply, by content hash) so that after an upgrade a
    // browser never runs a mix of old and new modules.
    let etag = format!("\"{}\"", hex(&hash[..16]));
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
    Ok(response.insert_header((header::CONTENT_TYPE, mime.as_ref())).body(body.into_owned()))
}

/// One file of the app shell: where the page asks for it, and its SHA-256 in hex.
#[derive(serde::Serialize, PartialEq, Debug)]
struct ShellFile {
    url: String,
    hash: String,
}

/// Every file the worker caches: all the client's files but the worker itself and
/// the documentation; `index.html` under `/`, the address pages navigate to.
fn shell_files() -> Vec<ShellFile> {
    let mut files: Vec<ShellFile> = WebClient::iter()
        .filter(|path| path != SERVICE_WORKER && !path.ends_with(".md"))
        .filter_map(|path| {
            let file = WebClient::get(&path)?;
            let url = if path == "index.html" { "/".to_owned() } else { format!("/{path}") };
            Some(ShellFile { url, hash: hex(&file.metadata.sha256_hash()) })
        })
        .collect();
    files.sort_by(|a, b| a.url.cmp(&b.url));
    files
}

fn service_worker_script() -> Option<Vec<u8>> {
    let Some(template) = WebClient::get(SERVICE_WORKER) else {
        tracing::error!(file = SERVICE_WORKER, "the web client has no service worker");
        return None;
    };
    let template = String::from_utf8_lossy(&template.data).into_owned();
    match with_shell(&template, &shell_files()) {
        Ok(script) => Some(script.into_bytes()),
        Err(error) => {
            tracing::error!(file = SERVICE_WORKER, %error, "the service worker is served without its shell");
            Some(template.into_bytes())
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum ShellError {
    #[error("the placeholder of the shell is missing")]
    NoPlaceholder,
    #[error("the shell could not be written as JSON")]
    Json(#[from] serde_json::Error),
}

/// The worker's script with the shell in place of the placeholder: the files and
/// a version that is the hash of their list, so it changes with any file.
fn with_shell(template: &str, files: &[ShellFile]) -> Result<String, ShellError> {
    if !template.contains(SHELL_PLACEHOLDER) {
        return Err(ShellError::NoPlaceholder);
    }
    let list = serde_json::to_string(files)?;
    let version = hex(&Sha256::digest(list.as_bytes())[..8]);
    let shell = format!("{{\"version\":\"{version}\",\"files\":{list}}}");
    Ok(template.replacen(SHELL_PLACEHOLDER, &shell, 1))
}

fn hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;

    async fn get(path: &str) -> HttpResponse {
        serve(TestRequest::get().uri(path).to_http_request()).await.expect("the file is served")
    }

    fn header_of(response: &HttpResponse, name: header::HeaderName) -> &str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    #[actix_web::test]
    async fn the_worker_is_served_with_every_shell_file_and_its_hash_and_is_always_revalidated() {
        let response = get("/sw.js").await;
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
        let body = to_bytes(response.into_body()).await.expect("a body");
        let script = String::from_utf8(body.to_vec()).expect("UTF-8");
        assert!(!script.contains(SHELL_PLACEHOLDER), "the placeholder is replaced");
        let files = shell_files();
        for url in ["/", "/app.js", "/style.css", "/js/settings.js", "/manifest.webmanifest", "/icons/icon-192.png"] {
            let file = files.iter().find(|f| f.url == url).unwrap_or_else(|| panic!("{url} is in the shell"));
            assert!(
                script.contains(&format!("{{\"url\":\"{url}\",\"hash\":\"{}\"}}", file.hash)),
                "{url} with its hash"
            );
        }
        assert!(!files.iter().any(|f| f.url == "/sw.js" || f.url.ends_with(".md")));
    }

    #[test]
    fn a_change_to_any_shell_file_changes_the_worker_and_its_version() {
        let template = format!("const SHELL = {SHELL_PLACEHOLDER};");
        let files = |hash: &str| {
            vec![
                ShellFile { url: "/".into(), hash: "aa".into() },
                ShellFile { url: "/app.js".into(), hash: hash.into() },
            ]
        };
        let before = with_shell(&template, &files("bb")).expect("written");
        let after = with_shell(&template, &files("bc")).expect("written");
        let version = |script: &str| script.split("\"version\":\"").nth(1).map(|rest| rest[..16].to_owned());
        assert_ne!(version(&before), version(&after));
        assert_eq!(with_shell(&template, &files("bb")).expect("written"), before, "the same files, the same bytes");
        assert!(matches!(with_shell("const SHELL = {};", &files("bb")), Err(ShellError::NoPlaceholder)));
    }

    #[actix_web::test]
    async fn the_manifest_is_served_as_a_web_app_manifest() {
        let response = get("/manifest.webmanifest").await;
        assert_eq!(header_of(&response, header::CONTENT_TYPE), "application/manifest+json");
    }
}
