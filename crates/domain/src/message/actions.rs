//! What people do to messages once they are sent: edit, delete, reply, forward,
//! react. The rules are pure functions here; `services::message_actions` applies
//! them to stored messages.

use super::{ContentType, Message};
use crate::chat::Member;
use crate::error::DomainError;
use crate::ids::{ChatId, MessageId, UserId};
use crate::ErrorCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How much of the original a reply shows, in characters.
pub const REPLY_PREVIEW_CHARS: usize = 100;
/// Most chats one message may be forwarded to at once.
pub const MAX_FORWARD_CHATS: usize = 5;
/// Most Unicode scalar values in one reaction (enough for emoji sequences such as
/// flags, skin tones and families).
pub const MAX_EMOJI_CHARS: usize = 8;

/// How long after sending a message its sender may still change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagePolicy {
    /// The sender may edit within this (`MESSAGE_EDIT_WINDOW`).
    pub edit_window: Duration,
    /// The sender may delete for everyone within this (`MESSAGE_DELETE_WINDOW`);
    /// group admins may at any time.
    pub delete_window: Duration,
}

impl Default for MessagePolicy {
    fn default() -> Self {
        Self { edit_window: Duration::minutes(15), delete_window: Duration::hours(48) }
    }
}

/// The message a reply answers, as it is when read.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPreview {
    pub id: MessageId,
    pub sender_id: UserId,
    /// The first 100 characters of the original; None once it is deleted.
    pub preview: Option<String>,
    pub deleted: bool,
}

impl ReplyPreview {
    /// The preview of `original` as it now is.
    pub fn of(original: &Message) -> Self {
        let deleted = original.deleted_at.is_some();
        Self {
            id: original.id,
            sender_id: original.sender_id,
            preview: (!deleted).then(|| original.content.chars().take(REPLY_PREVIEW_CHARS).collect()),
            deleted,
        }
    }
}

/// One earlier version of an edited message: its text, and when an edit replaced it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdit {
    pub content: String,
    pub edited_at: DateTime<Utc>,
}

/// A reaction: 1 to 8 Unicode scalar values with no letters or digits of ASCII, no
/// white space and no control characters (an emoji, not a word), that show
/// something and hold no format character outside an emoji sequence (see
/// `crate::text`): a joiner between emoji is allowed, a lone U+200B is not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        let count = raw.chars().count();
        let refused = |c: char| c.is_ascii_alphanumeric() || c.is_whitespace() || c.is_control();
        let invisible = crate::text::renders_empty(&raw) || crate::text::has_stray_format_char(&raw);
        if count == 0 || count > MAX_EMOJI_CHARS || raw.chars().any(refused) || invisible {
            return Err(DomainError::invalid(
                ErrorCode::InvalidEmoji,
                format!("emoji must be 1 to {MAX_EMOJI_CHARS} characters of an emoji, without letters or digits"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `DELETE /api/messages/{id}?for=`: hide it from oneself, or remove it for everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(rename_all = "snake_case"))]
pub enum DeleteScope {
    Me,
    Everyone,
}

impl DeleteScope {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "me" => Ok(Self::Me),
            "everyone" => Ok(Self::Everyone),
            _ => Err(DomainError::invalid(ErrorCode::InvalidDeleteScope, "for must be \"me\" or \"everyone\"")),
        }
    }
}

/// What happened to a message, in a `message_update` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateAction {
    Edited,
    Deleted,
    Reaction,
}

/// Who reacted with what, or took their reaction back, in a `reaction` update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    pub emoji: String,
    pub user_id: UserId,
    /// True when `user_id` took this reaction back.
    pub removed: bool,
}

fn message_deleted() -> DomainError {
    DomainError::conflict(ErrorCode::MessageDeleted, "the message was deleted")
}

fn system_message() -> DomainError {
    DomainError::invalid(ErrorCode::SystemMessage, "system messages cannot be changed, forwarded or reacted to")
}

fn not_sender(what: &str) -> DomainError {
    DomainError::forbidden(ErrorCode::NotSender, format!("only the sender may {what} this message"))
}

/// Whether `editor` may replace the text of `message` at `now`: the sender, of a
/// text message they wrote themselves (not a forwarded copy), within the edit
/// window, unless it was deleted.
pub fn check_edit(
    message: &Message,
    editor: UserId,
    now: DateTime<Utc>,
    policy: &MessagePolicy,
) -> Result<(), DomainError> {
    if message.sender_id != editor {
        return Err(not_sender("edit"));
    }
    if message.content_type != ContentType::Text || message.forwarded {
        return Err(DomainError::invalid(
            ErrorCode::NotEditable,
            "only text messages you wrote yourself can be edited",
        ));
    }
    if message.deleted_at.is_some() {
        return Err(message_deleted());
    }
    if now - message.created_at > policy.edit_window {
        return Err(DomainError::forbidden(ErrorCode::EditWindowPassed, "the time to edit this message has passed"));
    }
    Ok(())
}

