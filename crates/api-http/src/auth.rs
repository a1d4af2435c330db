//! `Authenticated`: the caller behind `Authorization: Bearer <token>`.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use chitchat_domain::auth::Caller;
use chitchat_domain::Services;
use chitchat_domain::{ErrorCode, ErrorKind};
use std::future::Future;
use std::pin::Pin;

/// An authenticated caller; handlers that take it refuse anonymous requests with 401.
pub(crate) struct Authenticated(pub Caller);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let services = req.app_data::<web::Data<Services>>().cloned();
        Box::pin(async move {
            let token = token.ok_or_else(|| {
                ApiError::new(ErrorKind::Unauthorized, ErrorCode::MissingToken, "send Authorization: Bearer <token>")
            })?;
            let services = services.ok_or_else(|| {
                ApiError::new(ErrorKind::Internal, ErrorCode::InternalError, "services not configured")
            })?;
            Ok(Self(services.auth.authenticate(&token).await?))
        })
    }
}
