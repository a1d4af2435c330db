//! Editing, deleting, forwarding and reacting to messages. Each change other
//! members must see is logged by the store with the chat's next `event_seq` in the
//! transaction that makes it, then pushed live to the chat's active members as a
//! `message_update` (a forwarded copy as an ordinary `message`).
//!
//! Who may touch a message: whoever may read it (a member, or a former member up
//! to their leaving) may look at its edits, hide it from themself and forward it;
//! changing it (edit, delete for everyone, react) takes an active member, exactly
//! like sending. Everyone else, and whoever hid it, is told it does not exist.

use super::guards::{refuse_if_blocked, require_member};
use super::messages::{message_event, MessageService};
use crate::auth::Caller;
use crate::chat::Member;
use crate::error::{DomainError, DomainResult};
use crate::event::{ChatEvent, Delivery, EventKind};
use crate::ids::{ChatId, MessageId};
use crate::message::{
    body_of, check_delete_for_everyone, check_edit, check_shareable, forward_targets, DeleteScope, Emoji, Message,
    MessageBody, MessageEdit, NewMessage,
};
use crate::ErrorCode;

fn message_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::MessageNotFound, "message not found")
}

/// The store says `chat_not_found` when the caller left the chat while their change
/// was on its way; about a message, that is "message not found".
fn as_message_error(error: DomainError) -> DomainError {
    match error {
        DomainError::NotFound { code: ErrorCode::ChatNotFound, .. } => message_not_found(),
        other => other,
    }
}

/// The message of a logged `message_update`.
fn updated_message(event: ChatEvent) -> DomainResult<Message> {
    match event.kind {
        EventKind::MessageUpdate(update) => Ok(update.message),
        other => Err(DomainError::unavailable(format!("an edit was logged as {other:?}"))),
    }
}

impl MessageService {
    /// The message, when the caller may read it and has not hidden it, with the
    /// caller's membership of its chat.
    pub(crate) async fn readable(&self, caller: Caller, id: MessageId) -> DomainResult<(Message, Member)> {
        let message = self.messages.get(id).await?.ok_or_else(message_not_found)?;
        let member = self.chats.member(message.chat_id, caller.user_id).await?.ok_or_else(message_not_found)?;
        if member.left_at.is_some_and(|left| message.seq > left.seq) {
            return Err(message_not_found());
        }
        Ok((message, member))
    }

    /// Like `readable`, and not hidden by the caller.
    async fn visible(&self, caller: Caller, id: MessageId) -> DomainResult<(Message, Member)> {
        let found = self.readable(caller, id).await?;
        if self.messages.is_hidden(caller.user_id, id).await? {
            return Err(message_not_found());
        }
        Ok(found)
    }

    /// Like `visible`, for a change: the caller must be an active member.
    async fn changeable(&self, caller: Caller, id: MessageId) -> DomainResult<(Message, Member)> {
        let (message, member) = self.visible(caller, id).await?;
        if !member.is_active() {
            return Err(message_not_found());
        }
        Ok((message, member))
    }

    /// Replaces the text of the caller's own message within the edit window; every
    /// member sees the change. Returns the message as it now is.
    pub async fn edit(&self, caller: Caller, id: MessageId, content: String) -> DomainResult<Message> {
        let content = MessageBody::parse(content)?;
        let (message, _) = self.changeable(caller, id).await?;
        let now = self.clock.now();
        check_edit(&message, caller.user_id, now, &self.policy)?;
        refuse_if_blocked(self.chats.as_ref(), self.contacts.as_ref(), message.chat_id, caller.user_id).await?;
        if message.content == content.as_str() {
            return Ok(message);
        }
        let event = self.messages.edit(&message, caller.user_id, &content, now).await.map_err(as_message_error)?;
        let edited = updated_message(event.clone())?;
        self.publish(event).await;
        Ok(edited)
    }

    /// The earlier versions of a message the caller can read, oldest first.
    /// A former member sees those made before they left.
    pub async fn edits(&self, caller: Caller, id: MessageId) -> DomainResult<Vec<MessageEdit>> {
        let (message, member) = self.visible(caller, id).await?;
        match member.left_at {
            Some(left) => {
                super::former::edits_as_they_were(self.messages.as_ref(), message.chat_id, id, left.event_seq).await
            }
            None => self.messages.edits(id).await,
        }
    }

