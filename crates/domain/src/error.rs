//! The errors every use case may return. Each carries a stable machine-readable
//! [`ErrorCode`] and an [`ErrorKind`]; the edges answer by kind and code.

use crate::error_code::{ErrorCode, ErrorKind};
use std::sync::Arc;
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
    /// The thing existed but is over for good (an expired or used device link).
    #[error("{message}")]
    Gone { code: ErrorCode, message: String },
    /// Too many attempts; try again later.
    #[error("{message}")]
    TooManyRequests { code: ErrorCode, message: String },
    /// A port failed (database down, bus unreachable). The cause is for logs only.
    #[error("internal error: {0}")]
    Unavailable(#[source] Cause),
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
    pub fn gone(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Gone { code, message: message.into() }
    }
    pub fn too_many(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::TooManyRequests { code, message: message.into() }
    }
    pub fn busy(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Busy { code, message: message.into() }
    }
    /// A port failed; `cause` is the adapter's error (kept, not flattened to
    /// text) or a sentence when there is no error value.
    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(Cause(Arc::from(cause.into())))
    }

    /// A port failed at `what` because of `source`.
    pub fn unavailable_at(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::unavailable(AtStep { what: what.into(), source: Box::new(source) })
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
            | Self::Gone { code, .. }
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
            Self::Gone { .. } => ErrorKind::Gone,
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

/// Why a port failed: the adapter's own error, shared so that [`DomainError`]
/// stays `Clone`. Its text is the whole chain of causes, so a log line of the
/// domain error says everything; equality compares that text.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    /// The adapter's error, for a caller that wants to look at its type.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&error_chain(&*self.0))
    }
}

/// An error and its sources in one line ("query failed: connection refused"), for
/// logs and for the message an operator reads when the server cannot start.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(inner) = next {
        // Many errors already print their source inside their own text.
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = inner.source();
    }
    text
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// A failure with the step it happened at ("event relay", "membership cache lookup").
#[derive(Debug, Error)]
#[error("{what}")]
struct AtStep {
    what: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Error)]
    #[error("connection refused")]
    struct Refused;

    #[derive(Debug, Error)]
    #[error("query failed")]
    struct QueryFailed(#[source] Refused);

    #[test]
    fn a_port_failure_keeps_its_cause_and_logs_the_whole_chain() {
        let error = DomainError::unavailable(QueryFailed(Refused));
        assert_eq!(error.to_string(), "internal error: query failed: connection refused");
        let DomainError::Unavailable(cause) = &error else { panic!("not unavailable: {error:?}") };
        assert!(cause.get().downcast_ref::<QueryFailed>().is_some(), "the adapter's error is kept as it was");
        assert_eq!(
            std::error::Error::source(&error).map(ToString::to_string).as_deref(),
            Some("query failed: connection refused")
        );
        assert_eq!(error.public_message(), "the server could not complete the request; try again");
    }

    #[test]
    fn a_step_names_where_it_failed_before_why() {
        let error = DomainError::unavailable_at("event relay", Refused);
        assert_eq!(error.to_string(), "internal error: event relay: connection refused");
        assert_eq!(error.clone(), error);
    }
}
