//! The errors every use case may return. Each carries a stable machine-readable
//! [`ErrorCode`] and an [`ErrorKind`]; the edges answer by kind and code.

use crate::error_code::{ErrorCode, ErrorKind};
use thiserror::Error;

pub type DomainResult<T> = Result<T, DomainError>;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// Input that is well-formed JSON but breaks a rule (empty content, bad phone).
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String },
    /// Input larger than a limit.
    #[error("{message}")]
    TooLarge { code: ErrorCode, message: String },
    /// Missing, bad, expired or revoked credentials, or a wrong one-time code.
    #[error("{message}")]
    Unauthorized { code: ErrorCode, message: String },
    /// The caller is known but may not do this.
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{message}")]
    NotFound { code: ErrorCode, message: String },
    /// The request conflicts with the current state.
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// Too many attempts; try again later.
    #[error("{message}")]
    TooManyRequests { code: ErrorCode, message: String },
    /// A port failed (database down, bus unreachable). The detail is for logs only.
    #[error("internal error: {0}")]
    Unavailable(String),
    /// The server is at a limit it keeps to protect itself; the same request may
    /// succeed in a moment.
    #[error("{message}")]
    Busy { code: ErrorCode, message: String },
}

impl DomainError {
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into() }
    }
    pub fn too_large(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::TooLarge { code, message: message.into() }
    }
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Unauthorized { code, message: message.into() }
    }
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Forbidden { code, message: message.into() }
    }
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::NotFound { code, message: message.into() }
    }
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
    pub fn too_many(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::TooManyRequests { code, message: message.into() }
    }
    pub fn busy(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Busy { code, message: message.into() }
    }
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        Self::Unavailable(detail.to_string())
    }

    /// The code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { code, .. }
            | Self::TooLarge { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::TooManyRequests { code, .. }
            | Self::Busy { code, .. } => *code,
            Self::Unavailable(_) => ErrorCode::InternalError,
        }
    }

    /// The class of failure, which decides the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Unauthorized { .. } => ErrorKind::Unauthorized,
            Self::Forbidden { .. } => ErrorKind::Forbidden,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::TooManyRequests { .. } => ErrorKind::TooManyRequests,
            Self::Busy { .. } => ErrorKind::Busy,
            Self::Unavailable(_) => ErrorKind::Internal,
        }
    }

    /// The message safe to show a client: internal details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => "the server could not complete the request; try again".into(),
            other => other.to_string(),
        }
    }

    /// The "chat not found" answer, also given to non-members so they learn nothing.
    pub fn chat_not_found() -> Self {
        Self::not_found(ErrorCode::ChatNotFound, "chat not found")
    }
}