    /// Deletes a message: for the caller alone (their other devices hear of it at
    /// once), or for everyone (its sender within the delete window, or a group
    /// admin), which leaves a placeholder every member sees. Deleting again changes
    /// nothing.
    pub async fn delete(&self, caller: Caller, id: MessageId, scope: DeleteScope) -> DomainResult<()> {
        let now = self.clock.now();
        match scope {
            DeleteScope::Me => {
                let (message, _) = self.readable(caller, id).await?;
                if self.messages.hide(caller.user_id, &message, now).await? {
                    let hidden = Delivery::message_hidden(message.chat_id, caller.user_id, message.id);
                    if let Err(error) = self.bus.publish(&[caller.user_id], hidden).await {
                        tracing::warn!(%error, message_id = %id, "live message_hidden failed; devices filter on reload");
                    }
                }
            }
            DeleteScope::Everyone => {
                let (message, member) = self.changeable(caller, id).await?;
                check_delete_for_everyone(&message, &member, now, &self.policy)?;
                let deleted = self.messages.delete_for_everyone(&message, caller.user_id, now).await;
                self.deleted_for_everyone(&message, deleted.map_err(as_message_error)?).await;
            }
        }
        Ok(())
    }

    /// Deletes a message for everyone on a server admin's decision (a report):
    /// any message but a system one, at any time, whether or not the admin is a
    /// member of its chat; its members see it go as with any deletion. True when
    /// it was deleted now, false when it was deleted already.
    pub(crate) async fn delete_as_moderator(&self, moderator: crate::ids::UserId, id: MessageId) -> DomainResult<bool> {
        let message = self.messages.get(id).await?.ok_or_else(message_not_found)?;
        crate::message::check_moderator_delete(&message)?;
        let deleted = self.messages.delete_by_moderator(&message, moderator, self.clock.now()).await?;
        let done = deleted.is_some();
        self.deleted_for_everyone(&message, deleted).await;
        Ok(done)
    }

    /// After a deletion for everyone: every member hears of it, and files nothing
    /// else carries are removed.
    async fn deleted_for_everyone(&self, message: &Message, logged: Option<ChatEvent>) {
        if let Some(event) = logged {
            self.publish(event).await;
            let carried: Vec<_> = message.attachments.iter().map(|a| a.id).collect();
            super::attachments::release(self.attachments.as_ref(), self.blobs.as_ref(), &carried).await;
        }
    }

    /// Sets the caller's reaction to a message, replacing the one they had.
    pub async fn react(&self, caller: Caller, id: MessageId, emoji: String) -> DomainResult<()> {
        let emoji = Emoji::parse(emoji)?;
        let (message, _) = self.changeable(caller, id).await?;
        check_shareable(&message)?;
        refuse_if_blocked(self.chats.as_ref(), self.contacts.as_ref(), message.chat_id, caller.user_id).await?;
        self.change_reaction(caller, &message, Some(emoji)).await
    }

    /// Takes the caller's reaction to a message back (nothing happens without one).
    pub async fn unreact(&self, caller: Caller, id: MessageId) -> DomainResult<()> {
        let (message, _) = self.changeable(caller, id).await?;
        self.change_reaction(caller, &message, None).await
    }

    async fn change_reaction(&self, caller: Caller, message: &Message, emoji: Option<Emoji>) -> DomainResult<()> {
        let changed = self.messages.set_reaction(message, caller.user_id, emoji, self.clock.now()).await;
        if let Some(event) = changed.map_err(as_message_error)? {
            self.publish(event).await;
        }
        Ok(())
    }

