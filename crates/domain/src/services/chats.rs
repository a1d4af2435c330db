use super::guards::require_reader;
use super::Ports;
use crate::access::{blocked, sender_is_blocked};
use crate::auth::Caller;
use crate::chat::{
    direct_key, new_direct, Chat, ChatKind, ChatSettings, ChatView, GroupPolicy, LogPosition, Member, MemberView,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::event::{ChatUpdate, Delivery};
use crate::ids::{ChatId, UserId};
use crate::message::{Message, Page};
use crate::ports::{ChatRepo, ChatSettingsRepo, ContactRepo, EventBus, MessageRepo, PushQueue, ReceiptRepo, UserRepo};
use crate::receipt::ChatProgress;
use crate::ErrorCode;
use std::collections::HashMap;
use std::sync::Arc;

/// Creating, listing and showing chats, and administering groups, for members only.
pub struct ChatService {
    pub(super) chats: Arc<dyn ChatRepo>,
    pub(super) users: Arc<dyn UserRepo>,
    pub(super) messages: Arc<dyn MessageRepo>,
    pub(super) receipts: Arc<dyn ReceiptRepo>,
    pub(super) contacts: Arc<dyn ContactRepo>,
    pub(super) chat_settings: Arc<dyn ChatSettingsRepo>,
    pub(super) bus: Arc<dyn EventBus>,
    pub(super) push_queue: Arc<dyn PushQueue>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) policy: GroupPolicy,
}

/// A chat as the client asked to create it, before validation.
#[derive(Debug, Clone)]
pub struct NewChat {
    pub kind: ChatKind,
    pub user_ids: Vec<UserId>,
    /// Groups only.
    pub name: Option<String>,
    /// Groups only.
    pub description: Option<String>,
}

