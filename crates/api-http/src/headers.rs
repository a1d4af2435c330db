use actix_web::middleware::DefaultHeaders;

/// What the web client may load: only its own files, its own service worker and
/// manifest, and its own WebSocket.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self'; manifest-src 'self'; \
frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Swagger UI's pages also need inline styles (its script writes them); scripts stay
/// strict. Set on `/swagger/*` before [`security_headers`], which then keeps it.
const SWAGGER_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn swagger_headers() -> DefaultHeaders {
    DefaultHeaders::new().add(("Content-Security-Policy", SWAGGER_CONTENT_SECURITY_POLICY))
}

/// Headers sent with every response; with `https_only` (production) browsers are
/// also told to use HTTPS for a year.
pub fn security_headers(https_only: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new();
    let headers = if https_only {
        headers.add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    } else {
        headers
    };
    headers
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}
