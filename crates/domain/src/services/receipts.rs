use super::guards::require_member;
use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::event::Delivery;
use crate::ids::{ChatId, MessageId, UserId};
use crate::message::Message;
use crate::ports::{ChatRepo, EventBus, MessageRepo, ReceiptRepo};
use crate::receipt::{ChatProgress, Receipt, ReceiptKind};
use crate::ErrorCode;
use std::sync::Arc;

/// Delivered and read: positions per member, the ticks senders see, unread counts.
pub struct ReceiptService {
    chats: Arc<dyn ChatRepo>,
    messages: Arc<dyn MessageRepo>,
    receipts: Arc<dyn ReceiptRepo>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
}

fn message_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::MessageNotFound, "message not found")
}

impl ReceiptService {
    pub fn new(ports: &Ports) -> Self {
        Self {
            chats: ports.chats.clone(),
            messages: ports.messages.clone(),
            receipts: ports.receipts.clone(),
            bus: ports.bus.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// The caller has received (or read) every message of the chat up to `seq`.
    /// Positions only move forward; every member's devices hear of a move (the
    /// reader's other devices clear their unread count, senders update ticks).
    pub async fn mark(&self, caller: Caller, chat: ChatId, kind: ReceiptKind, seq: i64) -> DomainResult<()> {
        if seq < 1 {
            return Err(DomainError::invalid(ErrorCode::InvalidSeq, "seq must be at least 1"));
        }
        require_member(self.chats.as_ref(), chat, caller.user_id).await?;
        let members: Vec<UserId> = self.chats.members(chat).await?.into_iter().map(|m| m.user_id).collect();
        let moved = self.receipts.advance(chat, caller.user_id, kind, seq, self.clock.now(), &members).await?;
        if let Some(event) = moved {
            if let Err(error) = self.bus.publish(&members, Delivery::Event(event.to_delivery())).await {
                tracing::warn!(%error, chat = %chat, "live status update failed; devices catch up from the log");
            }
        }
        Ok(())
    }

    /// The seed's `POST /api/messages/status`: marks up to that message.
    pub async fn mark_message(&self, caller: Caller, message: MessageId, kind: ReceiptKind) -> DomainResult<()> {
        let message = self.readable(caller, message).await?;
        self.mark(caller, message.chat_id, kind, message.seq).await
    }

    /// Who received and read a message, and when: for its sender only.
    pub async fn receipts(&self, caller: Caller, message: MessageId) -> DomainResult<Vec<Receipt>> {
        let message = self.readable(caller, message).await?;
        if message.sender_id != caller.user_id {
            return Err(DomainError::forbidden(
                ErrorCode::NotSender,
                "only the sender sees who received and read a message",
            ));
        }
        let receipts = self.receipts.receipts(message.chat_id, message.seq).await?;
        Ok(receipts.into_iter().filter(|r| r.user_id != caller.user_id).collect())
    }

    /// Where the chat stands as a whole, among its current members.
    pub async fn progress(&self, chat: ChatId) -> DomainResult<ChatProgress> {
        let members: Vec<UserId> = self.chats.members(chat).await?.into_iter().map(|m| m.user_id).collect();
        Ok(ChatProgress::of(&self.receipts.positions(chat).await?, &members))
    }

    /// How far `user` has read in `chat`.
    pub async fn read_seq(&self, chat: ChatId, user: UserId) -> DomainResult<i64> {
        let positions = self.receipts.positions(chat).await?;
        Ok(positions.iter().find(|p| p.user_id == user).map_or(0, |p| p.read_seq))
    }

    async fn readable(&self, caller: Caller, id: MessageId) -> DomainResult<Message> {
        let message = self.messages.get(id).await?.ok_or_else(message_not_found)?;
        // Outsiders get the same answer as for a message that does not exist.
        self.chats.member(message.chat_id, caller.user_id).await?.ok_or_else(message_not_found)?;
        Ok(message)
    }
}

/// Gives each message the ticks the chat's progress means for it.
pub(crate) fn with_status(mut messages: Vec<Message>, progress: ChatProgress) -> Vec<Message> {
    for message in &mut messages {
        message.status = progress.status_of(message.seq);
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ChatEvent, EventKind, StatusUpdate};
    use crate::message::MessageStatus;
    use crate::services::test_support::{caller, member, ports, text_message, MockSet};
    use chrono::Utc;

    fn message(chat: ChatId, sender: UserId, seq: i64) -> Message {
        text_message(chat, sender, seq)
    }

    #[tokio::test]
    async fn a_move_is_logged_and_every_member_hears_of_it() {
        let me = caller();
        let other = UserId::new();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_members().returning(move |c| Ok(vec![member(c, me.user_id), member(c, other)]));
        m.receipts
            .expect_advance()
            .withf(move |c, u, k, seq, _, members| {
                *c == chat && *u == me.user_id && *k == ReceiptKind::Read && *seq == 4 && members.len() == 2
            })
            .returning(move |c, u, _, seq, _, _| {
                Ok(Some(ChatEvent {
                    room_id: c,
                    event_seq: 9,
                    actor: u,
                    kind: EventKind::StatusUpdate(StatusUpdate {
                        user_id: u,
                        delivered_seq: seq,
                        read_seq: seq,
                        chat: ChatProgress { delivered_seq: 4, read_seq: 4 }.into(),
                    }),
                }))
            });
        m.bus
            .expect_publish()
            .withf(move |to, d| to.len() == 2 && matches!(d, Delivery::Event(e) if e.event_seq == 9))
            .times(1)
            .returning(|_, _| Ok(()));
        ReceiptService::new(&ports(m)).mark(me, chat, ReceiptKind::Read, 4).await.unwrap();
    }

    #[tokio::test]
    async fn a_position_that_does_not_move_publishes_nothing() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_members().returning(|_| Ok(vec![]));
        m.receipts.expect_advance().returning(|_, _, _, _, _, _| Ok(None));
        m.bus.expect_publish().never();
        ReceiptService::new(&ports(m)).mark(caller(), ChatId::new(), ReceiptKind::Delivered, 1).await.unwrap();
    }

    #[tokio::test]
    async fn outsiders_cannot_mark_and_bad_positions_are_refused() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.receipts.expect_advance().never();
        let service = ReceiptService::new(&ports(m));
        assert_eq!(
            service.mark(caller(), ChatId::new(), ReceiptKind::Read, 3).await.unwrap_err().code(),
            "chat_not_found"
        );
        assert_eq!(
            service.mark(caller(), ChatId::new(), ReceiptKind::Read, 0).await.unwrap_err().code(),
            "invalid_seq"
        );
    }

