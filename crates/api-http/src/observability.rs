//! `/metrics` in Prometheus format, request ids, the access log, and per-request metrics.

use crate::client_ip::TrustedProxies;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;
use std::time::Instant;
use tracing::Instrument;

/// The header that carries a request's id, echoed back (or made up when absent).
pub const REQUEST_ID: &str = "x-request-id";

/// A request's id, for handlers and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Registers `GET /metrics`, rendering what `handle`'s recorder has collected.
pub fn metrics_route(handle: PrometheusHandle) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(handle)).route("/metrics", web::get().to(render));
    }
}

async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle.render())
}

/// Middleware: gives every request an id (`X-Request-Id`, kept when the client or
/// a proxy sent a sane one), which every line logged for the request carries (a
/// `request` span); writes one access log line per request; counts and times it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // The route pattern, not the path: ids in paths would make every series unique.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    // The path without its query: queries carry tokens and signatures.
    let path = req.path().to_owned();
    let client_ip = req
        .app_data::<web::Data<TrustedProxies>>()
        .and_then(|proxies| proxies.client_ip(&req))
        .or_else(|| req.peer_addr().map(|addr| addr.ip()))
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics::counter!("chitchat_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!("chitchat_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone())
        .record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HeaderName::from_static(REQUEST_ID), value);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "chitchat::access",
            %method,
            %path,
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            %client_ip,
            "request"
        );
    });
    Ok(response)
}
