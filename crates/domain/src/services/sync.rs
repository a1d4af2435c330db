use super::guards::require_reader;
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
    /// "chat not found" and learn nothing). A former member gets the events up to
    /// the one that recorded their leaving, and none after.
    pub async fn catch_up(&self, caller: Caller, chat: ChatId, after: i64) -> DomainResult<CatchUp> {
        let member = require_reader(self.chats.as_ref(), chat, caller.user_id).await?;
        let until = member.left_at.map(|left| left.event_seq);
        let after = after.max(0);
        let latest = match until {
            Some(until) => until,
            None => self.chats.get(chat).await?.ok_or_else(crate::DomainError::chat_not_found)?.last_event_seq,
        };
        if after > latest {
            // The device claims events that do not exist: its state is wrong; start it over.
            return Ok(CatchUp::Reload { last_event_seq: latest });
        }
        if after == latest {
            return Ok(CatchUp::Events(Vec::new()));
        }
        let mut events = self.messages.events_after(chat, after, MAX_REPLAY_EVENTS + 1).await?;
        if let Some(until) = until {
            events.retain(|event| event.event_seq <= until);
        }
        if events.len() as i64 > MAX_REPLAY_EVENTS {
            return Ok(CatchUp::Reload { last_event_seq: latest });
        }
        if let Some(until) = until {
            events = super::former::events_as_they_were(self.messages.as_ref(), chat, until, events).await?;
        }
        Ok(CatchUp::Events(events.iter().map(|e| e.to_delivery()).collect()))
    }

    /// Where the log of each of the caller's chats stands now (a former member's
    /// at their leaving). A socket that did not resume starts from here, so that
    /// the first live event of each chat is checked for gaps like any other.
    pub async fn positions(&self, caller: Caller) -> DomainResult<Vec<(ChatId, i64)>> {
        let chats = self.chats.list_for_user(caller.user_id).await?;
        Ok(chats
            .into_iter()
            .map(|(chat, me)| (chat.id, me.left_at.map_or(chat.last_event_seq, |left| left.event_seq)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Chat, ChatKind, LogPosition, Member, Role};
    use crate::event::{ChatEvent, EventKind};
    use crate::ids::UserId;
    use crate::services::test_support::{caller, ports, text_message, MockSet};
    use chrono::Utc;

    fn event(chat: ChatId, event_seq: i64) -> ChatEvent {
        let sender = UserId::new();
        ChatEvent {
            room_id: chat,
            event_seq,
            actor: sender,
            kind: EventKind::Message(text_message(chat, sender, event_seq)),
        }
    }

    fn member(chat_id: ChatId, user_id: UserId) -> Member {
        Member { chat_id, user_id, role: Role::Member, joined_at: Utc::now(), left_at: None }
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
            description: None,
            created_by: UserId::new(),
            created_at: Utc::now(),
            last_event_seq,
            group_version: 0,
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
    async fn a_former_member_catches_up_to_their_removal_and_no_further() {
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats
            .expect_member()
            .returning(|c, u| Ok(Some(Member { left_at: Some(LogPosition { seq: 4, event_seq: 6 }), ..member(c, u) })));
        m.messages
            .expect_events_after()
            .times(1)
            .returning(|c, after, _| Ok((after + 1..=after + 5).map(|s| event(c, s)).collect()));
        let service = SyncService::new(&ports(m));
        let CatchUp::Events(events) = service.catch_up(caller(), chat, 3).await.unwrap() else { panic!("events") };
        assert_eq!(events.iter().map(|d| d.event_seq).collect::<Vec<_>>(), vec![4, 5, 6]);
        // Already at the removal: nothing to read, and the log is not even asked.
        assert_eq!(service.catch_up(caller(), chat, 6).await.unwrap(), CatchUp::Events(vec![]));
    }

    #[tokio::test]
    async fn positions_are_each_chats_newest_event_or_a_former_members_leaving() {
        let (active, left) = (ChatId::new(), ChatId::new());
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_list_for_user().returning(move |u| {
            Ok(vec![
                (chat_at(active, 9), member(active, u)),
                (chat_at(left, 30), Member { left_at: Some(LogPosition { seq: 3, event_seq: 12 }), ..member(left, u) }),
            ])
        });
        let service = SyncService::new(&ports(m));
        assert_eq!(service.positions(caller()).await.unwrap(), vec![(active, 9), (left, 12)]);
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
