//! Reports: anyone logged in reports a message they can read, or a person; the
//! reported message is copied into the report, so that deleting it keeps the
//! evidence. Admins close each report by dismissing it, deleting the message for
//! everyone or disabling its sender; each of these is audited.

use super::moderation::ModerationService;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::ids::ReportId;
use crate::moderation::{
    report_reason, Actor, AuditEntry, Report, ReportAction, ReportStatus, ReportTarget, ReportedMessage,
};
use crate::ErrorCode;

/// How many open reports one listing shows at most.
pub const MAX_OPEN_REPORTS: i64 = 200;

impl ModerationService {
    /// Files a report. A message must be one the caller can read (a chat they
    /// are in; anything else is "message not found", so nothing leaks).
    pub async fn report(&self, caller: Caller, target: ReportTarget, reason: &str) -> DomainResult<Report> {
        let reason = report_reason(reason)?;
        let (subject_id, message) = match target {
            ReportTarget::Message(id) => {
                let (message, _) = self.message_service.readable(caller, id).await?;
                if message.content_type == crate::message::ContentType::System {
                    return Err(DomainError::not_found(ErrorCode::MessageNotFound, "message not found"));
                }
                (message.sender_id, Some(ReportedMessage::copy_of(&message)))
            }
            ReportTarget::User(id) => (self.user(id).await?.id, None),
        };
        let report = Report {
            id: ReportId::new(),
            reporter_id: caller.user_id,
            subject_id,
            message,
            reason,
            created_at: self.clock.now(),
            status: ReportStatus::Open,
            resolved_at: None,
            resolved_by: None,
        };
        self.store.insert_report(&report).await?;
        tracing::info!(report = %report.id, reporter = %caller.user_id, "report filed");
        Ok(report)
    }

    /// The reports no admin closed yet, oldest first.
    pub async fn open_reports(&self) -> DomainResult<Vec<Report>> {
        self.store.open_reports(MAX_OPEN_REPORTS).await
    }

    /// Closes an open report with `action`: dismiss it, delete the reported
    /// message for everyone (any admin, member of its chat or not), or disable
    /// the reported person. Returns the report as closed.
    pub async fn act_on_report(&self, actor: Actor, id: ReportId, action: ReportAction) -> DomainResult<Report> {
        let report = self
            .store
            .get_report(id)
            .await?
            .ok_or_else(|| DomainError::not_found(ErrorCode::ReportNotFound, "no such report"))?;
        if report.status != ReportStatus::Open {
            return Err(closed());
        }
        let (status, action_name) = match action {
            ReportAction::Dismiss => (ReportStatus::Dismissed, "report_dismissed"),
            ReportAction::DeleteMessage => {
                let Some(message) = &report.message else {
                    return Err(DomainError::invalid(
                        ErrorCode::InvalidReport,
                        "this report is about a person, not a message",
                    ));
                };
                let moderator = match actor {
                    Actor::Admin(id) => id,
                    // The log names someone as the deleting actor; from the command
                    // line, the sender themself.
                    Actor::Cli => message.sender_id,
                };
                self.message_service.delete_as_moderator(moderator, message.id).await?;
                (ReportStatus::MessageDeleted, "report_message_deleted")
            }
            ReportAction::DisableSender => {
                self.disable(actor, report.subject_id).await?;
                (ReportStatus::SenderDisabled, "report_sender_disabled")
            }
        };
        let now = self.clock.now();
        if !self.store.close_report(id, status, actor.label(), now).await? {
            return Err(closed());
        }
        self.audit_write(AuditEntry::new(
            actor,
            action_name,
            id,
            format!("subject {}; reason: {}", report.subject_id, report.reason),
            now,
        ))
        .await?;
        Ok(Report { status, resolved_at: Some(now), resolved_by: Some(actor.label()), ..report })
    }
}

fn closed() -> DomainError {
    DomainError::conflict(ErrorCode::ReportClosed, "this report was already closed")
}

#[cfg(test)]
mod tests {
    use crate::chat::ChatKind;
    use crate::ids::{ChatId, ReportId, UserId};
    use crate::moderation::{Actor, Report, ReportAction, ReportStatus, ReportTarget, ReportedMessage};
    use crate::services::test_support::{caller, chat, member, ports, text_message, MockSet};
    use crate::services::{AuthPolicy, AuthService, MessageService, ModerationService};
    use crate::user::Region;
    use crate::ErrorCode;
    use chrono::Utc;
    use std::sync::Arc;

