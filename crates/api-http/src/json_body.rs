//! `JsonBody<T>`: a JSON request body with our limits and error shapes. Unlike
//! actix's `Json`, an oversized body is read to the end (up to a hard cap) before
//! the 413 goes out, so clients see the error instead of a reset connection.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use chitchat_domain::{ErrorCode, ErrorKind};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Largest JSON body accepted; message content itself is capped lower by the domain.
pub const MAX_JSON_BODY: usize = 256 * 1024;
/// Beyond this many bytes we stop draining an oversized body and let the connection go.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

pub(crate) struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(
        |essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        },
    )
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = BytesMut::new();
            let mut seen = 0usize;
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::new(ErrorKind::BadRequest, ErrorCode::InvalidBody, "the request body could not be read")
                })?;
                seen += chunk.len();
                if seen > DRAIN_CAP {
                    break;
                }
                if seen <= MAX_JSON_BODY {
                    body.extend_from_slice(&chunk);
                }
            }
            if seen > MAX_JSON_BODY {
                return Err(ApiError::new(
                    ErrorKind::TooLarge,
                    ErrorCode::PayloadTooLarge,
                    format!("request body must be at most {MAX_JSON_BODY} bytes"),
                ));
            }
            if !json {
                return Err(ApiError::new(
                    ErrorKind::UnsupportedMediaType,
                    ErrorCode::UnsupportedMediaType,
                    "send the body as application/json",
                ));
            }
            serde_json::from_slice(&body).map(JsonBody).map_err(|e| {
                if e.is_data() {
                    ApiError::new(ErrorKind::Invalid, ErrorCode::InvalidBody, format!("invalid request body: {e}"))
                } else {
                    ApiError::new(ErrorKind::BadRequest, ErrorCode::InvalidJson, "the request body is not valid JSON")
                }
            })
        })
    }
}
