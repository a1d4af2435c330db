//! Messages and the values a sender provides.

use crate::error::DomainError;
use crate::ids::{ChatId, MessageId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Largest message text accepted, in bytes of UTF-8.
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;
/// Longest idempotency key a client may send.
pub const MAX_CLIENT_MSG_ID: usize = 128;
/// Most messages one history page returns.
pub const MAX_PAGE: i64 = 100;
/// History page size when the client does not say.
pub const DEFAULT_PAGE: i64 = 50;

/// What kind of content a message carries. Only text exists until attachments land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Text,
}

impl ContentType {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "text" => Ok(Self::Text),
            other => Err(DomainError::invalid(
                "unsupported_content_type",
                format!("content_type {other:?} is not supported; use \"text\""),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
        }
    }
}

/// Message text: not blank, at most 64 KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::invalid("empty_content", "message content must not be empty"));
        }
        if raw.len() > MAX_CONTENT_BYTES {
            return Err(DomainError::too_large(
                "content_too_large",
                format!("message content must be at most {MAX_CONTENT_BYTES} bytes"),
            ));
        }
        Ok(Self(raw))
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
                "invalid_client_msg_id",
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
}

/// A stored message. `seq` is its 1-based position in the chat, assigned when stored.
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

/// A page of history, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Page {
    /// Clamps what a client asked for: negative offsets are refused, limits capped.
    pub fn new(offset: Option<i64>, limit: Option<i64>) -> Result<Self, DomainError> {
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(DomainError::invalid("invalid_offset", "offset must not be negative"));
        }
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit < 1 {
            return Err(DomainError::invalid("invalid_limit", "limit must be at least 1"));
        }
        Ok(Self { offset, limit: limit.min(MAX_PAGE) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_content_is_refused() {
        assert_eq!(MessageBody::parse(" \n\t".into()).unwrap_err().code(), "empty_content");
    }

    #[test]
    fn content_over_64_kib_is_refused_and_64_kib_is_fine() {
        assert!(MessageBody::parse("a".repeat(MAX_CONTENT_BYTES)).is_ok());
        let err = MessageBody::parse("a".repeat(MAX_CONTENT_BYTES + 1)).unwrap_err();
        assert!(matches!(err, DomainError::TooLarge { .. }));
    }

    #[test]
    fn only_text_is_a_content_type_for_now() {
        assert_eq!(ContentType::parse("text").unwrap(), ContentType::Text);
        assert_eq!(ContentType::parse("image").unwrap_err().code(), "unsupported_content_type");
    }

    #[test]
    fn page_limit_is_capped_at_100() {
        assert_eq!(Page::new(None, Some(1000)).unwrap().limit, 100);
        assert_eq!(Page::new(None, None).unwrap().limit, DEFAULT_PAGE);
        assert!(Page::new(Some(-1), None).is_err());
        assert!(Page::new(None, Some(0)).is_err());
    }
}