    /// Copies a message the caller can read into chats they are an active member
    /// of, as new messages of theirs marked `forwarded`, each sent like any other.
    /// When one of the chats is not theirs (or they may not write in it), nothing
    /// is forwarded.
    pub async fn forward(&self, caller: Caller, id: MessageId, chat_ids: &[ChatId]) -> DomainResult<Vec<Message>> {
        let targets = forward_targets(chat_ids)?;
        let (source, member) = self.visible(caller, id).await?;
        // A former member forwards the message as they can read it: as it was when they left.
        let source = match member.left_at {
            Some(left) => {
                let chat = source.chat_id;
                let then = super::former::as_they_were(self.messages.as_ref(), chat, left.event_seq, vec![source]);
                then.await?.pop().ok_or_else(message_not_found)?
            }
            None => source,
        };
        check_shareable(&source)?;
        for chat in &targets {
            require_member(self.chats.as_ref(), *chat, caller.user_id).await?;
            refuse_if_blocked(self.chats.as_ref(), self.contacts.as_ref(), *chat, caller.user_id).await?;
        }
        let content = body_of(source.content_type, source.content)?;
        // The copies carry the same stored files: nothing is uploaded again.
        let attachments: Vec<_> = source.attachments.iter().map(|a| a.id).collect();
        let mut copies = Vec::with_capacity(targets.len());
        for chat in targets {
            let appended = self
                .messages
                .append(&NewMessage {
                    id: MessageId::new(),
                    chat_id: chat,
                    sender_id: caller.user_id,
                    content: content.clone(),
                    content_type: source.content_type,
                    client_msg_id: None,
                    created_at: self.clock.now(),
                    system: None,
                    reply_to_id: None,
                    forwarded: true,
                    attachments: attachments.clone(),
                })
                .await?;
            if let Some(event_seq) = appended.event_seq {
                self.publish(message_event(&appended.message, event_seq)).await;
            }
            copies.push(appended.message);
        }
        Ok(copies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ChatKind, LogPosition, Role};
    use crate::event::{MessageUpdate, StatusUpdate};
    use crate::ids::UserId;
    use crate::message::{Appended, MessagePolicy, ReactionChange, UpdateAction};
    use crate::ports::{MockChatRepo, MockContactRepo};
    use crate::services::test_support::{caller, chat, member, ports, stored, text_message, MockSet};
    use chrono::{DateTime, Duration, Utc};

    fn service(m: MockSet) -> MessageService {
        MessageService::new(&ports(m), MessagePolicy::default())
    }

    /// `message` is stored, and every chat is a group in which whoever asks is an
    /// active member with `role`, and has hidden nothing.
    fn stored_in_group(m: &mut MockSet, message: &Message, role: Role) {
        let found = message.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.messages.expect_is_hidden().returning(|_, _| Ok(false));
        m.chats.expect_member().returning(move |c, u| Ok(Some(Member { role, ..member(c, u) })));
        m.chats.expect_get().returning(|id| Ok(Some(chat(id, ChatKind::Group))));
        m.chats.expect_members().returning(|c| Ok(vec![member(c, UserId::new())]));
    }

    fn update(message: &Message, action: UpdateAction, actor: UserId, event_seq: i64) -> ChatEvent {
        ChatEvent {
            room_id: message.chat_id,
            event_seq,
            actor,
            kind: EventKind::MessageUpdate(MessageUpdate { action, message: message.clone(), reaction: None }),
        }
    }

    fn sent_at(message: Message, at: DateTime<Utc>) -> Message {
        Message { created_at: at, ..message }
    }

    #[tokio::test]
    async fn the_sender_edits_within_the_window_and_every_member_hears_of_it() {
        let me = caller();
        let now = Utc::now();
        let mine = sent_at(text_message(ChatId::new(), me.user_id, 3), now - Duration::minutes(5));
        let mut m = MockSet::new(now);
        stored_in_group(&mut m, &mine, Role::Member);
        let logged = update(
            &Message { content: "fixed".into(), edited_at: Some(now), ..mine.clone() },
            UpdateAction::Edited,
            me.user_id,
            8,
        );
        m.messages
            .expect_edit()
            .withf(move |_, editor, content, at| *editor == me.user_id && content.as_str() == "fixed" && *at == now)
            .times(1)
            .returning(move |_, _, _, _| Ok(logged.clone()));
        m.bus
            .expect_publish()
            .withf(|_, d| matches!(d, Delivery::Event(e) if e.event_seq == 8 && e.frame.contains("\"message_update\"")))
            .times(1)
            .returning(|_, _| Ok(()));
        let edited = service(m).edit(me, mine.id, "fixed".into()).await.unwrap();
        assert_eq!((edited.content.as_str(), edited.edited_at), ("fixed", Some(now)));
    }

    #[tokio::test]
    async fn a_non_sender_cannot_edit() {
        let theirs = text_message(ChatId::new(), UserId::new(), 1);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &theirs, Role::Admin);
        m.messages.expect_edit().never();
        let err = service(m).edit(caller(), theirs.id, "mine now".into()).await.unwrap_err();
        assert_eq!(err.code(), "not_sender", "not even an admin");
    }

