use super::guards::{require_member, require_reader};
use super::Ports;
use crate::access::blocked;
use crate::attachment::check_for_send;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::event::{ChatEvent, Delivery, EventKind};
use crate::ids::{ChatId, MessageId, UserId};
use crate::message::{
    check_reply_target, Appended, Message, MessagePolicy, NewMessage, Page, ReplyTo, SendCommand, SendOutcome,
};
use crate::ports::{
    AttachmentRepo, BlobStore, ChatRepo, ContactRepo, EventBus, MessageRepo, PushJob, PushOff, PushQueue, ReceiptRepo,
};
use crate::receipt::ChatProgress;
use crate::ErrorCode;
use std::sync::Arc;

/// Sending and reading messages, and what people do to them afterwards
/// (`message_actions`).
pub struct MessageService {
    pub(super) chats: Arc<dyn ChatRepo>,
    pub(super) messages: Arc<dyn MessageRepo>,
    receipts: Arc<dyn ReceiptRepo>,
    pub(super) contacts: Arc<dyn ContactRepo>,
    pub(super) bus: Arc<dyn EventBus>,
    pub(super) push_queue: Arc<dyn PushQueue>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) policy: MessagePolicy,
    pub(super) attachments: Arc<dyn AttachmentRepo>,
    pub(super) blobs: Arc<dyn BlobStore>,
}

impl MessageService {
    pub fn new(ports: &Ports, policy: MessagePolicy) -> Self {
        Self {
            chats: ports.chats.clone(),
            messages: ports.messages.clone(),
            receipts: ports.receipts.clone(),
            contacts: ports.contacts.clone(),
            bus: ports.bus.clone(),
            push_queue: ports.push_queue.clone(),
            clock: ports.clock.clone(),
            policy,
            attachments: ports.attachments.clone(),
            blobs: ports.blobs.clone(),
        }
    }

    /// The edit and delete windows this service enforces, for clients to show.
    pub fn policy(&self) -> MessagePolicy {
        self.policy
    }

    /// Stores a message from a member and pushes it to every member's devices;
    /// what needs no storage was checked when the command was made
    /// (`SendRequest::into_command`). Returns once the message is durable. A repeated `client_msg_id` returns the
    /// first message with `created: false` and stores nothing.
    pub async fn send(&self, caller: Caller, send: SendCommand) -> DomainResult<Appended> {
        let new = self.prepare(caller, send).await?;
        // Membership, blocks and idempotency are decided (`decide_batch`) with what
        // the store reads in the transaction that stores the message (batched with
        // other sends), so that a send costs no round trips of its own to the database.
        let outcome = self.messages.send(&new).await?;
        self.conclude(new.chat_id, outcome).await
    }

    /// `send` for each of `sends`, which one device sent one after the other
    /// without waiting for the answers: they are stored in this order, together
    /// where the store can (one commit rather than one each), and each is answered
    /// on its own, in order. One refused send does not refuse the others.
    pub async fn send_all(&self, caller: Caller, sends: Vec<SendCommand>) -> Vec<DomainResult<Appended>> {
        let mut ready = Vec::with_capacity(sends.len());
        // For each send, where its message is in `ready`, or why it was refused.
        let mut slots = Vec::with_capacity(sends.len());
        for send in sends {
            slots.push(self.prepare(caller, send).await.map(|new| {
                ready.push(new);
                ready.len() - 1
            }));
        }
        let mut outcomes = self.messages.send_all(&ready).await.into_iter();
        let mut answers = Vec::with_capacity(slots.len());
        for slot in slots {
            answers.push(match slot {
                Ok(index) => match outcomes.next() {
                    Some(Ok(outcome)) => self.conclude(ready[index].chat_id, outcome).await,
                    Some(Err(error)) => Err(error),
                    None => Err(DomainError::unavailable("the store answered fewer sends than it was given")),
                },
                Err(refused) => Err(refused),
            });
        }
        answers
    }

