//! Messages and the values a sender provides.

mod actions;
mod as_of;
mod batch;
mod send;

pub use actions::{
    check_delete_for_everyone, check_edit, check_moderator_delete, check_reply_target, check_shareable,
    forward_targets, DeleteScope, Emoji, MessageEdit, MessagePolicy, ReactionChange, ReplyPreview, UpdateAction,
    MAX_EMOJI_CHARS, MAX_FORWARD_CHATS, REPLY_PREVIEW_CHARS,
};
pub use as_of::{as_of, edits_as_of, later_changes, reply_as_of, LaterChanges, LoggedUpdate};
pub use batch::{decide_batch, BatchDecision, BatchFacts, Candidate, LockedChat, Verdict};
pub(crate) use send::body_of;
pub use send::{ReplyTo, SendCommand, SendRefused, SendRequest};

use crate::attachment::{AttachmentInfo, AttachmentKind};
use crate::error::DomainError;
use crate::ids::{AttachmentId, ChatId, MessageId, UserId};
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest message text accepted, in bytes of UTF-8.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;
/// Longest idempotency key a client may send.
pub const MAX_CLIENT_MSG_ID: usize = 128;
/// Most messages one history page returns.
pub const MAX_PAGE: i64 = 100;
/// History page size when the client does not say.
pub const DEFAULT_PAGE: i64 = 50;

/// What kind of content a message carries. Clients send text, or files they
/// uploaded (`image`, `video`, `audio`, `document`, with an optional caption);
/// the server writes `system` messages that record changes to a group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Text,
    System,
    Image,
    Video,
    Audio,
    Document,
}

impl ContentType {
    /// A content type a client may send: `system` is the server's alone.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match Self::from_name(raw) {
            Some(Self::System) | None => Err(DomainError::invalid(
                ErrorCode::UnsupportedContentType,
                format!("content_type {raw:?} is not supported; use text, image, video, audio or document"),
            )),
            Some(known) => Ok(known),
        }
    }

    /// Any known content type by its name, as stored.
    pub fn from_name(raw: &str) -> Option<Self> {
        match raw {
            "text" => Some(Self::Text),
            "system" => Some(Self::System),
            other => AttachmentKind::from_name(other).map(Self::carrying),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::System => "system",
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }

    /// The kind of file a message of this type carries; None for text and system.
    pub fn attachment_kind(self) -> Option<AttachmentKind> {
        match self {
            Self::Text | Self::System => None,
            Self::Image => Some(AttachmentKind::Image),
            Self::Video => Some(AttachmentKind::Video),
            Self::Audio => Some(AttachmentKind::Audio),
            Self::Document => Some(AttachmentKind::Document),
        }
    }

    /// The content type of a message carrying files of `kind`.
    pub fn carrying(kind: AttachmentKind) -> Self {
        match kind {
            AttachmentKind::Image => Self::Image,
            AttachmentKind::Video => Self::Video,
            AttachmentKind::Audio => Self::Audio,
            AttachmentKind::Document => Self::Document,
        }
    }
}

/// What a system message records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemAction {
    GroupCreated,
    MemberAdded,
    MemberRemoved,
    MemberLeft,
    RoleChanged,
    GroupUpdated,
    /// A call in the chat ended; `call` says how.
    Call,
}

/// The machine-readable side of a system message: what happened, who did it and
/// to whom. `content` carries the same as a sentence for people.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub action: SystemAction,
    pub actor_id: UserId,
    /// The members the change is about (added, removed, promoted...); may be empty.
    pub user_ids: Vec<UserId>,
    /// The new role, on `role_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::chat::Role>,
    /// The call's record, on `call`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::call::CallInfo>,
}