impl ChatService {
    pub fn new(ports: &Ports, policy: GroupPolicy) -> Self {
        Self {
            chats: ports.chats.clone(),
            users: ports.users.clone(),
            messages: ports.messages.clone(),
            receipts: ports.receipts.clone(),
            contacts: ports.contacts.clone(),
            chat_settings: ports.chat_settings.clone(),
            bus: ports.bus.clone(),
            push_queue: ports.push_queue.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    /// Creates a chat. A direct chat is idempotent: the same two people always get
    /// the same chat, whoever asks first. A group is always new, with the caller as
    /// its admin. The flag says whether this call created the chat.
    pub async fn create(&self, caller: Caller, request: NewChat) -> DomainResult<(ChatView, bool)> {
        match request.kind {
            ChatKind::Direct => {
                let [other] = request.user_ids.as_slice() else {
                    return Err(DomainError::invalid(
                        ErrorCode::InvalidMembers,
                        "a direct chat takes exactly one other user in user_ids",
                    ));
                };
                if self.users.get(*other).await?.is_none() {
                    return Err(DomainError::not_found(ErrorCode::UserNotFound, "no such user"));
                }
                // The chat about to be opened is the one the other person's block guards.
                let blocked_by_other = self.contacts.is_blocked(*other, caller.user_id).await?;
                let members = [caller.user_id, *other];
                if sender_is_blocked(ChatKind::Direct, &caller.user_id, &members, |m| m == other && blocked_by_other) {
                    return Err(blocked());
                }
                let (chat, members) = new_direct(caller.user_id, *other, self.clock.now())?;
                let key = direct_key(caller.user_id, *other);
                let stored = self.chats.create_direct(&chat, &members, &key).await?;
                let created = stored.id == chat.id;
                if created {
                    self.announce_new_direct(stored.clone(), caller.user_id, &[caller.user_id, *other]).await;
                }
                let me = members.into_iter().find(|m| m.user_id == caller.user_id);
                let me = match me {
                    Some(me) if created => me,
                    _ => require_reader(self.chats.as_ref(), stored.id, caller.user_id).await?,
                };
                Ok((self.view_for(stored, &me).await?, created))
            }
            ChatKind::Group => Ok((self.create_group(caller, request).await?, true)),
        }
    }

    /// A new direct chat appears at once on every device of both people, before
    /// anything is sent in it. Only logged when it fails: the chat is stored, and
    /// the chat list shows it.
    async fn announce_new_direct(&self, chat: Chat, actor: UserId, members: &[UserId]) {
        let chat_id = chat.id;
        let view = match self.shared_view(chat).await {
            Ok(view) => view,
            Err(error) => {
                tracing::warn!(%error, %chat_id, "could not load the new chat for its chat_update");
                return;
            }
        };
        let update = ChatUpdate { room_id: chat_id, actor, chat: view };
        if let Err(error) = self.bus.publish(members, update.to_delivery()).await {
            tracing::warn!(%error, %chat_id, "live chat_update of a new direct chat failed");
        }
    }

    /// The caller's chats, those they left included, pinned first, then most recently
    /// active first; their archive instead when `archived`.
    pub async fn list(&self, caller: Caller, archived: bool) -> DomainResult<Vec<ChatView>> {
        let chats = self.chats.list_for_user(caller.user_id).await?;
        let active: Vec<ChatId> = chats.iter().filter(|(_, me)| me.is_active()).map(|(c, _)| c.id).collect();
        let mut last: HashMap<ChatId, _> =
            self.messages.last_messages(&active).await?.into_iter().map(|m| (m.chat_id, m)).collect();
        let mut views = Vec::with_capacity(chats.len());
        for (chat, me) in chats {
            let view = match me.left_at {
                None => {
                    let last_message = last.remove(&chat.id);
                    self.assemble(chat, Some(&me), last_message).await?
                }
                Some(left) => self.former_view(chat, &me, left).await?,
            };
            views.push(view);
        }
        // The caller's list, or their archive; pinned chats first, then by activity.
        views.retain(|v| v.settings.unwrap_or_default().archived == archived);
        views.sort_by_key(|v| !v.settings.unwrap_or_default().pinned);
        Ok(views)
    }

    /// One chat, for its members; a former member sees it as it was when they left.
    pub async fn get(&self, caller: Caller, chat_id: ChatId) -> DomainResult<ChatView> {
        let me = require_reader(self.chats.as_ref(), chat_id, caller.user_id).await?;
        let chat = self.chats.get(chat_id).await?.ok_or_else(DomainError::chat_not_found)?;
        self.view_for(chat, &me).await
    }

    /// The chat as `me` sees it.
    pub(super) async fn view_for(&self, chat: Chat, me: &Member) -> DomainResult<ChatView> {
        match me.left_at {
            None => {
                let last_message = self.messages.last_messages(&[chat.id]).await?.into_iter().next();
                self.assemble(chat, Some(me), last_message).await
            }
            Some(left) => self.former_view(chat, me, left).await,
        }
    }

    /// The chat as every active member sees it, without anyone's own membership.
    pub(super) async fn shared_view(&self, chat: Chat) -> DomainResult<ChatView> {
        let last_message = self.messages.last_messages(&[chat.id]).await?.into_iter().next();
        self.assemble(chat, None, last_message).await
    }

    /// The view with the last message's ticks and, for a viewer, their unread count.
    async fn assemble(&self, chat: Chat, me: Option<&Member>, last_message: Option<Message>) -> DomainResult<ChatView> {
        let members = self.member_views(chat.id, me.map(|m| m.user_id)).await?;
        let positions = self.receipts.positions(chat.id).await?;
        let member_ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let progress = ChatProgress::of(&positions, &member_ids);
        let unread_count = unread(&positions, me, last_message.as_ref());
        let last_message = last_message.map(|mut m| {
            m.status = progress.status_of(m.seq);
            m
        });
        let settings = match me {
            Some(me) => Some(self.settings_of(chat.id, me.user_id).await?),
            None => None,
        };
        Ok(ChatView { chat, members, last_message, unread_count, settings, membership: me.map(Into::into) })
    }

    /// `me`'s settings for the chat (the defaults when never set).
    async fn settings_of(&self, chat: ChatId, user: UserId) -> DomainResult<ChatSettings> {
        Ok(self.chat_settings.settings(user, &[chat]).await?.into_iter().next().map(|(_, s)| s).unwrap_or_default())
    }

    /// Archives, mutes or pins a chat for the caller only; the caller's other
    /// devices hear of it at once (`chat_settings`), and nobody else does.
    pub async fn update_settings(
        &self,
        caller: Caller,
        chat: ChatId,
        settings: ChatSettings,
    ) -> DomainResult<ChatSettings> {
        require_reader(self.chats.as_ref(), chat, caller.user_id).await?;
        self.chat_settings.put_settings(chat, caller.user_id, &settings).await?;
        let live = Delivery::chat_settings(chat, caller.user_id, settings);
        if let Err(error) = self.bus.publish(&[caller.user_id], live).await {
            tracing::warn!(%error, %chat, "live chat_settings failed; devices read them on resume or reload");
        }
        Ok(settings)
    }

    /// The caller's settings of those of `chats` where they differ from the
    /// defaults, for a device that resumes them (the caller's membership of each
    /// is checked by the replay that comes with it).
    pub async fn changed_settings(
        &self,
        caller: Caller,
        chats: &[ChatId],
    ) -> DomainResult<Vec<(ChatId, ChatSettings)>> {
        if chats.is_empty() {
            return Ok(Vec::new());
        }
        let mut stored = self.chat_settings.settings(caller.user_id, chats).await?;
        stored.retain(|(_, settings)| *settings != ChatSettings::default());
        Ok(stored)
    }

    /// What a former member sees: no members, and the chat as of their leaving.
    async fn former_view(&self, mut chat: Chat, me: &Member, left: LogPosition) -> DomainResult<ChatView> {
        let newest = Page { offset: 0, limit: 1, max_seq: Some(left.seq), after_seq: None, viewer: None };
        let last_message = self.messages.list(chat.id, newest).await?.into_iter().next();
        chat.last_event_seq = left.event_seq;
        let unread_count = unread(&self.receipts.positions(chat.id).await?, Some(me), last_message.as_ref());
        let settings = Some(self.settings_of(chat.id, me.user_id).await?);
        Ok(ChatView { chat, members: Vec::new(), last_message, unread_count, settings, membership: Some(me.into()) })
    }

    /// The active members with their profiles as `viewer` may see them (None: as
    /// in a frame every member shares).
    async fn member_views(&self, chat: ChatId, viewer: Option<UserId>) -> DomainResult<Vec<MemberView>> {
        let members = self.chats.members(chat).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let found = self.users.get_many(&ids).await?;
        let mut users: HashMap<UserId, _> = super::privacy::as_seen_by(self.contacts.as_ref(), viewer, found)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(members
            .into_iter()
            .filter_map(|m| {
                users.remove(&m.user_id).map(|user| MemberView {
                    user_id: m.user_id,
                    role: m.role,
                    joined_at: m.joined_at,
                    user,
                })
            })
            .collect())
    }
}

/// Messages after the viewer's read position, up to the last one they can see.
fn unread(positions: &[crate::receipt::ReadPosition], me: Option<&Member>, last: Option<&Message>) -> i64 {
    let (Some(me), Some(last)) = (me, last) else { return 0 };
    let read_seq = positions.iter().find(|p| p.user_id == me.user_id).map_or(0, |p| p.read_seq);
    (last.seq - read_seq).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::{caller, ports, user, MockSet};
    use chrono::Utc;

    fn service(m: MockSet) -> ChatService {
        ChatService::new(&ports(m), GroupPolicy::default())
    }

    fn direct(user_ids: Vec<UserId>) -> NewChat {
        NewChat { kind: ChatKind::Direct, user_ids, name: None, description: None }
    }

    #[tokio::test]
    async fn a_direct_chat_is_keyed_by_the_pair_whoever_creates_it() {
        let me = caller();
        let other = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(move |id| Ok(Some(user(id, "Ravi"))));
        m.users.expect_get_many().returning(|ids| Ok(ids.iter().map(|id| user(*id, "Ravi")).collect()));
        let expected_key = direct_key(other, me.user_id);
        m.chats
            .expect_create_direct()
            .withf(move |_, members, key| key == expected_key && members.len() == 2)
            .times(1)
            .returning(|chat, _, _| Ok(chat.clone()));
        m.chats.expect_members().returning(|_| Ok(vec![]));
        m.messages.expect_last_messages().returning(|_| Ok(vec![]));
        m.receipts.expect_positions().returning(|_| Ok(vec![]));
        // The new chat shows at once on the devices of both, before any message.
        m.bus
            .expect_publish()
            .withf(|to, delivery| {
                to.len() == 2
                    && matches!(delivery, crate::event::Delivery::Ephemeral(update) if update.frame.contains("\"chat_update\""))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = service(m);
        let (view, created) = service.create(me, direct(vec![other])).await.unwrap();
        assert_eq!(view.chat.kind, ChatKind::Direct);
        assert!(created);
    }

    #[tokio::test]
    async fn new_settings_reach_only_the_callers_own_devices() {
        let me = caller();
        let chat_id = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(crate::services::test_support::member(c, u))));
        m.chat_settings.expect_put_settings().times(1).returning(|_, _, _| Ok(()));
        m.bus
            .expect_publish()
            .withf(move |to, delivery| {
                to == [me.user_id]
                    && matches!(delivery, Delivery::Ephemeral(e)
                        if e.room_id == Some(chat_id) && e.frame.contains("\"chat_settings\"") && e.frame.contains("\"archived\":true"))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let archived = ChatSettings { archived: true, ..ChatSettings::default() };
        assert_eq!(service(m).update_settings(me, chat_id, archived).await.unwrap(), archived);
    }

    #[tokio::test]
    async fn a_resume_gets_only_the_settings_that_differ_from_the_defaults() {
        let (plain, pinned) = (ChatId::new(), ChatId::new());
        let mut m = MockSet::new(Utc::now());
        m.chat_settings = crate::ports::MockChatSettingsRepo::new();
        let on_top = ChatSettings { pinned: true, ..ChatSettings::default() };
        m.chat_settings
            .expect_settings()
            .times(1)
            .returning(move |_, _| Ok(vec![(plain, ChatSettings::default()), (pinned, on_top)]));
        let service = service(m);
        assert_eq!(service.changed_settings(caller(), &[plain, pinned]).await.unwrap(), vec![(pinned, on_top)]);
        assert!(service.changed_settings(caller(), &[]).await.unwrap().is_empty(), "no chats, no query");
    }

    #[tokio::test]
    async fn a_direct_chat_with_an_unknown_user_is_refused() {
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(|_| Ok(None));
        m.chats.expect_create_direct().never();
        let service = service(m);
        let err = service.create(caller(), direct(vec![UserId::new()])).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found");
    }

    #[tokio::test]
    async fn a_direct_chat_needs_exactly_one_other_user() {
        let service = service(MockSet::new(Utc::now()));
        for ids in [vec![], vec![UserId::new(), UserId::new()]] {
            let err = service.create(caller(), direct(ids)).await.unwrap_err();
            assert_eq!(err.code(), "invalid_members");
        }
    }

    #[tokio::test]
    async fn a_non_member_cannot_see_a_chat_or_learn_it_exists() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.chats.expect_get().never();
        let service = service(m);
        let err = service.get(caller(), ChatId::new()).await.unwrap_err();
        assert_eq!(err, DomainError::chat_not_found());
    }

    #[tokio::test]
    async fn a_former_member_sees_the_chat_as_it_was_when_they_left() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|chat_id, user_id| {
            Ok(Some(Member {
                chat_id,
                user_id,
                role: crate::chat::Role::Member,
                joined_at: Utc::now(),
                left_at: Some(LogPosition { seq: 7, event_seq: 9 }),
            }))
        });
        m.chats.expect_get().returning(|id| {
            let (mut chat, _) = new_direct(UserId::new(), UserId::new(), Utc::now()).unwrap();
            chat.id = id;
            chat.kind = ChatKind::Group;
            chat.last_event_seq = 30;
            Ok(Some(chat))
        });
        m.chats.expect_members().never();
        m.messages.expect_last_messages().never();
        m.messages
            .expect_list()
            .withf(|_, page| page.max_seq == Some(7) && page.limit == 1)
            .times(1)
            .returning(|_, _| Ok(vec![]));
        let view = service(m).get(caller(), ChatId::new()).await.unwrap();
        assert!(view.members.is_empty(), "the members of now are not theirs to see");
        assert_eq!(view.chat.last_event_seq, 9, "their log ends at their leaving");
        let membership = view.membership.unwrap();
        assert_eq!((membership.status, membership.left_at_seq), (crate::chat::MembershipStatus::Left, Some(7)));
    }
}
