use chitchat_domain::DomainError;
use chitchat_domain::ErrorCode;
use thiserror::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong below the repository ports.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not get a database connection")]
    Pool(#[source] BoxError),
    /// The message writer's task is gone (the store is shutting down).
    #[error("the message writer stopped")]
    WriterStopped,
    /// `target` says what was being opened (the URL without its password, or a
    /// directory).
    #[error("could not connect to the database: {target}")]
    Connect {
        target: String,
        #[source]
        source: BoxError,
    },
    #[error("database migration failed")]
    Migration(#[source] BoxError),
    /// `chitchat backup` could not copy the database.
    #[error("the database backup failed")]
    Backup(#[source] BoxError),
    #[error("could not encode a log entry")]
    Encode(#[from] serde_json::Error),
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
    /// A message named an attachment that no longer exists.
    #[error("an attachment is gone")]
    AttachmentGone,
    /// The task running a query panicked or was cancelled (the runtime shut down).
    #[error("the query's task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl StoreError {
    pub(crate) fn pool(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Pool(Box::new(error))
    }

    pub(crate) fn connect(target: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Connect { target: target.into(), source: source.into() }
    }

    /// The error of storing a message's attachment links: a missing attachment
    /// (a foreign key) is `AttachmentGone`.
    pub(crate) fn from_link(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::AttachmentGone
            }
            other => Self::Query(other),
        }
    }
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotAMember => return DomainError::chat_not_found(),
            StoreError::MessageDeleted => {
                return DomainError::conflict(ErrorCode::MessageDeleted, "the message was deleted")
            }
            StoreError::AttachmentGone => {
                return DomainError::not_found(ErrorCode::AttachmentNotFound, "attachment not found")
            }
            _ => {}
        }
        tracing::error!(%error, "store error");
        DomainError::unavailable(error)
    }
}