/// Whether `actor` (their membership of the message's chat) may delete `message`
/// for everyone at `now`: its sender within the delete window, or an admin of the
/// group at any time. A message already deleted may be deleted again (nothing
/// happens) by whoever could have deleted it.
pub fn check_delete_for_everyone(
    message: &Message,
    actor: &Member,
    now: DateTime<Utc>,
    policy: &MessagePolicy,
) -> Result<(), DomainError> {
    if message.content_type == ContentType::System {
        return Err(system_message());
    }
    if actor.is_admin() || (message.deleted_at.is_some() && message.sender_id == actor.user_id) {
        return Ok(());
    }
    if message.sender_id != actor.user_id {
        return Err(not_sender("delete for everyone"));
    }
    if now - message.created_at > policy.delete_window {
        return Err(DomainError::forbidden(
            ErrorCode::DeleteWindowPassed,
            "the time to delete this message for everyone has passed",
        ));
    }
    Ok(())
}

/// Whether a server admin may delete the message for everyone: any message but a
/// system one, at any time (membership of its chat is not asked).
pub fn check_moderator_delete(message: &Message) -> Result<(), DomainError> {
    if message.content_type == ContentType::System {
        return Err(system_message());
    }
    Ok(())
}

/// The message a new message in `chat` may reply to: one of the same chat, neither
/// deleted nor a system message. `target` is what the id named, if anything.
pub fn check_reply_target(target: Option<&Message>, chat: ChatId) -> Result<MessageId, DomainError> {
    match target {
        Some(t) if t.chat_id == chat && t.content_type != ContentType::System && t.deleted_at.is_none() => Ok(t.id),
        _ => Err(DomainError::invalid(
            ErrorCode::InvalidReply,
            "reply_to_id must name a message of the same chat that is not deleted",
        )),
    }
}

/// Whether `message` can be reacted to or forwarded: not a system message, not deleted.
pub fn check_shareable(message: &Message) -> Result<(), DomainError> {
    if message.content_type == ContentType::System {
        return Err(system_message());
    }
    if message.deleted_at.is_some() {
        return Err(message_deleted());
    }
    Ok(())
}

