use chitchat_domain::DomainError;
use thiserror::Error;

/// What can go wrong below the repository ports.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not get a database connection: {0}")]
    Pool(String),
    #[error("could not connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The sender of a message is not an active member of its chat (anymore).
    #[error("the sender is not a member of the chat")]
    NotAMember,
    /// The message was deleted for everyone before the change could be made.
    #[error("the message was deleted")]
    MessageDeleted,
    /// The change would change nothing; the transaction is rolled back and nothing
    /// is logged. Repositories turn it into their "nothing happened" answer.
    #[error("nothing to change")]
    Unchanged,
}

impl StoreError {
    pub(crate) fn pool(error: impl std::fmt::Display) -> Self {
        Self::Pool(error.to_string())
    }
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotAMember => return DomainError::chat_not_found(),
            StoreError::MessageDeleted => return DomainError::conflict("message_deleted", "the message was deleted"),
            _ => {}
        }
        tracing::error!(%error, "store error");
        DomainError::unavailable(error)
    }
}