    /// The checks of a send that need reading (a reply's target, the files it
    /// names), and the message it stores.
    async fn prepare(&self, caller: Caller, send: SendCommand) -> DomainResult<NewMessage> {
        let chat_id = send.chat_id;
        let reply_to_id = match send.reply_to {
            Some(named) => {
                // Membership first, so that a stranger learns nothing about the target.
                require_member(self.chats.as_ref(), chat_id, caller.user_id).await?;
                let target = match named {
                    ReplyTo::Message(id) => self.messages.get(id).await?,
                    ReplyTo::Malformed => None,
                };
                Some(check_reply_target(target.as_ref(), chat_id)?)
            }
            None => None,
        };
        // Only messages that name files look them up: text sends cost nothing more.
        // Membership first, so that a stranger learns nothing about the chat.
        let found = if send.attachment_ids.is_empty() {
            Vec::new()
        } else {
            require_member(self.chats.as_ref(), chat_id, caller.user_id).await?;
            self.attachments.get_attachments(&send.attachment_ids).await?
        };
        let attachments = check_for_send(caller.user_id, send.content_type, &send.attachment_ids, &found)?;
        Ok(NewMessage {
            id: MessageId::new(),
            chat_id,
            sender_id: caller.user_id,
            content: send.content,
            content_type: send.content_type,
            client_msg_id: send.client_msg_id,
            created_at: self.clock.now(),
            system: None,
            reply_to_id,
            forwarded: false,
            attachments,
        })
    }

    /// What a send's outcome means for its sender; a stored message is pushed to
    /// every member's devices first.
    async fn conclude(&self, chat_id: ChatId, outcome: SendOutcome) -> DomainResult<Appended> {
        match outcome {
            SendOutcome::Stored { message, event_seq, recipients } => {
                publish_message(self.bus.as_ref(), self.push_queue.as_ref(), &recipients, &message, event_seq).await;
                Ok(Appended { message, created: true, event_seq: Some(event_seq) })
            }
            SendOutcome::Duplicate(first) => {
                let appended = same_chat_or_conflict(first, chat_id)?;
                self.push_again(&appended.message).await;
                Ok(appended)
            }
            SendOutcome::NotAMember => Err(DomainError::chat_not_found()),
            SendOutcome::Blocked => Err(blocked()),
        }
    }

    /// A page of a chat's history, newest first, for members, each message with its
    /// ticks (sent, delivered to everyone, read by everyone) and the caller's own
    /// reaction, without the messages the caller hid; a former member's history
    /// ends at the message that recorded their leaving.
    pub async fn history(&self, caller: Caller, chat_id: ChatId, page: Page) -> DomainResult<Vec<Message>> {
        let member = require_reader(self.chats.as_ref(), chat_id, caller.user_id).await?;
        let page = page.for_viewer(caller.user_id);
        let page = match member.left_at {
            Some(left) => page.up_to(left.seq),
            None => page,
        };
        let messages = self.messages.list(chat_id, page).await?;
        if messages.is_empty() {
            return Ok(messages);
        }
        let messages = match member.left_at {
            Some(left) => {
                super::former::as_they_were(self.messages.as_ref(), chat_id, left.event_seq, messages).await?
            }
            None => messages,
        };
        // Two independent reads: asked for together, the page waits for one.
        let (members, positions) =
            futures_util::future::try_join(self.chats.members(chat_id), self.receipts.positions(chat_id)).await?;
        let members: Vec<_> = members.into_iter().map(|m| m.user_id).collect();
        let progress = ChatProgress::of(&positions, &members);
        Ok(super::receipts::with_status(messages, progress))
    }

    /// Pushes a message sent before to the chat's devices again, under its logged
    /// `event_seq`. A send is retried when its ack was lost, and the ack may have
    /// been lost because the instance that stored the message stopped before it
    /// pushed the message live: without this, devices on the other instances would
    /// not see it until the chat's next event. Devices that have it skip it.
    async fn push_again(&self, message: &Message) {
        match self.messages.sent_event_seq(message.chat_id, message.id).await {
            // Pushed live only: its notification went out with the first send.
            Ok(Some(event_seq)) => self.publish_to(message_event(message, event_seq), &PushOff).await,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, message_id = %message.id, "could not push a retried message again");
            }
        }
    }

    /// Pushes a logged event to the devices of the chat's active members.
    pub(super) async fn publish(&self, event: ChatEvent) {
        self.publish_to(event, self.push_queue.as_ref()).await;
    }

    /// As `publish`, handing the event to `push` for Web Push.
    async fn publish_to(&self, event: ChatEvent, push: &dyn PushQueue) {
        let recipients: Vec<_> = match self.chats.members(event.room_id).await {
            Ok(members) => members.into_iter().map(|m| m.user_id).collect(),
            Err(error) => {
                // The change is durable; devices catch up from the log.
                tracing::warn!(%error, chat_id = %event.room_id, "could not load members for live delivery");
                return;
            }
        };
        publish_event(self.bus.as_ref(), push, &recipients, &event).await;
    }
}

/// The logged event of a stored message.
pub(crate) fn message_event(message: &Message, event_seq: i64) -> ChatEvent {
    ChatEvent {
        room_id: message.chat_id,
        event_seq,
        actor: message.sender_id,
        kind: EventKind::Message(message.clone()),
    }
}