/// The distinct chats to forward to: at least one, at most `MAX_FORWARD_CHATS`.
pub fn forward_targets(chat_ids: &[ChatId]) -> Result<Vec<ChatId>, DomainError> {
    let mut targets: Vec<ChatId> = Vec::with_capacity(chat_ids.len());
    for chat in chat_ids {
        if !targets.contains(chat) {
            targets.push(*chat);
        }
    }
    if targets.is_empty() || targets.len() > MAX_FORWARD_CHATS {
        return Err(DomainError::invalid(
            ErrorCode::InvalidChatIds,
            format!("chat_ids must name 1 to {MAX_FORWARD_CHATS} chats"),
        ));
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Role;
    use crate::services::test_support::text_message;

    fn message(sender: UserId, created_at: DateTime<Utc>) -> Message {
        Message { created_at, ..text_message(ChatId::new(), sender, 1) }
    }

    fn member(chat_id: ChatId, user_id: UserId, role: Role) -> Member {
        Member { chat_id, user_id, role, joined_at: Utc::now(), left_at: None }
    }

    #[test]
    fn only_the_sender_edits_and_only_within_the_window() {
        let policy = MessagePolicy::default();
        let now = Utc::now();
        let sender = UserId::new();
        let fresh = message(sender, now - Duration::minutes(14));
        assert!(check_edit(&fresh, sender, now, &policy).is_ok());
        assert_eq!(check_edit(&fresh, UserId::new(), now, &policy).unwrap_err().code(), "not_sender");
        let old = message(sender, now - Duration::minutes(16));
        assert_eq!(check_edit(&old, sender, now, &policy).unwrap_err().code(), "edit_window_passed");
    }

    #[test]
    fn deleted_system_and_forwarded_messages_are_not_edited() {
        let policy = MessagePolicy::default();
        let now = Utc::now();
        let sender = UserId::new();
        let mut deleted = message(sender, now);
        deleted.deleted_at = Some(now);
        assert_eq!(check_edit(&deleted, sender, now, &policy).unwrap_err().code(), "message_deleted");
        let mut system = message(sender, now);
        system.content_type = ContentType::System;
        assert_eq!(check_edit(&system, sender, now, &policy).unwrap_err().code(), "not_editable");
        let mut copy = message(sender, now);
        copy.forwarded = true;
        assert_eq!(check_edit(&copy, sender, now, &policy).unwrap_err().code(), "not_editable");
    }

    #[test]
    fn the_sender_deletes_for_everyone_within_the_window_and_an_admin_at_any_time() {
        let policy = MessagePolicy::default();
        let now = Utc::now();
        let sender = UserId::new();
        let old = message(sender, now - Duration::hours(49));
        let recent = message(sender, now - Duration::hours(47));
        let as_sender = member(old.chat_id, sender, Role::Member);
        assert!(check_delete_for_everyone(&recent, &as_sender, now, &policy).is_ok());
        assert_eq!(
            check_delete_for_everyone(&old, &as_sender, now, &policy).unwrap_err().code(),
            "delete_window_passed"
        );
        let admin = member(old.chat_id, UserId::new(), Role::Admin);
        assert!(check_delete_for_everyone(&old, &admin, now, &policy).is_ok());
    }

    #[test]
    fn a_member_may_not_delete_others_messages_for_everyone() {
        let now = Utc::now();
        let theirs = message(UserId::new(), now);
        let me = member(theirs.chat_id, UserId::new(), Role::Member);
        let err = check_delete_for_everyone(&theirs, &me, now, &MessagePolicy::default()).unwrap_err();
        assert_eq!(err.code(), "not_sender");
        let mut former_admin = member(theirs.chat_id, UserId::new(), Role::Admin);
        former_admin.left_at = Some(crate::chat::LogPosition { seq: 1, event_seq: 1 });
        let err = check_delete_for_everyone(&theirs, &former_admin, now, &MessagePolicy::default()).unwrap_err();
        assert_eq!(err.code(), "not_sender", "an admin who left is no admin");
    }

    #[test]
    fn system_messages_are_never_deleted_for_everyone() {
        let now = Utc::now();
        let mut system = message(UserId::new(), now);
        system.content_type = ContentType::System;
        let admin = member(system.chat_id, UserId::new(), Role::Admin);
        let err = check_delete_for_everyone(&system, &admin, now, &MessagePolicy::default()).unwrap_err();
        assert_eq!(err.code(), "system_message");
    }

    #[test]
    fn a_reply_names_a_live_message_of_the_same_chat() {
        let original = message(UserId::new(), Utc::now());
        assert_eq!(check_reply_target(Some(&original), original.chat_id).unwrap(), original.id);
        for refused in [check_reply_target(Some(&original), ChatId::new()), check_reply_target(None, original.chat_id)]
        {
            assert_eq!(refused.unwrap_err().code(), "invalid_reply");
        }
        let mut deleted = original.clone();
        deleted.deleted_at = Some(Utc::now());
        assert_eq!(check_reply_target(Some(&deleted), original.chat_id).unwrap_err().code(), "invalid_reply");
    }

    #[test]
    fn a_reply_preview_is_the_first_100_characters_or_a_deleted_marker() {
        let mut original = message(UserId::new(), Utc::now());
        original.content = "é".repeat(150);
        let preview = ReplyPreview::of(&original);
        assert_eq!(preview.preview.unwrap().chars().count(), 100);
        assert!(!preview.deleted);
        original.deleted_at = Some(Utc::now());
        original.content = String::new();
        let preview = ReplyPreview::of(&original);
        assert_eq!((preview.preview, preview.deleted), (None, true));
    }

    #[test]
    fn reactions_are_emoji_not_words() {
        for ok in [
            "👍",
            "❤️",
            "🇮🇳",
            "👨‍👩‍👧‍👦",
            "🙏🏽",
            "!",
            "❤\u{FE0F}\u{200D}🔥",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        ] {
            assert!(Emoji::parse(ok.into()).is_ok(), "{ok}");
        }
        for refused in [
            "",
            "ok",
            "1",
            "👍 ",
            "\u{7}",
            "😀😀😀😀😀😀😀😀😀",
            "\u{200B}",
            "\u{202E}👍",
            "👍\u{200B}",
            "\u{FEFF}",
            "\u{FE0F}",
            "\u{E0041}",
            "👍\u{200D}",
            "\u{2800}",
        ] {
            assert_eq!(Emoji::parse(refused.into()).unwrap_err().code(), "invalid_emoji", "{refused:?}");
        }
    }

    #[test]
    fn forwarding_takes_one_to_five_distinct_chats() {
        let a = ChatId::new();
        assert_eq!(forward_targets(&[a, a]).unwrap(), vec![a]);
        assert_eq!(forward_targets(&[]).unwrap_err().code(), "invalid_chat_ids");
        let six: Vec<ChatId> = (0..6).map(|_| ChatId::new()).collect();
        assert_eq!(forward_targets(&six).unwrap_err().code(), "invalid_chat_ids");
    }

    #[test]
    fn deleting_takes_me_or_everyone() {
        assert_eq!(DeleteScope::parse("me").unwrap(), DeleteScope::Me);
        assert_eq!(DeleteScope::parse("everyone").unwrap(), DeleteScope::Everyone);
        assert_eq!(DeleteScope::parse("all").unwrap_err().code(), "invalid_delete_scope");
    }

    #[test]
    fn system_and_deleted_messages_are_not_shared() {
        let mut m = message(UserId::new(), Utc::now());
        assert!(check_shareable(&m).is_ok());
        m.deleted_at = Some(Utc::now());
        assert_eq!(check_shareable(&m).unwrap_err().code(), "message_deleted");
        m.content_type = ContentType::System;
        assert_eq!(check_shareable(&m).unwrap_err().code(), "system_message");
    }
}