    #[tokio::test]
    async fn only_the_sender_sees_a_messages_receipts() {
        let me = caller();
        let chat = ChatId::new();
        let theirs = message(chat, UserId::new(), 2);
        let mut m = MockSet::new(Utc::now());
        let found = theirs.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.receipts.expect_receipts().never();
        let err = ReceiptService::new(&ports(m)).receipts(me, theirs.id).await.unwrap_err();
        assert_eq!(err.code(), "not_sender");
    }

    #[tokio::test]
    async fn an_outsider_asking_about_a_message_learns_nothing() {
        let mut m = MockSet::new(Utc::now());
        let found = message(ChatId::new(), UserId::new(), 1);
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.chats.expect_member().returning(|_, _| Ok(None));
        let service = ReceiptService::new(&ports(m));
        let err = service.mark_message(caller(), MessageId::new(), ReceiptKind::Read).await.unwrap_err();
        assert_eq!(err.code(), "message_not_found");
    }

    #[test]
    fn statuses_follow_the_chat_progress() {
        let chat = ChatId::new();
        let sender = UserId::new();
        let page = with_status(
            vec![message(chat, sender, 3), message(chat, sender, 2), message(chat, sender, 1)],
            ChatProgress { delivered_seq: 2, read_seq: 1 },
        );
        let statuses: Vec<MessageStatus> = page.iter().map(|m| m.status).collect();
        assert_eq!(statuses, vec![MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read]);
    }
}