/// Message text: not blank (it must show something: white space, zero-width and
/// other invisible characters alone are blank), at most 64 KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        if crate::text::renders_empty(&raw) {
            return Err(DomainError::invalid(ErrorCode::EmptyContent, "message content must not be empty"));
        }
        // No store keeps a NUL inside text (PostgreSQL refuses it), and no person types one.
        if raw.contains('\0') {
            return Err(DomainError::invalid(
                ErrorCode::InvalidContent,
                "message content must not contain NUL characters",
            ));
        }
        if raw.len() > MAX_CONTENT_BYTES {
            return Err(DomainError::too_large(
                ErrorCode::ContentTooLarge,
                format!("message content must be at most {MAX_CONTENT_BYTES} bytes"),
            ));
        }
        Ok(Self(raw))
    }

    /// The optional caption of a photo, video, voice or document message: may be
    /// empty (a blank one is), at most 64 KiB.
    pub fn caption(raw: String) -> Result<Self, DomainError> {
        if crate::text::renders_empty(&raw) {
            return Ok(Self(String::new()));
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The client's idempotency key: a retried send with the same key is the same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > MAX_CLIENT_MSG_ID || raw.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidClientMsgId,
                format!("client_msg_id must be 1 to {MAX_CLIENT_MSG_ID} printable characters"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Delivery state as the sender sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
}

/// A stored message. `seq` is its 1-based position in the chat, assigned when stored.
/// The fields after `system` are left out of its JSON while empty, so clients that
/// do not know them see the message as before.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub content: String,
    pub content_type: ContentType,
    pub seq: i64,
    pub status: MessageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Only on system messages (`content_type: "system"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemInfo>,
    /// The message this one replies to, as it is when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyPreview>,
    /// True on a copy made by forwarding another message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
    /// When the sender last edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted for everyone; its `content` is empty from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// How many members reacted with each emoji.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, i64>,
    /// The reaction of whoever reads it, in their own history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_reaction: Option<String>,
    /// The files it carries, in the order sent; always present, empty on text
    /// and system messages and once the message is deleted for everyone.
    #[serde(default)]
    pub attachments: Vec<AttachmentInfo>,
}

/// A message ready to be stored; the store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub content: MessageBody,
    pub content_type: ContentType,
    pub client_msg_id: Option<ClientMsgId>,
    pub created_at: DateTime<Utc>,
    /// Set on system messages only.
    pub system: Option<SystemInfo>,
    /// The message of the same chat this one replies to.
    pub reply_to_id: Option<MessageId>,
    /// A copy made by forwarding.
    pub forwarded: bool,
    /// The uploads it carries, in order (checked by the service: the sender's own,
    /// of the message's kind).
    pub attachments: Vec<AttachmentId>,
}

/// The result of an append: the stored message, and whether this call created it
/// (false when the `client_msg_id` had been used before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    pub created: bool,
    /// The message's position in the chat's event log, when this call created it.
    pub event_seq: Option<i64>,
}

/// What `MessageRepo::send` found and did with a message sent by a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Stored with the chat's next `seq`: the message as stored, its position in
    /// the chat's event log, and the chat's active members at that moment (who
    /// get it live).
    Stored { message: Message, event_seq: i64, recipients: Vec<UserId> },
    /// The sender used this `client_msg_id` before: the first message (perhaps of
    /// another chat). Nothing was stored.
    Duplicate(Message),
    /// The sender is not an active member of the chat. Nothing was stored.
    NotAMember,
    /// A direct chat whose other member blocks the sender. Nothing was stored.
    Blocked,
}

/// A page of history, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
    /// Only messages with `seq` up to this one (a former member's history ends at
    /// their removal, `before_seq` pages end before it); None for no bound.
    pub max_seq: Option<i64>,
    /// Only messages with `seq` after this one (`after_seq`); such pages run oldest
    /// first, so a client can page forward from a position.
    pub after_seq: Option<i64>,
    /// Whose history it is: their hidden messages are left out and their own
    /// reactions filled in. None for the chat as such.
    pub viewer: Option<UserId>,
}

/// Where a page of history starts: the seed's offset from the newest, or a cursor
/// that stays stable while new messages arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
}

impl Page {
    /// Clamps what a client asked for: negative offsets are refused, limits capped.
    pub fn new(offset: Option<i64>, limit: Option<i64>) -> Result<Self, DomainError> {
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(DomainError::invalid(ErrorCode::InvalidOffset, "offset must not be negative"));
        }
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit < 1 {
            return Err(DomainError::invalid(ErrorCode::InvalidLimit, "limit must be at least 1"));
        }
        Ok(Self { offset, limit: limit.min(MAX_PAGE), max_seq: None, after_seq: None, viewer: None })
    }

    /// The same page as `viewer` sees it.
    pub fn for_viewer(self, viewer: UserId) -> Self {
        Self { viewer: Some(viewer), ..self }
    }

    /// A page positioned by a cursor: newest first before `before_seq`, oldest
    /// first after `after_seq`; not both.
    pub fn with_cursor(self, cursor: Cursor) -> Result<Self, DomainError> {
        match (cursor.before_seq, cursor.after_seq) {
            (Some(_), Some(_)) => {
                Err(DomainError::invalid(ErrorCode::InvalidCursor, "give before_seq or after_seq, not both"))
            }
            (Some(before), None) if before < 1 => {
                Err(DomainError::invalid(ErrorCode::InvalidCursor, "before_seq must be at least 1"))
            }
            (Some(before), None) => Ok(self.up_to(before - 1)),
            (None, Some(after)) if after < 0 => {
                Err(DomainError::invalid(ErrorCode::InvalidCursor, "after_seq must not be negative"))
            }
            (None, Some(after)) => Ok(Self { after_seq: Some(after), ..self }),
            (None, None) => Ok(self),
        }
    }

    /// True when the page runs oldest first.
    pub fn ascending(&self) -> bool {
        self.after_seq.is_some()
    }

    /// The same page of the history that ends at `seq`.
    pub fn up_to(self, seq: i64) -> Self {
        Self { max_seq: Some(self.max_seq.map_or(seq, |bound| bound.min(seq))), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_content_is_refused() {
        assert_eq!(MessageBody::parse(" \n\t".into()).unwrap_err().code(), "empty_content");
        assert_eq!(MessageBody::parse("a\0b".into()).unwrap_err().code(), "invalid_content");
        assert!(MessageBody::parse("two\nlines\tand a tab".into()).is_ok());
    }

    #[test]
    fn text_that_shows_nothing_is_blank() {
        for blank in
            ["\u{200B}\u{200B}\u{200B}", "\u{FEFF}", " \u{200B}\n\u{2060}", "\u{3164}", "\u{2800}", "\u{E0020}"]
        {
            assert_eq!(MessageBody::parse(blank.into()).unwrap_err().code(), "empty_content", "{blank:?}");
            assert_eq!(MessageBody::caption(blank.into()).unwrap().as_str(), "", "{blank:?}");
        }
        // Direction marks and joiners inside real text are kept: Arabic, Hebrew and emoji need them.
        for text in ["👨\u{200D}👩\u{200D}👧", "שלום\u{200F}!", "a\u{200B}b"] {
            assert_eq!(MessageBody::parse(text.into()).unwrap().as_str(), text);
        }
    }

    #[test]
    fn content_over_64_kib_is_refused_and_64_kib_is_fine() {
        assert!(MessageBody::parse("a".repeat(MAX_CONTENT_BYTES)).is_ok());
        let err = MessageBody::parse("a".repeat(MAX_CONTENT_BYTES + 1)).unwrap_err();
        assert!(matches!(err, DomainError::TooLarge { .. }));
    }

    #[test]
    fn clients_send_text_and_files_but_never_system_messages() {
        assert_eq!(ContentType::parse("text").unwrap(), ContentType::Text);
        for name in ["image", "video", "audio", "document"] {
            assert_eq!(ContentType::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(ContentType::parse("sticker").unwrap_err().code(), "unsupported_content_type");
        assert_eq!(ContentType::parse("system").unwrap_err().code(), "unsupported_content_type");
        assert_eq!(ContentType::from_name("system"), Some(ContentType::System));
        assert_eq!(ContentType::Image.attachment_kind(), Some(AttachmentKind::Image));
        assert_eq!(ContentType::Text.attachment_kind(), None);
    }

    #[test]
    fn a_caption_may_be_empty_but_not_too_large() {
        assert_eq!(MessageBody::caption("  ".into()).unwrap().as_str(), "");
        assert_eq!(MessageBody::caption("look".into()).unwrap().as_str(), "look");
        assert!(MessageBody::caption("a".repeat(MAX_CONTENT_BYTES + 1)).is_err());
    }

    #[test]
    fn system_info_is_serialised_only_when_present() {
        let mut message = Message {
            id: MessageId::new(),
            chat_id: ChatId::new(),
            sender_id: UserId::new(),
            content: "hi".into(),
            content_type: ContentType::Text,
            seq: 1,
            status: MessageStatus::Sent,
            client_msg_id: None,
            created_at: Utc::now(),
            system: None,
            reply_to: None,
            forwarded: false,
            edited_at: None,
            deleted_at: None,
            reactions: BTreeMap::new(),
            my_reaction: None,
            attachments: Vec::new(),
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["attachments"], serde_json::json!([]), "attachments is always an array");
        for absent in ["system", "reply_to", "forwarded", "edited_at", "deleted_at", "reactions", "my_reaction"] {
            assert!(json.get(absent).is_none(), "{absent} is left out while empty");
        }
        message.content_type = ContentType::System;
        message.system = Some(SystemInfo {
            action: SystemAction::MemberAdded,
            actor_id: message.sender_id,
            user_ids: vec![UserId::new()],
            role: None,
            call: None,
        });
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["content_type"], "system");
        assert_eq!(json["system"]["action"], "member_added");
        assert_eq!(json["system"]["actor_id"], message.sender_id.to_string());
        assert!(json["system"].get("role").is_none());
    }

    #[test]
    fn a_page_up_to_a_seq_keeps_the_lower_bound() {
        let page = Page::new(None, None).unwrap();
        assert_eq!(page.max_seq, None);
        assert_eq!(page.up_to(9).max_seq, Some(9));
        assert_eq!(page.up_to(9).up_to(12).max_seq, Some(9));
    }

    #[test]
    fn cursors_bound_the_page_and_exclude_each_other() {
        let page = Page::new(None, Some(10)).unwrap();
        let before = page.with_cursor(Cursor { before_seq: Some(40), after_seq: None }).unwrap();
        assert_eq!((before.max_seq, before.ascending()), (Some(39), false));
        let after = page.with_cursor(Cursor { before_seq: None, after_seq: Some(7) }).unwrap();
        assert_eq!((after.after_seq, after.ascending()), (Some(7), true));
        let former =
            Page::new(None, None).unwrap().up_to(12).with_cursor(Cursor { before_seq: Some(40), after_seq: None });
        assert_eq!(former.unwrap().max_seq, Some(12), "a former member's bound still holds");
        assert!(page.with_cursor(Cursor { before_seq: Some(3), after_seq: Some(1) }).is_err());
        assert!(page.with_cursor(Cursor { before_seq: Some(0), after_seq: None }).is_err());
    }

    #[test]
    fn page_limit_is_capped_at_100() {
        assert_eq!(Page::new(None, Some(1000)).unwrap().limit, 100);
        assert_eq!(Page::new(None, None).unwrap().limit, DEFAULT_PAGE);
        assert!(Page::new(Some(-1), None).is_err());
        assert!(Page::new(None, Some(0)).is_err());
    }
}