    #[tokio::test]
    async fn an_edit_after_the_window_is_refused() {
        let me = caller();
        let now = Utc::now();
        let mine = sent_at(text_message(ChatId::new(), me.user_id, 1), now - Duration::minutes(16));
        let mut m = MockSet::new(now);
        stored_in_group(&mut m, &mine, Role::Member);
        m.messages.expect_edit().never();
        let err = service(m).edit(me, mine.id, "too late".into()).await.unwrap_err();
        assert_eq!(err.code(), "edit_window_passed");
    }

    #[tokio::test]
    async fn outsiders_former_members_and_those_who_hid_it_are_told_it_does_not_exist() {
        let me = caller();
        let mine = text_message(ChatId::new(), me.user_id, 5);
        let cases: [(Option<Option<LogPosition>>, bool); 3] =
            [(None, false), (Some(Some(LogPosition { seq: 9, event_seq: 9 })), false), (Some(None), true)];
        for (membership, hidden) in cases {
            let mut m = MockSet::new(Utc::now());
            let found = mine.clone();
            m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
            m.messages.expect_is_hidden().returning(move |_, _| Ok(hidden));
            m.chats
                .expect_member()
                .returning(move |c, u| Ok(membership.map(|left_at| Member { left_at, ..member(c, u) })));
            m.messages.expect_edit().never();
            m.messages.expect_set_reaction().never();
            m.messages.expect_delete_for_everyone().never();
            let service = service(m);
            for err in [
                service.edit(me, mine.id, "x".into()).await.unwrap_err(),
                service.react(me, mine.id, "👍".into()).await.unwrap_err(),
                service.delete(me, mine.id, DeleteScope::Everyone).await.unwrap_err(),
            ] {
                assert_eq!(err.code(), "message_not_found", "{membership:?} hidden={hidden}");
            }
        }
    }

    #[tokio::test]
    async fn a_former_member_reads_edits_only_of_messages_before_they_left() {
        let me = caller();
        let after = text_message(ChatId::new(), UserId::new(), 10);
        let mut m = MockSet::new(Utc::now());
        let found = after.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.messages.expect_is_hidden().returning(|_, _| Ok(false));
        m.chats.expect_member().returning(|c, u| {
            Ok(Some(Member { left_at: Some(LogPosition { seq: 9, event_seq: 12 }), ..member(c, u) }))
        });
        m.messages.expect_edits().never();
        assert_eq!(service(m).edits(me, after.id).await.unwrap_err().code(), "message_not_found");
    }