/// Pushes a stored message to the devices of `recipients` as the logged event
/// `event_seq`. A failure is only logged: the message is durable, and devices
/// catch up from the log.
pub(crate) async fn publish_message(
    bus: &dyn EventBus,
    push: &dyn PushQueue,
    recipients: &[UserId],
    message: &Message,
    event_seq: i64,
) {
    publish_event(bus, push, recipients, &message_event(message, event_seq)).await;
}

/// Pushes a logged event to the devices of `recipients`, and hands it to Web Push
/// planning when it concerns someone (`push::audience`). A failure is only logged:
/// the change is durable, and devices catch up from the log.
pub(crate) async fn publish_event(bus: &dyn EventBus, push: &dyn PushQueue, recipients: &[UserId], event: &ChatEvent) {
    if let Err(error) = bus.publish(recipients, Delivery::Event(event.to_delivery())).await {
        tracing::warn!(%error, chat_id = %event.room_id, event_seq = event.event_seq, "live delivery failed; the event is stored");
    }
    if let Some((kind, audience)) = crate::push::audience(event, recipients) {
        push.offer(PushJob { kind, audience, event: event.clone() });
    }
}

fn same_chat_or_conflict(first: Message, chat_id: ChatId) -> DomainResult<Appended> {
    if first.chat_id != chat_id {
        return Err(DomainError::conflict(
            ErrorCode::ClientMsgIdReused,
            "this client_msg_id was already used for a message in another chat",
        ));
    }
    Ok(Appended { message: first, created: false, event_seq: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{LogPosition, Member, Role};
    use crate::ids::SessionId;
    use crate::message::{ClientMsgId, ContentType, MessageBody, SendRequest};
    use crate::services::test_support::{ports, stored, text_message, MockSet};
    use chrono::Utc;

    fn caller() -> Caller {
        Caller { user_id: UserId::new(), session_id: SessionId::new() }
    }

    fn member(chat_id: ChatId, user_id: UserId) -> Member {
        Member { chat_id, user_id, role: Role::Member, joined_at: Utc::now(), left_at: None }
    }

    fn text_request(client_msg_id: Option<&str>) -> SendRequest {
        SendRequest {
            content: Some("hello".into()),
            content_type: "text".into(),
            client_msg_id: client_msg_id.map(str::to_owned),
            reply_to_id: None,
            attachment_ids: Vec::new(),
        }
    }

    fn text(chat_id: ChatId, client_msg_id: Option<&str>) -> SendCommand {
        text_request(client_msg_id).into_command(chat_id).unwrap()
    }

    fn service(m: MockSet) -> MessageService {
        MessageService::new(&ports(m), MessagePolicy::default())
    }

    #[tokio::test]
    async fn a_member_sends_and_every_member_is_a_recipient() {
        let me = caller();
        let other = UserId::new();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.messages.expect_send().times(1).returning(move |new| {
            Ok(SendOutcome::Stored { message: stored(new, 7), event_seq: 7, recipients: vec![me.user_id, other] })
        });
        m.bus
            .expect_publish()
            .withf(move |recipients, delivery| {
                recipients == [me.user_id, other].as_slice()
                    && matches!(delivery, Delivery::Event(e) if e.event_seq == 7 && e.frame.contains("\"seq\":7"))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = service(m);
        let sent = service.send(me, text(chat, None)).await.unwrap();
        assert!(sent.created);
        assert_eq!(sent.message.seq, 7);
    }

    #[tokio::test]
    async fn sends_that_came_together_are_stored_together_in_order_and_answered_each() {
        let me = caller();
        let (mine, theirs) = (ChatId::new(), ChatId::new());
        let mut m = MockSet::new(Utc::now());
        m.messages
            .expect_send_all()
            .withf(move |news| news.iter().map(|n| n.chat_id).collect::<Vec<_>>() == [mine, theirs, mine])
            .times(1)
            .returning(move |news| {
                let stored_in_mine = |new: &NewMessage, seq| {
                    Ok(SendOutcome::Stored { message: stored(new, seq), event_seq: seq, recipients: vec![me.user_id] })
                };
                vec![stored_in_mine(&news[0], 4), Ok(SendOutcome::NotAMember), stored_in_mine(&news[2], 5)]
            });
        m.messages.expect_send().never();
        // Pushed live in the order they were sent.
        let mut order = mockall::Sequence::new();
        for event_seq in [4, 5] {
            m.bus
                .expect_publish()
                .withf(move |_, delivery| matches!(delivery, Delivery::Event(e) if e.event_seq == event_seq))
                .times(1)
                .in_sequence(&mut order)
                .returning(|_, _| Ok(()));
        }
        let answers = service(m).send_all(me, vec![text(mine, None), text(theirs, None), text(mine, None)]).await;
        let seqs: Vec<_> =
            answers.iter().map(|a| a.as_ref().map(|a| a.message.seq).map_err(DomainError::code)).collect();
        assert_eq!(seqs, [Ok(4), Err(ErrorCode::ChatNotFound), Ok(5)], "a refused send refuses no other");
    }

    #[tokio::test]
    async fn a_non_member_cannot_send_and_nothing_is_stored() {
        let mut m = MockSet::new(Utc::now());
        m.messages.expect_send().times(1).returning(|_| Ok(SendOutcome::NotAMember));
        m.bus.expect_publish().never();
        let service = service(m);
        let err = service.send(caller(), text(ChatId::new(), None)).await.unwrap_err();
        assert_eq!(err.code(), "chat_not_found");
    }

    #[tokio::test]
    async fn a_repeated_client_msg_id_returns_the_first_message_and_pushes_it_again_unchanged_without_a_notification() {
        let me = caller();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        let first = NewMessage {
            id: MessageId::new(),
            chat_id: chat,
            sender_id: me.user_id,
            content: MessageBody::parse("hello".into()).unwrap(),
            content_type: ContentType::Text,
            client_msg_id: Some(ClientMsgId::parse("c-1".into()).unwrap()),
            created_at: Utc::now(),
            system: None,
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        };
        let first_stored = stored(&first, 3);
        m.messages
            .expect_send()
            .withf(|new| new.client_msg_id.as_ref().map(ClientMsgId::as_str) == Some("c-1"))
            .returning(move |_| Ok(SendOutcome::Duplicate(first_stored.clone())));
        // Stored before under event 5; the retry stores nothing new.
        let first_id = first.id;
        m.messages
            .expect_sent_event_seq()
            .withf(move |c, id| *c == chat && *id == first_id)
            .returning(|_, _| Ok(Some(5)));
        let other = UserId::new();
        m.chats.expect_members().returning(move |c| Ok(vec![member(c, me.user_id), member(c, other)]));
        m.bus
            .expect_publish()
            .withf(move |recipients, delivery| {
                recipients == [me.user_id, other].as_slice()
                    && matches!(delivery, Delivery::Event(e) if e.event_seq == 5 && e.frame.contains("\"seq\":3"))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        // Its notification went out with the first send: the retry pushes nobody's phone.
        m.push_queue = crate::ports::MockPushQueue::new();
        m.push_queue.expect_offer().never();
        let service = service(m);
        let again = service.send(me, text(chat, Some("c-1"))).await.unwrap();
        assert!(!again.created);
        assert_eq!((again.message.id, again.message.seq), (first.id, 3));
    }

    #[tokio::test]
    async fn reusing_a_client_msg_id_in_another_chat_is_a_conflict() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        let other_chat_msg = NewMessage {
            id: MessageId::new(),
            chat_id: ChatId::new(),
            sender_id: me.user_id,
            content: MessageBody::parse("x".into()).unwrap(),
            content_type: ContentType::Text,
            client_msg_id: Some(ClientMsgId::parse("c-1".into()).unwrap()),
            created_at: Utc::now(),
            system: None,
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        };
        let first = stored(&other_chat_msg, 1);
        m.messages.expect_send().returning(move |_| Ok(SendOutcome::Duplicate(first.clone())));
        m.bus.expect_publish().never();
        let service = service(m);
        let err = service.send(me, text(ChatId::new(), Some("c-1"))).await.unwrap_err();
        assert_eq!(err.code(), "client_msg_id_reused");
    }

    #[tokio::test]
    async fn invalid_content_is_refused_before_touching_storage() {
        // No command, so no call of the service: the mocks expect nothing.
        let _service = service(MockSet::new(Utc::now()));
        let refused = |request: SendRequest| {
            request.into_command(ChatId::new()).unwrap_err().into_error(ErrorCode::InvalidBody, "invalid request body")
        };
        let empty = SendRequest { content: Some("   ".into()), ..text_request(None) };
        assert_eq!(refused(empty).code(), "empty_content");
        let sticker = SendRequest { content_type: "sticker".into(), ..text_request(None) };
        assert_eq!(refused(sticker).code(), "unsupported_content_type");
    }

    #[tokio::test]
    async fn a_former_member_cannot_send_and_reads_only_up_to_their_removal() {
        let me = caller();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| {
            Ok(Some(Member { left_at: Some(LogPosition { seq: 12, event_seq: 15 }), ..member(c, u) }))
        });
        // The store sees that the former member is no longer active.
        m.messages.expect_send().times(1).returning(|_| Ok(SendOutcome::NotAMember));
        m.messages
            .expect_list()
            .withf(move |c, page| *c == chat && page.max_seq == Some(12) && page.limit == 50)
            .times(1)
            .returning(|_, _| Ok(vec![]));
        let service = service(m);
        assert_eq!(service.send(me, text(chat, None)).await.unwrap_err().code(), "chat_not_found");
        service.history(me, chat, Page::new(None, None).unwrap()).await.unwrap();
    }

    #[tokio::test]
    async fn an_active_members_history_is_not_cut() {
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(move |c, u| Ok(Some(member(c, u))));
        m.chats.expect_get().returning(|_| Ok(None));
        m.messages.expect_list().withf(|_, page| page.max_seq.is_none()).times(1).returning(|_, _| Ok(vec![]));
        let service = service(m);
        service.history(caller(), chat, Page::new(None, None).unwrap()).await.unwrap();
    }

    #[tokio::test]
    async fn someone_blocked_cannot_write_in_the_direct_chat() {
        let me = caller();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.messages.expect_send().times(1).returning(|_| Ok(SendOutcome::Blocked));
        m.bus.expect_publish().never();
        let service = service(m);
        assert_eq!(service.send(me, text(chat, None)).await.unwrap_err().code(), "blocked");
    }

    #[tokio::test]
    async fn a_failed_live_push_does_not_fail_a_stored_message() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        m.messages.expect_send().returning(move |new| {
            Ok(SendOutcome::Stored { message: stored(new, 1), event_seq: 1, recipients: vec![me.user_id] })
        });
        m.bus.expect_publish().returning(|_, _| Err(DomainError::unavailable("bus down")));
        let service = service(m);
        assert!(service.send(me, text(ChatId::new(), None)).await.is_ok());
    }

    fn reply_request(reply_to_id: &str) -> SendRequest {
        SendRequest { content: Some("yes".into()), reply_to_id: Some(reply_to_id.into()), ..text_request(None) }
    }

    fn reply(chat_id: ChatId, reply_to_id: MessageId) -> SendCommand {
        reply_request(&reply_to_id.to_string()).into_command(chat_id).unwrap()
    }

    fn member_of_every_chat(m: &mut MockSet) {
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
    }

    #[tokio::test]
    async fn a_reply_to_a_message_of_another_chat_is_refused_and_nothing_is_stored() {
        let me = caller();
        let elsewhere = text_message(ChatId::new(), UserId::new(), 4);
        let mut m = MockSet::new(Utc::now());
        member_of_every_chat(&mut m);
        let found = elsewhere.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.messages.expect_send().never();
        let service = service(m);
        let err = service.send(me, reply(ChatId::new(), elsewhere.id)).await.unwrap_err();
        assert_eq!(err.code(), "invalid_reply");
    }

    #[tokio::test]
    async fn a_reply_to_an_unknown_message_is_refused_like_one_to_another_chat() {
        let mut m = MockSet::new(Utc::now());
        member_of_every_chat(&mut m);
        m.messages.expect_get().returning(|_| Ok(None));
        m.messages.expect_send().never();
        let service = service(m);
        let err = service.send(caller(), reply(ChatId::new(), MessageId::new())).await.unwrap_err();
        assert_eq!(err.code(), "invalid_reply");
        let malformed = reply_request("not-an-id").into_command(ChatId::new()).unwrap();
        assert_eq!(service.send(caller(), malformed).await.unwrap_err().code(), "invalid_reply");
    }

    #[tokio::test]
    async fn a_stranger_replying_is_refused_before_the_target_is_looked_up() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.messages.expect_get().never();
        m.messages.expect_send().never();
        let service = service(m);
        let err = service.send(caller(), reply(ChatId::new(), MessageId::new())).await.unwrap_err();
        assert_eq!(err.code(), "chat_not_found");
    }

    #[tokio::test]
    async fn a_reply_in_the_same_chat_is_stored_with_its_original() {
        let chat = ChatId::new();
        let original = text_message(chat, UserId::new(), 1);
        let mut m = MockSet::new(Utc::now());
        member_of_every_chat(&mut m);
        let found = original.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        let original_id = original.id;
        m.messages
            .expect_send()
            .withf(move |new| new.reply_to_id == Some(original_id) && !new.forwarded)
            .times(1)
            .returning(|new| Ok(SendOutcome::Stored { message: stored(new, 2), event_seq: 2, recipients: vec![] }));
        m.bus.expect_publish().returning(|_, _| Ok(()));
        let service = service(m);
        assert!(service.send(caller(), reply(chat, original.id)).await.unwrap().created);
    }
}
