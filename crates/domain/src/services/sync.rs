use super::chats::require_member;
use super::Ports;
use crate::auth::Caller;
use crate::error::DomainResult;
use crate::event::EventDelivery;
use crate::ids::ChatId;
use crate::ports::{ChatRepo, MessageRepo};
use std::sync::Arc;

/// Most events replayed for one chat at once; a device further behind reloads the chat.
pub const MAX_REPLAY_EVENTS: i64 = 1000;

/// Brings a device up to date in a chat after a reconnect or a gap.
pub struct SyncService {
    chats: Arc<dyn ChatRepo>,
    messages: Arc<dyn MessageRepo>,
}

/// What a device missed in one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// These events, oldest first; the device is then at the last one's position
    /// (or still at its own when the list is empty).
    Events(Vec<EventDelivery>),
    /// Too much to replay: the device must reload the chat over REST and resume
    /// from `last_event_seq`.
    Reload { last_event_seq: i64 },
}

impl SyncService {
    pub fn new(ports: &Ports) -> Self {
        Self { chats: ports.chats.clone(), messages: ports.messages.clone() }
    }

    /// The events of `chat` after position `after`, for a member only (others get
    /// "chat not found" and learn nothing).
    pub async fn catch_up(&self, caller: Caller, chat: ChatId, after: i64) -> DomainResult<CatchUp> {
        require_member(self.chats.as_ref(), chat, caller.user_id).await?;
        let after = after.max(0);
        let latest = self.chats.get(chat).await?.ok_or_else(crate::DomainError::chat_not_found)?.last_event_seq;
        if after > latest {
            // The device claims events that do not exist: its state is wrong; start it over.
            return Ok(CatchUp::Reload { last_event_seq: latest });
        }
        let events = self.messages.events_after(chat, after, MAX_REPLAY_EVENTS + 1).await?;
        if events.len() as i64 > MAX_REPLAY_EVENTS {
            return Ok(CatchUp::Reload { last_event_seq: latest });
        }
        Ok(CatchUp::Events(events.iter().map(|e| e.to_delivery()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Chat, ChatKind};
    use crate::event::{ChatEvent, EventKind};
    use crate::ids::{MessageId, UserId};
    use crate::message::{ContentType, Message, MessageStatus};
    use crate::services::test_support::{caller, member, ports, MockSet};
    use chrono::Utc;

    fn event(chat: ChatId, event_seq: i64) -> ChatEvent {
        let sender = UserId::new();
        ChatEvent {
            room_id: chat,
            event_seq,
            actor: sender,
            kind: EventKind::Message(Message {
                id: MessageId::new(),
                chat_id: chat,
                sender_id: sender,
                content: format!("m{event_seq}"),
                content_type: ContentType::Text,
                seq: event_seq,
                status: MessageStatus::Sent,
                client_msg_id: None,
                created_at: Utc::now(),
            }),
        }
    }

    #[tokio::test]
    async fn a_member_gets_the_events_after_their_position_in_order() {
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_get().returning(|id| Ok(Some(chat_at(id, 6))));
        m.messages
            .expect_events_after()
            .withf(move |c, after, limit| *c == chat && *after == 4 && *limit == MAX_REPLAY_EVENTS + 1)
            .returning(|c, _, _| Ok(vec![event(c, 5), event(c, 6)]));
        let service = SyncService::new(&ports(m));
        let CatchUp::Events(events) = service.catch_up(caller(), chat, 4).await.unwrap() else { panic!("events") };
        assert_eq!(events.iter().map(|d| d.event_seq).collect::<Vec<_>>(), vec![5, 6]);
    }

    #[tokio::test]
    async fn a_device_too_far_behind_is_told_to_reload() {
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.messages
            .expect_events_after()
            .returning(|c, after, limit| Ok((after + 1..=after + limit).map(|s| event(c, s)).collect()));
        m.chats.expect_get().returning(|id| Ok(Some(chat_at(id, 5000))));
        let service = SyncService::new(&ports(m));
        assert_eq!(service.catch_up(caller(), chat, 0).await.unwrap(), CatchUp::Reload { last_event_seq: 5000 });
    }

    fn chat_at(id: ChatId, last_event_seq: i64) -> Chat {
        Chat {
            id,
            kind: ChatKind::Direct,
            name: None,
            created_by: UserId::new(),
            created_at: Utc::now(),
            last_event_seq,
        }
    }

    #[tokio::test]
    async fn a_device_claiming_events_that_do_not_exist_is_told_to_reload() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_get().returning(|id| Ok(Some(chat_at(id, 5))));
        m.messages.expect_events_after().never();
        let service = SyncService::new(&ports(m));
        assert_eq!(service.catch_up(caller(), ChatId::new(), 99).await.unwrap(), CatchUp::Reload { last_event_seq: 5 });
    }

    #[tokio::test]
    async fn a_non_member_learns_nothing() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.messages.expect_events_after().never();
        let service = SyncService::new(&ports(m));
        assert_eq!(service.catch_up(caller(), ChatId::new(), 0).await.unwrap_err().code(), "chat_not_found");
    }
}
