//! What administration keeps and reads: disabled and deleted accounts, reports,
//! the audit log and the figures counted over the whole store.

use crate::attachment::Attachment;
use crate::error::DomainResult;
use crate::ids::{ReportId, SessionId, UserId};
use crate::moderation::{AuditEntry, Report, ReportStatus, StoredFigures};
use crate::user::User;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ModerationRepo: Send + Sync {
    /// Users whose name or phone contains `search` (case-insensitive; every user
    /// without it), oldest account first, at most `limit`.
    async fn list_users(&self, search: Option<String>, limit: i64) -> DomainResult<Vec<User>>;
    /// Sets (Some) or clears (None) when the user was disabled; disabling twice
    /// keeps the first time. Returns the user, None when unknown.
    async fn set_disabled(&self, user: UserId, at: Option<DateTime<Utc>>) -> DomainResult<Option<User>>;
    /// Erases the account in one transaction: name `name`, empty status, the
    /// phone replaced by `placeholder_phone` (so the number is free again),
    /// disabled at `at` (unless it was already), its contacts, saved numbers and
    /// the entries others had of it removed. Returns the user, None when unknown.
    async fn erase_user(
        &self,
        user: UserId,
        name: String,
        placeholder_phone: String,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<User>>;
    /// The session and whether its user is disabled, in one read.
    async fn session_with_owner_state(&self, session: SessionId) -> DomainResult<Option<(crate::auth::Session, bool)>>;
    /// The ids of every session that is neither revoked nor expired at `now`.
    async fn active_session_ids(&self, now: DateTime<Utc>) -> DomainResult<Vec<SessionId>>;
    /// The uploads `user` made that are still stored, oldest first.
    async fn uploads_of(&self, user: UserId) -> DomainResult<Vec<Attachment>>;
    /// Users (and of them disabled), stored uploads and their bytes, and the
    /// messages (system messages left out) created in each `[start, end)` of `days`.
    async fn figures(&self, days: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> DomainResult<StoredFigures>;

    async fn insert_report(&self, report: &Report) -> DomainResult<()>;
    async fn get_report(&self, id: ReportId) -> DomainResult<Option<Report>>;
    /// Open reports, oldest first, at most `limit`.
    async fn open_reports(&self, limit: i64) -> DomainResult<Vec<Report>>;
    /// Closes an open report with `status`; false (nothing changed) when it was
    /// not open any more, so of two admins acting at once only one closes it.
    async fn close_report(
        &self,
        id: ReportId,
        status: ReportStatus,
        by: String,
        at: DateTime<Utc>,
    ) -> DomainResult<bool>;

    /// Appends an entry; the store gives it its id.
    async fn append_audit(&self, entry: &AuditEntry) -> DomainResult<()>;
    /// The newest entries first, those with an id below `before` when given, at most `limit`.
    async fn audit(&self, before: Option<i64>, limit: i64) -> DomainResult<Vec<AuditEntry>>;
}
