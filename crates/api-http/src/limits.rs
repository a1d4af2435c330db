//! Request limits per user (per IP address for anonymous requests), from
//! `RATE_LIMIT_REQUESTS_PER_MINUTE` and `RATE_LIMIT_BURST`, and CORS.

use crate::client_ip::TrustedProxies;
use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse, ResponseError};
use chitchat_domain::ports::cluster::{RateQuota, RequestCounter};
use chitchat_domain::Services;
use chitchat_domain::{ErrorCode, ErrorKind};
use std::sync::Arc;

/// Request allowances per caller, counted by the deployment's shared counters
/// (Redis) when there are any, else, or while they fail, by this instance's own.
#[derive(Clone)]
pub struct RateLimits {
    quota: RateQuota,
    shared: Option<Arc<dyn RequestCounter>>,
    local: Arc<dyn RequestCounter>,
    /// Proxies whose `X-Forwarded-For` names the real client (`TRUSTED_PROXIES`).
    trusted_proxies: Arc<TrustedProxies>,
}

impl RateLimits {
    /// `per_minute` requests a minute on average, up to `burst` at once, per caller.
    pub fn new(
        quota: RateQuota,
        shared: Option<Arc<dyn RequestCounter>>,
        local: Arc<dyn RequestCounter>,
        trusted_proxies: TrustedProxies,
    ) -> Self {
        Self { quota, shared, local, trusted_proxies: Arc::new(trusted_proxies) }
    }

    /// Ok, or how long the caller must wait.
    async fn check(&self, key: String) -> Result<(), std::time::Duration> {
        let verdict = match &self.shared {
            Some(shared) => match shared.take(&key, self.quota).await {
                Ok(verdict) => Ok(verdict),
                Err(error) => {
                    tracing::debug!(%error, "shared request counters unavailable; counting on this instance");
                    self.local.take(&key, self.quota).await
                }
            },
            None => self.local.take(&key, self.quota).await,
        };
        match verdict {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(wait),
            // In-process counters do not fail; if one ever did, the request goes on.
            Err(_) => Ok(()),
        }
    }
}

/// Who a request counts against: the user of a genuine token, else the client address.
fn caller_key(req: &ServiceRequest, limits: &RateLimits) -> String {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let user = token.and_then(|token| {
        req.app_data::<web::Data<Services>>().and_then(|services| services.auth.token_subject(token))
    });
    match user {
        Some(user) => format!("user:{user}"),
        None => format!("ip:{}", limits.trusted_proxies.client_ip(req).map(|ip| ip.to_string()).unwrap_or_default()),
    }
}

/// Middleware: 429 `rate_limited` with `Retry-After` once a caller is over the limit.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limits = req.app_data::<web::Data<RateLimits>>().cloned();
    if let Some(limits) = limits {
        if let Err(wait) = limits.check(caller_key(&req, &limits)).await {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let error = ApiError::new(
                ErrorKind::TooManyRequests,
                ErrorCode::RateLimited,
                format!("too many requests; try again in {seconds} s"),
            );
            let mut response: HttpResponse = error.error_response();
            if let Ok(value) = header::HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(req.into_response(response));
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

/// CORS: the listed origins (`CORS_ALLOWED_ORIGINS`), or any origin when `any` (development).
pub fn cors(allowed: &[String], any: bool) -> actix_cors::Cors {
    let base = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(3600);
    if any {
        return base.allow_any_origin();
    }
    allowed.iter().fold(base, |cors, origin| cors.allowed_origin(origin))
}