    #[tokio::test]
    async fn a_former_member_reads_only_the_edits_made_before_they_left() {
        use crate::message::LoggedUpdate;
        let me = caller();
        let before = text_message(ChatId::new(), UserId::new(), 5);
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| {
            Ok(Some(Member { left_at: Some(LogPosition { seq: 9, event_seq: 12 }), ..member(c, u) }))
        });
        let id = before.id;
        let edited =
            move |event_seq| LoggedUpdate { message_id: id, event_seq, action: UpdateAction::Edited, reaction: None };
        let mut messages = crate::ports::MockMessageRepo::new();
        let found = before.clone();
        messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        messages.expect_is_hidden().returning(|_, _| Ok(false));
        messages.expect_updates_of().returning(move |_, _| Ok(vec![edited(7), edited(13)]));
        let at = Utc::now();
        messages.expect_edits().returning(move |_| {
            Ok(vec![
                MessageEdit { content: "first".into(), edited_at: at },
                MessageEdit { content: "second".into(), edited_at: at },
            ])
        });
        m.messages = messages;
        let edits = service(m).edits(me, id).await.unwrap();
        assert_eq!(edits.len(), 1, "the edit made after they left is not shown: {edits:?}");
        assert_eq!(edits[0].content, "first");
    }

    #[tokio::test]
    async fn an_admin_may_delete_anyones_message_for_everyone_at_any_time() {
        let admin = caller();
        let now = Utc::now();
        let old = sent_at(text_message(ChatId::new(), UserId::new(), 2), now - Duration::days(30));
        let mut m = MockSet::new(now);
        stored_in_group(&mut m, &old, Role::Admin);
        let placeholder = Message { content: String::new(), deleted_at: Some(now), ..old.clone() };
        let logged = update(&placeholder, UpdateAction::Deleted, admin.user_id, 6);
        m.messages
            .expect_delete_for_everyone()
            .withf(move |_, actor, _| *actor == admin.user_id)
            .times(1)
            .returning(move |_, _, _| Ok(Some(logged.clone())));
        m.bus.expect_publish().times(1).returning(|_, _| Ok(()));
        service(m).delete(admin, old.id, DeleteScope::Everyone).await.unwrap();
    }

    #[tokio::test]
    async fn a_member_may_not_delete_others_messages_for_everyone() {
        let theirs = text_message(ChatId::new(), UserId::new(), 2);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &theirs, Role::Member);
        m.messages.expect_delete_for_everyone().never();
        let err = service(m).delete(caller(), theirs.id, DeleteScope::Everyone).await.unwrap_err();
        assert_eq!(err.code(), "not_sender");
    }

    #[tokio::test]
    async fn deleting_again_for_everyone_publishes_nothing() {
        let me = caller();
        let mine = text_message(ChatId::new(), me.user_id, 2);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &mine, Role::Member);
        m.messages.expect_delete_for_everyone().returning(|_, _, _| Ok(None));
        m.bus.expect_publish().never();
        service(m).delete(me, mine.id, DeleteScope::Everyone).await.unwrap();
    }

    #[tokio::test]
    async fn deleting_for_me_hides_it_and_tells_only_my_devices() {
        let me = caller();
        let theirs = text_message(ChatId::new(), UserId::new(), 2);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &theirs, Role::Member);
        m.messages.expect_hide().withf(move |user, _, _| *user == me.user_id).times(1).returning(|_, _, _| Ok(true));
        m.messages.expect_delete_for_everyone().never();
        m.bus
            .expect_publish()
            .withf(move |to, d| {
                to == [me.user_id].as_slice()
                    && matches!(d, Delivery::Ephemeral(e) if e.frame.contains("message_hidden"))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        service(m).delete(me, theirs.id, DeleteScope::Me).await.unwrap();
    }

    #[tokio::test]
    async fn one_reaction_per_user_the_new_one_replacing_the_old() {
        let me = caller();
        let theirs = text_message(ChatId::new(), UserId::new(), 2);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &theirs, Role::Member);
        let mut counted = theirs.clone();
        counted.reactions.insert("🎉".into(), 1);
        let logged = ChatEvent {
            kind: EventKind::MessageUpdate(MessageUpdate {
                action: UpdateAction::Reaction,
                message: counted,
                reaction: Some(ReactionChange { emoji: "🎉".into(), user_id: me.user_id, removed: false }),
            }),
            ..update(&theirs, UpdateAction::Reaction, me.user_id, 4)
        };
        m.messages
            .expect_set_reaction()
            .withf(move |_, user, emoji, _| *user == me.user_id && emoji.as_ref().map(Emoji::as_str) == Some("🎉"))
            .times(1)
            .returning(move |_, _, _, _| Ok(Some(logged.clone())));
        m.bus.expect_publish().times(1).returning(|_, _| Ok(()));
        let service = service(m);
        service.react(me, theirs.id, "🎉".into()).await.unwrap();
        assert_eq!(service.react(me, theirs.id, "like".into()).await.unwrap_err().code(), "invalid_emoji");
    }

    #[tokio::test]
    async fn an_unchanged_reaction_publishes_nothing() {
        let me = caller();
        let theirs = text_message(ChatId::new(), UserId::new(), 2);
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &theirs, Role::Member);
        m.messages.expect_set_reaction().withf(|_, _, emoji, _| emoji.is_none()).returning(|_, _, _, _| Ok(None));
        m.bus.expect_publish().never();
        service(m).unreact(me, theirs.id).await.unwrap();
    }

    #[tokio::test]
    async fn forwarding_to_a_chat_the_caller_is_not_in_forwards_nothing() {
        let me = caller();
        let source = text_message(ChatId::new(), UserId::new(), 2);
        let (mine, not_mine) = (ChatId::new(), ChatId::new());
        let mut m = MockSet::new(Utc::now());
        let found = source.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.messages.expect_is_hidden().returning(|_, _| Ok(false));
        m.chats = MockChatRepo::new();
        m.chats.expect_member().returning(move |c, u| Ok((c != not_mine).then(|| member(c, u))));
        m.chats.expect_get().returning(|id| Ok(Some(chat(id, ChatKind::Group))));
        m.messages.expect_append().never();
        let err = service(m).forward(me, source.id, &[mine, not_mine]).await.unwrap_err();
        assert_eq!(err.code(), "chat_not_found");
    }

    #[tokio::test]
    async fn forwarded_copies_are_new_messages_of_the_forwarder_marked_forwarded() {
        let me = caller();
        let source = text_message(ChatId::new(), UserId::new(), 2);
        let targets = [ChatId::new(), ChatId::new()];
        let mut m = MockSet::new(Utc::now());
        stored_in_group(&mut m, &source, Role::Member);
        let content = source.content.clone();
        m.messages
            .expect_append()
            .withf(move |new| new.forwarded && new.sender_id == me.user_id && new.content.as_str() == content)
            .times(2)
            .returning(|new| Ok(Appended { message: stored(new, 1), created: true, event_seq: Some(1) }));
        m.bus.expect_publish().times(2).returning(|_, _| Ok(()));
        let copies = service(m).forward(me, source.id, &targets).await.unwrap();
        assert_eq!(copies.iter().map(|c| c.chat_id).collect::<Vec<_>>(), targets);
        assert!(copies.iter().all(|c| c.forwarded));
    }

    #[tokio::test]
    async fn someone_blocked_cannot_react_in_the_direct_chat_or_forward_into_it() {
        let me = caller();
        let blocker = UserId::new();
        let direct = ChatId::new();
        let theirs = text_message(direct, blocker, 1);
        let mut m = MockSet::new(Utc::now());
        let found = theirs.clone();
        m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
        m.messages.expect_is_hidden().returning(|_, _| Ok(false));
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_get().returning(|id| Ok(Some(chat(id, ChatKind::Direct))));
        m.chats.expect_members().returning(move |c| Ok(vec![member(c, me.user_id), member(c, blocker)]));
        m.contacts = MockContactRepo::new();
        m.contacts.expect_blockers_among().returning(move |who, among| {
            Ok(among.iter().copied().filter(|by| *by == blocker && who == me.user_id).collect())
        });
        m.messages.expect_set_reaction().never();
        m.messages.expect_append().never();
        let service = service(m);
        assert_eq!(service.react(me, theirs.id, "👍".into()).await.unwrap_err().code(), "blocked");
        assert_eq!(service.forward(me, theirs.id, &[direct]).await.unwrap_err().code(), "blocked");
    }

    #[test]
    fn a_status_update_is_not_taken_for_an_edit() {
        let chat = ChatId::new();
        let event = ChatEvent {
            room_id: chat,
            event_seq: 1,
            actor: UserId::new(),
            kind: EventKind::StatusUpdate(StatusUpdate {
                user_id: UserId::new(),
                delivered_seq: 1,
                read_seq: 1,
                chat: crate::receipt::ChatProgress::default().into(),
            }),
        };
        assert!(matches!(updated_message(event), Err(DomainError::Unavailable(_))));
    }
}
