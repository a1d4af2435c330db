//! Administration and moderation: who acts (an admin or the operator's command
//! line), what they did (the audit log), what people report, and the server's
//! figures.

use crate::attachment::AttachmentInfo;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ChatId, MessageId, UserId};
use crate::message::{ContentType, Message};
use crate::user::{Phone, User};
use crate::ErrorCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The name a deleted account shows from then on.
pub const DELETED_ACCOUNT_NAME: &str = "Deleted account";

/// The most characters a report's reason may have.
pub const MAX_REASON_CHARS: usize = 500;

/// Who performs an administrative action, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The operator's command line (`chitchat admin ...`).
    Cli,
    /// An admin (a phone of `ADMIN_PHONES`) through the API.
    Admin(UserId),
}

impl Actor {
    /// How the audit log names the actor: `cli`, or the admin's user id.
    pub fn label(self) -> String {
        match self {
            Self::Cli => "cli".to_owned(),
            Self::Admin(id) => id.to_string(),
        }
    }
}

/// One administrative action, kept for good.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Assigned by the store, increasing; 0 before it is stored.
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `cli`, or the user id of the admin who acted.
    pub actor: String,
    /// What was done, e.g. `user_disabled`, `report_dismissed`.
    pub action: String,
    /// What it was done to: a user id, session id or report id.
    pub target: String,
    /// Free text: the phone, the report's reason, how many sessions ended...
    pub details: String,
}

impl AuditEntry {
    pub fn new(
        actor: Actor,
        action: &str,
        target: impl ToString,
        details: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: 0,
            at,
            actor: actor.label(),
            action: action.to_owned(),
            target: target.to_string(),
            details: details.into(),
        }
    }
}

/// A reported message as it was when reported: the report keeps this copy, so
/// deleting the message does not destroy the evidence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedMessage {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub content: String,
    pub content_type: ContentType,
    pub sent_at: DateTime<Utc>,
    /// The files it carried (their facts, not their bytes).
    pub attachments: Vec<AttachmentInfo>,
}

impl ReportedMessage {
    pub fn copy_of(message: &Message) -> Self {
        Self {
            id: message.id,
            chat_id: message.chat_id,
            sender_id: message.sender_id,
            content: message.content.clone(),
            content_type: message.content_type,
            sent_at: message.created_at,
            attachments: message.attachments.clone(),
        }
    }
}

/// Where a report stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    Dismissed,
    MessageDeleted,
    SenderDisabled,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Dismissed => "dismissed",
            Self::MessageDeleted => "message_deleted",
            Self::SenderDisabled => "sender_disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Open, Self::Dismissed, Self::MessageDeleted, Self::SenderDisabled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// What an admin does about an open report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportAction {
    /// Nothing to do: the report is closed.
    Dismiss,
    /// The reported message is deleted for everyone (every device sees it go).
    DeleteMessage,
    /// The reported person (or the reported message's sender) is disabled.
    DisableSender,
}

/// A person's report about a message or another person.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: crate::ids::ReportId,
    pub reporter_id: UserId,
    /// The reported person: the one named, or the reported message's sender.
    pub subject_id: UserId,
    /// The copy of the reported message; None for a report about a person.
    pub message: Option<ReportedMessage>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub status: ReportStatus,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `cli` or the user id of the admin who closed it.
    pub resolved_by: Option<String>,
}

/// What a report is about, as the reporter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget {
    Message(MessageId),
    User(UserId),
}

/// A report's reason: trimmed, not blank, at most `MAX_REASON_CHARS` characters.
pub fn report_reason(raw: &str) -> DomainResult<String> {
    let reason = raw.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(DomainError::invalid(
            ErrorCode::InvalidReport,
            format!("a report needs a reason of 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_owned())
}

/// Whether `user` is one of the admins (`ADMIN_PHONES`).
pub fn is_admin(user: &User, admins: &[Phone]) -> bool {
    user.disabled_at.is_none() && admins.contains(&user.phone)
}

/// The refusal of an admin-only request to anyone else.
pub fn admins_only() -> DomainError {
    DomainError::forbidden(ErrorCode::AdminOnly, "only the server's admins may do this")
}

/// A user as admins see them: the profile, and whether they are disabled.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    #[serde(flatten)]
    pub user: User,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<User> for UserSummary {
    fn from(user: User) -> Self {
        Self { disabled_at: user.disabled_at, user }
    }
}

/// How many messages were sent on one day (UTC).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub messages: i64,
}

/// The figures the store counts for `ServerFigures`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredFigures {
    pub users: i64,
    pub disabled_users: i64,
    /// Messages per day, oldest day first, as asked (`days`).
    pub messages_per_day: Vec<i64>,
    /// The bytes of every stored upload (originals and thumbnails).
    pub attachment_bytes: i64,
    pub attachments: i64,
}

/// The server's figures for its operators.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerFigures {
    pub users: i64,
    pub disabled_users: i64,
    /// The last 7 days (UTC), oldest first, today last.
    pub messages_per_day: Vec<DayCount>,
    /// Device sessions with a socket open on a live instance (with Redis, every
    /// instance's; without it, this process's own).
    pub connected_devices: i64,
    pub attachments: i64,
    pub attachment_bytes: i64,
}

/// The days `messages_per_day` covers, oldest first, ending with `today`.
pub fn last_days(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..days).rev().filter_map(|back| today.checked_sub_days(chrono::Days::new(u64::from(back)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{Region, UserName};

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(report_reason("  spam \n").unwrap(), "spam");
        assert_eq!(report_reason("   ").unwrap_err().code(), ErrorCode::InvalidReport);
        assert_eq!(report_reason(&"x".repeat(501)).unwrap_err().code(), ErrorCode::InvalidReport);
        assert!(report_reason(&"x".repeat(500)).is_ok());
        assert!(report_reason("bad\u{7}bell").is_err());
    }

    #[test]
    fn admins_are_named_by_phone_and_a_disabled_admin_is_none() {
        let phone = Phone::parse("+919876543210", Region::default()).unwrap();
        let other = Phone::parse("+919876543211", Region::default()).unwrap();
        let mut user = User::new(phone.clone(), UserName::parse("Asha").unwrap(), Utc::now());
        assert!(is_admin(&user, std::slice::from_ref(&phone)));
        assert!(!is_admin(&user, &[other]));
        assert!(!is_admin(&user, &[]));
        user.disabled_at = Some(Utc::now());
        assert!(!is_admin(&user, &[phone]));
    }

    #[test]
    fn seven_days_end_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let days = last_days(today, 7);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0], NaiveDate::from_ymd_opt(2026, 2, 24).unwrap());
        assert_eq!(days[6], today);
    }

    #[test]
    fn statuses_read_back() {
        for s in
            [ReportStatus::Open, ReportStatus::Dismissed, ReportStatus::MessageDeleted, ReportStatus::SenderDisabled]
        {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReportStatus::parse("nope"), None);
    }
}
