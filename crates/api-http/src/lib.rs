//! The REST edge: actix-web handlers that turn HTTP requests into domain calls,
//! the bearer-token extractor, the one place where domain errors become HTTP
//! statuses, `/health`, security headers, and the embedded web client.

mod auth;
mod body_check;
mod body_timeout;
mod client_ip;
mod connection_limit;
mod error;
mod headers;
mod json_body;
mod limits;
mod observability;
mod openapi;
mod routes;
mod static_files;

pub use body_check::{BodyCheck, REQUEST_BODIES};
pub use body_timeout::{body_timeouts, BodyTimeouts};
pub use client_ip::{BadProxy, TrustedProxies};
pub use connection_limit::{connection_limit, ConnectionLimit};
pub use error::ApiError;
pub use headers::security_headers;

use actix_web::web;

pub use json_body::MAX_JSON_BODY;
pub use limits::{cors, RateLimits};
pub use observability::{metrics_route, observe, RequestId, REQUEST_ID};
pub use openapi::{document as openapi_document, OPENAPI_PATH};

/// Registers `/api/*`, `/health` and Swagger UI at `/swagger/`. Expects
/// `web::Data<chitchat_domain::Services>` in the app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(error::query_config())
        .app_data(error::path_config())
        .service(
            web::scope("/swagger")
                .wrap(headers::swagger_headers())
                .route("", web::get().to(openapi::swagger_home))
                .service(openapi::swagger_ui()),
        )
        .configure(|cfg| {
            utoipa_actix_web::service_config::ServiceConfig::new(cfg).configure(routes::configure);
        });
}

/// The fallback for every path no route matched: the web client's files, or a
/// JSON 404 under `/api/`.
pub fn default_service() -> actix_web::Route {
    static_files::route()
}
