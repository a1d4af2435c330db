use super::Ports;
use crate::auth::Caller;
use crate::chat::{direct_key, new_direct, Chat, ChatKind, ChatView, Member, MemberView};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ChatId, UserId};
use crate::ports::{ChatRepo, MessageRepo, ReceiptRepo, UserRepo};
use crate::receipt::ChatProgress;
use std::collections::HashMap;
use std::sync::Arc;

/// Creating, listing and showing chats, for members only.
pub struct ChatService {
    chats: Arc<dyn ChatRepo>,
    users: Arc<dyn UserRepo>,
    messages: Arc<dyn MessageRepo>,
    receipts: Arc<dyn ReceiptRepo>,
    clock: Arc<dyn Clock>,
}

/// Fails with "chat not found" unless `user` is a member, so that outsiders cannot
/// even learn that the chat exists.
pub(crate) async fn require_member(chats: &dyn ChatRepo, chat: ChatId, user: UserId) -> DomainResult<Member> {
    chats.member(chat, user).await?.ok_or_else(DomainError::chat_not_found)
}

impl ChatService {
    pub fn new(ports: &Ports) -> Self {
        Self {
            chats: ports.chats.clone(),
            users: ports.users.clone(),
            messages: ports.messages.clone(),
            receipts: ports.receipts.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Creates a chat of `kind` with `user_ids`. A direct chat is idempotent: the
    /// same two people always get the same chat, whoever asks first. The flag says
    /// whether this call created it.
    pub async fn create(&self, caller: Caller, kind: ChatKind, user_ids: &[UserId]) -> DomainResult<(ChatView, bool)> {
        match kind {
            ChatKind::Direct => {
                let [other] = user_ids else {
                    return Err(DomainError::invalid(
                        "invalid_members",
                        "a direct chat takes exactly one other user in user_ids",
                    ));
                };
                if self.users.get(*other).await?.is_none() {
                    return Err(DomainError::not_found("user_not_found", "no such user"));
                }
                let (chat, members) = new_direct(caller.user_id, *other, self.clock.now())?;
                let key = direct_key(caller.user_id, *other);
                let stored = self.chats.create_direct(&chat, &members, &key).await?;
                let created = stored.id == chat.id;
                let last = self.last_message(stored.id).await?;
                Ok((self.view(stored, caller.user_id, last).await?, created))
            }
            ChatKind::Group => {
                Err(DomainError::invalid("unsupported_chat_type", "group chats are not available yet on this server"))
            }
        }
    }

    /// The caller's chats, most recently active first.
    pub async fn list(&self, caller: Caller) -> DomainResult<Vec<ChatView>> {
        let chats = self.chats.list_for_user(caller.user_id).await?;
        let ids: Vec<ChatId> = chats.iter().map(|c| c.id).collect();
        let mut last: HashMap<ChatId, _> =
            self.messages.last_messages(&ids).await?.into_iter().map(|m| (m.chat_id, m)).collect();
        let mut views = Vec::with_capacity(chats.len());
        for chat in chats {
            let last_message = last.remove(&chat.id);
            views.push(self.view(chat, caller.user_id, last_message).await?);
        }
        Ok(views)
    }

    /// One chat, for its members.
    pub async fn get(&self, caller: Caller, chat_id: ChatId) -> DomainResult<ChatView> {
        require_member(self.chats.as_ref(), chat_id, caller.user_id).await?;
        let chat = self.chats.get(chat_id).await?.ok_or_else(DomainError::chat_not_found)?;
        let last = self.last_message(chat_id).await?;
        self.view(chat, caller.user_id, last).await
    }

    async fn last_message(&self, chat: ChatId) -> DomainResult<Option<crate::message::Message>> {
        Ok(self.messages.last_messages(&[chat]).await?.into_iter().next())
    }

    /// The chat as `viewer` sees it: members, the last message with its ticks, and
    /// how many messages the viewer has not read.
    async fn view(
        &self,
        chat: Chat,
        viewer: UserId,
        last_message: Option<crate::message::Message>,
    ) -> DomainResult<ChatView> {
        let members = self.member_views(chat.id).await?;
        let positions = self.receipts.positions(chat.id).await?;
        let member_ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let progress = ChatProgress::of(&positions, &member_ids);
        let read_seq = positions.iter().find(|p| p.user_id == viewer).map_or(0, |p| p.read_seq);
        let unread_count = last_message.as_ref().map_or(0, |m| (m.seq - read_seq).max(0));
        let last_message = last_message.map(|mut m| {
            m.status = progress.status_of(m.seq);
            m
        });
        Ok(ChatView { chat, members, last_message, unread_count })
    }

    async fn member_views(&self, chat: ChatId) -> DomainResult<Vec<MemberView>> {
        let members = self.chats.members(chat).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let mut users: HashMap<UserId, _> = self.users.get_many(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::services::test_support::{caller, ports, MockSet};
    use crate::user::{Phone, Region, User, UserName};
    use chrono::Utc;

    fn user(id: UserId) -> User {
        let mut u = User::new(
            Phone::parse("+919876543210", Region::default()).unwrap(),
            UserName::parse("Ravi").unwrap(),
            Utc::now(),
        );
        u.id = id;
        u
    }

    #[tokio::test]
    async fn a_direct_chat_is_keyed_by_the_pair_whoever_creates_it() {
        let me = caller();
        let other = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(move |id| Ok(Some(user(id))));
        m.users.expect_get_many().returning(|ids| Ok(ids.iter().map(|id| user(*id)).collect()));
        let expected_key = direct_key(other, me.user_id);
        m.chats
            .expect_create_direct()
            .withf(move |_, members, key| key == expected_key && members.len() == 2)
            .times(1)
            .returning(|chat, _, _| Ok(chat.clone()));
        m.chats.expect_members().returning(|_| Ok(vec![]));
        m.messages.expect_last_messages().returning(|_| Ok(vec![]));
        m.receipts.expect_positions().returning(|_| Ok(vec![]));
        let service = ChatService::new(&ports(m));
        let (view, created) = service.create(me, ChatKind::Direct, &[other]).await.unwrap();
        assert_eq!(view.chat.kind, ChatKind::Direct);
        assert!(created);
    }

    #[tokio::test]
    async fn a_direct_chat_with_an_unknown_user_is_refused() {
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(|_| Ok(None));
        m.chats.expect_create_direct().never();
        let service = ChatService::new(&ports(m));
        let err = service.create(caller(), ChatKind::Direct, &[UserId::new()]).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found");
    }

    #[tokio::test]
    async fn a_direct_chat_needs_exactly_one_other_user() {
        let service = ChatService::new(&ports(MockSet::new(Utc::now())));
        for ids in [vec![], vec![UserId::new(), UserId::new()]] {
            let err = service.create(caller(), ChatKind::Direct, &ids).await.unwrap_err();
            assert_eq!(err.code(), "invalid_members");
        }
    }

    #[tokio::test]
    async fn a_non_member_cannot_see_a_chat_or_learn_it_exists() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.chats.expect_get().never();
        let service = ChatService::new(&ports(m));
        let err = service.get(caller(), ChatId::new()).await.unwrap_err();
        assert_eq!(err, DomainError::chat_not_found());
    }
}
