//! Delivery and read receipts, kept as one position per member and chat rather
//! than a row per message per member, so that large groups stay cheap.

use crate::error::DomainError;
use crate::ids::{ChatId, UserId};
use crate::message::MessageStatus;
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

mod batch;

pub use batch::{decide_receipts, LockedPositions, PositionMove, Positions, ReceiptCandidate};

/// What a device reports about messages it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(rename_all = "snake_case"))]
pub enum ReceiptKind {
    Delivered,
    Read,
}

impl ReceiptKind {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "delivered" => Ok(Self::Delivered),
            "read" => Ok(Self::Read),
            _ => Err(DomainError::invalid(ErrorCode::InvalidStatus, "status must be \"delivered\" or \"read\"")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }
}

/// How far one member of a chat has received and read: every message with a
/// `seq` up to the position. Positions only move forward; reading implies
/// receiving; sending a message moves the sender's positions to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadPosition {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Where a chat stands as a whole: the positions every member has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ChatProgress {
    /// Every member has received the messages up to here.
    pub delivered_seq: i64,
    /// Every member has read the messages up to here.
    pub read_seq: i64,
}

impl ChatProgress {
    /// The positions all of `members` have reached (0 when a member has none).
    pub fn of(positions: &[ReadPosition], members: &[UserId]) -> Self {
        Self::among(members, |user| {
            positions.iter().find(|p| p.user_id == *user).map(|p| (p.delivered_seq, p.read_seq))
        })
    }

    /// The positions all of `members` have reached, given each member's
    /// (delivered_seq, read_seq) by `position` (0 when a member has none).
    pub fn among<Id>(members: &[Id], position: impl Fn(&Id) -> Option<Positions>) -> Self {
        let mut progress: Option<Self> = None;
        for member in members {
            let (delivered_seq, read_seq) = position(member).unwrap_or_default();
            let least = progress.get_or_insert(Self { delivered_seq, read_seq });
            least.delivered_seq = least.delivered_seq.min(delivered_seq);
            least.read_seq = least.read_seq.min(read_seq);
        }
        progress.unwrap_or_default()
    }

    /// The ticks of the message at `seq`: read when everyone has read it,
    /// delivered when everyone has it. The sender counts as having read their own
    /// messages, so in a direct chat this is the other person's state.
    pub fn status_of(self, seq: i64) -> MessageStatus {
        if self.read_seq >= seq {
            MessageStatus::Read
        } else if self.delivered_seq >= seq {
            MessageStatus::Delivered
        } else {
            MessageStatus::Sent
        }
    }
}

/// Who received and read one message, and when (for its sender).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub user_id: UserId,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(user: UserId, delivered_seq: i64, read_seq: i64) -> ReadPosition {
        ReadPosition {
            chat_id: ChatId::new(),
            user_id: user,
            delivered_seq,
            read_seq,
            delivered_at: None,
            read_at: None,
        }
    }

    #[test]
    fn a_group_message_is_delivered_when_everyone_has_it_and_read_when_everyone_read_it() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let progress = ChatProgress::of(&[at(a, 9, 9), at(b, 7, 5), at(c, 8, 6)], &[a, b, c]);
        assert_eq!(progress, ChatProgress { delivered_seq: 7, read_seq: 5 });
        assert_eq!(progress.status_of(5), MessageStatus::Read);
        assert_eq!(progress.status_of(6), MessageStatus::Delivered);
        assert_eq!(progress.status_of(8), MessageStatus::Sent);
    }

    #[test]
    fn a_member_without_a_position_holds_the_chat_at_zero() {
        let (a, b) = (UserId::new(), UserId::new());
        assert_eq!(ChatProgress::of(&[at(a, 3, 3)], &[a, b]), ChatProgress::default());
    }

    #[test]
    fn only_delivered_and_read_are_statuses_a_device_reports() {
        assert_eq!(ReceiptKind::parse("read").unwrap(), ReceiptKind::Read);
        assert_eq!(ReceiptKind::parse("sent").unwrap_err().code(), "invalid_status");
    }
}