    fn service(m: MockSet) -> ModerationService {
        let ports = ports(m);
        let auth = Arc::new(AuthService::new(&ports, AuthPolicy::default()));
        let messages = Arc::new(MessageService::new(&ports, crate::message::MessagePolicy::default()));
        ModerationService::new(&ports, Region::default(), auth, messages)
    }

    #[tokio::test]
    async fn a_message_of_a_chat_the_reporter_is_not_in_is_not_found_and_nothing_is_stored() {
        let mut m = MockSet::new(Utc::now());
        let message = text_message(ChatId::new(), UserId::new(), 1);
        m.messages.expect_get().returning(move |_| Ok(Some(message.clone())));
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.moderation.expect_insert_report().never();
        let err =
            service(m).report(caller(), ReportTarget::Message(crate::ids::MessageId::new()), "spam").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::MessageNotFound);
    }

    #[tokio::test]
    async fn a_report_keeps_a_copy_of_the_message() {
        let mut m = MockSet::new(Utc::now());
        let me = caller();
        let chat_id = ChatId::new();
        let sender = UserId::new();
        let message = text_message(chat_id, sender, 1);
        let copy = ReportedMessage::copy_of(&message);
        m.messages.expect_get().returning(move |_| Ok(Some(message.clone())));
        m.chats.expect_member().returning(move |c, u| Ok(Some(member(c, u))));
        m.moderation
            .expect_insert_report()
            .withf(move |r: &Report| {
                r.message.as_ref() == Some(&copy)
                    && r.subject_id == sender
                    && r.reason == "abuse"
                    && r.status == ReportStatus::Open
            })
            .times(1)
            .returning(|_| Ok(()));
        let report =
            service(m).report(me, ReportTarget::Message(crate::ids::MessageId::new()), " abuse ").await.unwrap();
        assert_eq!(report.message.unwrap().content, "m1");
        let _ = chat(chat_id, ChatKind::Direct);
    }

    fn open_report(message: Option<ReportedMessage>) -> Report {
        Report {
            id: ReportId::new(),
            reporter_id: UserId::new(),
            subject_id: UserId::new(),
            message,
            reason: "spam".into(),
            created_at: Utc::now(),
            status: ReportStatus::Open,
            resolved_at: None,
            resolved_by: None,
        }
    }

    #[tokio::test]
    async fn an_admin_deletes_a_reported_message_without_being_a_member() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let admin = UserId::new();
        let message = text_message(ChatId::new(), UserId::new(), 1);
        let report = open_report(Some(ReportedMessage::copy_of(&message)));
        let report_id = report.id;
        m.moderation.expect_get_report().returning(move |_| Ok(Some(report.clone())));
        m.messages.expect_get().returning(move |_| Ok(Some(message.clone())));
        // No membership is asked of the admin.
        m.chats.expect_member().never();
        m.messages
            .expect_delete_by_moderator()
            .withf(move |_, by, _| *by == admin)
            .times(1)
            .returning(|_, _, _| Ok(None));
        m.moderation
            .expect_close_report()
            .withf(move |id, s, by, _| {
                *id == report_id && *s == ReportStatus::MessageDeleted && *by == admin.to_string()
            })
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        m.moderation
            .expect_append_audit()
            .withf(|e| e.action == "report_message_deleted")
            .times(1)
            .returning(|_| Ok(()));
        let closed =
            service(m).act_on_report(Actor::Admin(admin), report_id, ReportAction::DeleteMessage).await.unwrap();
        assert_eq!(closed.status, ReportStatus::MessageDeleted);
    }

    #[tokio::test]
    async fn a_closed_report_cannot_be_acted_on_again() {
        let mut m = MockSet::new(Utc::now());
        let mut report = open_report(None);
        report.status = ReportStatus::Dismissed;
        m.moderation.expect_get_report().returning(move |_| Ok(Some(report.clone())));
        m.moderation.expect_close_report().never();
        m.moderation.expect_append_audit().never();
        let err = service(m).act_on_report(Actor::Cli, ReportId::new(), ReportAction::Dismiss).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ReportClosed);
    }
}
