//! A person's data, gathered for them (a data-access request): their profile,
//! devices, contacts, the chats they are or were in with every message of those
//! chats they can see (as their own history shows it: up to their leaving, without
//! what they deleted for themself), and the files they uploaded.

use super::moderation::ModerationService;
use crate::attachment::{Attachment, AttachmentInfo, BlobKey, Variant};
use crate::chat::{Chat, Role};
use crate::error::DomainResult;
use crate::ids::{SessionId, UserId};
use crate::message::{Message, Page};
use crate::moderation::{Actor, AuditEntry};
use crate::ports::BlobChunks;
use crate::user::User;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many messages are read at a time.
const EXPORT_PAGE: i64 = 500;

#[derive(Debug, Clone, Serialize)]
pub struct UserExport {
    pub exported_at: DateTime<Utc>,
    pub profile: ExportedProfile,
    pub sessions: Vec<ExportedSession>,
    pub contacts: Vec<ExportedContact>,
    pub chats: Vec<ExportedChat>,
    /// The files they uploaded; each is in the archive as `files/<id>`.
    pub files: Vec<AttachmentInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedProfile {
    #[serde(flatten)]
    pub user: User,
    pub last_seen_visibility: &'static str,
    pub notification_previews: bool,
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedSession {
    pub id: SessionId,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedContact {
    pub user_id: UserId,
    pub alias: Option<String>,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedChat {
    pub chat: Chat,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// False once they left or were removed; their history ends there.
    pub active: bool,
    /// Oldest first.
    pub messages: Vec<Message>,
}

impl ModerationService {
    /// Gathers the user's data; the files' bytes are read with `upload_bytes`.
    pub async fn export(&self, actor: Actor, id: UserId) -> DomainResult<(UserExport, Vec<Attachment>)> {
        let user = self.user(id).await?;
        let now = self.clock.now();
        let sessions = self
            .sessions
            .list_active(id, now)
            .await?
            .into_iter()
            .map(|s| ExportedSession { id: s.id, device: s.device, created_at: s.created_at, expires_at: s.expires_at })
            .collect();
        let contacts = self
            .contacts
            .contacts(id)
            .await?
            .into_iter()
            .map(|c| ExportedContact { user_id: c.contact, alias: c.alias, added_at: c.added_at })
            .collect();
        let mut chats = Vec::new();
        for (chat, member) in self.chats.list_for_user(id).await? {
            let messages = self.history_of(chat.id, id, member.left_at.map(|left| left.seq)).await?;
            chats.push(ExportedChat {
                chat,
                role: member.role,
                joined_at: member.joined_at,
                active: member.left_at.is_none(),
                messages,
            });
        }
        let uploads = self.store.uploads_of(id).await?;
        let export = UserExport {
            exported_at: now,
            profile: ExportedProfile {
                last_seen_visibility: user.last_seen_visibility.as_str(),
                notification_previews: user.notification_previews,
                disabled_at: user.disabled_at,
                user: user.clone(),
            },
            sessions,
            contacts,
            chats,
            files: uploads.iter().map(|a| a.info.clone()).collect(),
        };
        self.audit_write(AuditEntry::new(actor, "user_exported", id, user.phone.as_str(), now)).await?;
        Ok((export, uploads))
    }

    /// The chat's messages as `viewer`'s history shows them, oldest first.
    async fn history_of(
        &self,
        chat: crate::ids::ChatId,
        viewer: UserId,
        max_seq: Option<i64>,
    ) -> DomainResult<Vec<Message>> {
        let mut all: Vec<Message> = Vec::new();
        loop {
            let after_seq = Some(all.last().map_or(0, |m| m.seq));
            let page = Page { offset: 0, limit: EXPORT_PAGE, max_seq, after_seq, viewer: Some(viewer) };
            let batch = self.messages.list(chat, page).await?;
            let done = i64::try_from(batch.len()).unwrap_or(0) < EXPORT_PAGE;
            all.extend(batch);
            if done {
                return Ok(all);
            }
        }
    }

    /// The bytes of an uploaded file, chunk by chunk; None when they are gone.
    pub async fn upload_bytes(&self, upload: &Attachment) -> DomainResult<Option<Box<dyn BlobChunks>>> {
        self.blobs.get(&BlobKey::of(upload.id(), Variant::Original), None).await
    }
}

#[cfg(test)]
mod tests {
    use crate::chat::ChatKind;
    use crate::ids::{ChatId, UserId};
    use crate::moderation::Actor;
    use crate::services::test_support::{chat, member, ports, text_message, user, MockSet};
    use crate::services::{AuthPolicy, AuthService, MessageService, ModerationService};
    use crate::user::Region;
    use chrono::Utc;
    use std::sync::Arc;

    #[tokio::test]
    async fn the_export_holds_each_chats_history_as_the_person_sees_it() {
        let mut m = MockSet::new(Utc::now());
        let id = UserId::new();
        let chat_id = ChatId::new();
        m.users.expect_get().returning(move |u| Ok(Some(user(u, "Asha"))));
        m.sessions.expect_list_active().returning(|_, _| Ok(Vec::new()));
        m.contacts.expect_contacts().returning(|_| Ok(Vec::new()));
        m.chats
            .expect_list_for_user()
            .returning(move |u| Ok(vec![(chat(chat_id, ChatKind::Direct), member(chat_id, u))]));
        m.messages
            .expect_list()
            .withf(move |c, page| *c == chat_id && page.viewer == Some(id) && page.after_seq == Some(0))
            .times(1)
            .returning(move |c, _| Ok(vec![text_message(c, id, 1), text_message(c, UserId::new(), 2)]));
        m.moderation.expect_uploads_of().returning(|_| Ok(Vec::new()));
        m.moderation.expect_append_audit().withf(|e| e.action == "user_exported").times(1).returning(|_| Ok(()));
        let ports = ports(m);
        let auth = Arc::new(AuthService::new(&ports, AuthPolicy::default()));
        let messages = Arc::new(MessageService::new(&ports, crate::message::MessagePolicy::default()));
        let service = ModerationService::new(&ports, Region::default(), auth, messages);
        let (export, files) = service.export(Actor::Cli, id).await.unwrap();
        assert!(files.is_empty());
        assert_eq!(export.chats.len(), 1);
        assert_eq!(export.chats[0].messages.len(), 2);
        assert_eq!(export.profile.user.name, "Asha");
    }
}
