//! Every error leaves the server as `{"error":{"code","message"}}` with the right
//! status; internal details go to the log only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use chitchat_domain::DomainError;
use chitchat_domain::{ErrorCode, ErrorKind};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// Seconds for `Retry-After`, when trying again soon may work.
    retry_after: Option<u32>,
}

/// What `Retry-After` says when the server is busy.
const BUSY_RETRY_AFTER_SECS: u32 = 2;

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    /// Machine-readable, stable: clients branch on it.
    #[schema(example = "chat_not_found")]
    code: String,
    /// For people; may change between versions.
    #[schema(example = "chat not found")]
    message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status: status_of(kind), code, message: message.into(), retry_after: None }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, ErrorCode::NotFound, "no such endpoint")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        if let DomainError::Unavailable(detail) = &error {
            tracing::error!(detail = %detail, "request failed");
        }
        let kind = error.kind();
        let retry_after = (kind == ErrorKind::Busy).then_some(BUSY_RETRY_AFTER_SECS);
        Self { status: status_of(kind), code: error.code(), message: error.public_message(), retry_after }
    }
}

/// The status of an answer of `kind`, as [`ErrorKind::http_status`] names it.
pub(crate) fn status_of(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(ErrorBody {
            error: ErrorDetail { code: self.code.as_str().to_owned(), message: self.message.clone() },
        })
    }
}

pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        ApiError::new(ErrorKind::BadRequest, ErrorCode::InvalidQuery, format!("invalid query string: {error}")).into()
    })
}

pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_error, _req| {
        ApiError::new(ErrorKind::NotFound, ErrorCode::NotFound, "no such resource").into()
    })
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
