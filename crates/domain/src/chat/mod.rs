//! Chats, their members and the rules about who belongs where.

mod group;

#[cfg(test)]
pub(crate) use group::joins;
pub use group::{
    describe, new_group, Group, GroupChange, GroupDescription, GroupEffect, GroupName, GroupPolicy, GroupStep,
    PlannedStep, DEFAULT_GROUP_MAX_MEMBERS, MAX_GROUP_DESCRIPTION_CHARS, MAX_GROUP_NAME_CHARS,
};

use crate::error::DomainError;
use crate::ids::{ChatId, UserId};
use crate::message::Message;
use crate::user::User;
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A direct chat between two people, or a group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Direct,
    Group,
}

impl ChatKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "direct" => Ok(Self::Direct),
            "group" => Ok(Self::Group),
            _ => Err(DomainError::invalid(ErrorCode::InvalidChatType, "type must be \"direct\" or \"group\"")),
        }
    }
}

/// What a member may do in a chat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            _ => Err(DomainError::invalid(ErrorCode::InvalidRole, "role must be \"admin\" or \"member\"")),
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: ChatId,
    #[serde(rename = "type")]
    pub kind: ChatKind,
    /// The group's name; None for direct chats.
    pub name: Option<String>,
    /// The group's description (possibly empty); None for direct chats.
    #[serde(default)]
    pub description: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    /// Position of the chat's newest logged event: a device that loaded the chat
    /// over REST resumes its live stream from here.
    #[serde(default)]
    pub last_event_seq: i64,
    /// Counts the changes made to a group's details and members; a change is stored
    /// only if nothing else changed the group since it was decided. Not shown to clients.
    #[serde(skip)]
    pub group_version: i64,
}

/// A position in a chat: a message's `seq` and its `event_seq` in the chat's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPosition {
    pub seq: i64,
    pub event_seq: i64,
}

/// Someone's membership of a chat. A member who left or was removed keeps the row,
/// with the position of the system message that recorded it: they may still read
/// the chat up to there, and nothing after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// None while the member is active.
    #[serde(default)]
    pub left_at: Option<LogPosition>,
}

impl Member {
    /// A member who has not left.
    pub fn is_active(&self) -> bool {
        self.left_at.is_none()
    }

    /// An active admin.
    pub fn is_admin(&self) -> bool {
        self.is_active() && self.role == Role::Admin
    }
}

/// The key that makes "the direct chat of A and B" unique whichever of them asks.
pub fn direct_key(a: UserId, b: UserId) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// A new direct chat between `creator` and `other`, both as members.
pub fn new_direct(creator: UserId, other: UserId, now: DateTime<Utc>) -> Result<(Chat, Vec<Member>), DomainError> {
    if creator == other {
        return Err(DomainError::invalid(ErrorCode::InvalidMembers, "a direct chat needs another person"));
    }
    let chat = Chat {
        id: ChatId::new(),
        kind: ChatKind::Direct,
        name: None,
        description: None,
        created_by: creator,
        created_at: now,
        last_event_seq: 0,
        group_version: 0,
    };
    let members = [creator, other]
        .into_iter()
        .map(|user_id| Member { chat_id: chat.id, user_id, role: Role::Member, joined_at: now, left_at: None })
        .collect();
    Ok((chat, members))
}

/// A member as clients see it: with the person's public profile.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub user: User,
}

/// Whether the caller is still in a chat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Active,
    /// Left or was removed: the chat is read-only up to `left_at_seq`.
    Left,
}

/// The caller's own membership, in the answers they get over REST.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub status: MembershipStatus,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    /// The `seq` of the system message that recorded their leaving; None while active.
    pub left_at_seq: Option<i64>,
}

impl From<&Member> for Membership {
    fn from(m: &Member) -> Self {
        Self {
            status: if m.is_active() { MembershipStatus::Active } else { MembershipStatus::Left },
            role: m.role,
            joined_at: m.joined_at,
            left_at_seq: m.left_at.map(|at| at.seq),
        }
    }
}

/// A chat as its members see it in the list and in details. A former member sees
/// it as it was when they left: no members, and the last message and log position
/// of then.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatView {
    #[serde(flatten)]
    pub chat: Chat,
    /// The active members, longest-standing first.
    pub members: Vec<MemberView>,
    pub last_message: Option<Message>,
    /// Messages after the viewer's read position.
    pub unread_count: i64,
    /// The viewer's own settings (absent in frames shared by every member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChatSettings>,
    /// The caller's membership: in REST answers, not in `chat_update` frames (which
    /// every member shares).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_key_is_the_same_from_both_sides() {
        let (a, b) = (UserId::new(), UserId::new());
        assert_eq!(direct_key(a, b), direct_key(b, a));
        assert_ne!(direct_key(a, b), direct_key(a, UserId::new()));
    }

    #[test]
    fn a_direct_chat_with_oneself_is_refused() {
        let a = UserId::new();
        assert_eq!(new_direct(a, a, Utc::now()).unwrap_err().code(), "invalid_members");
    }

    #[test]
    fn a_direct_chat_has_both_people() {
        let (a, b) = (UserId::new(), UserId::new());
        let (chat, members) = new_direct(a, b, Utc::now()).unwrap();
        assert_eq!(chat.kind, ChatKind::Direct);
        let ids: Vec<_> = members.iter().map(|m| m.user_id).collect();
        assert_eq!(ids, vec![a, b]);
    }
}

/// One person's settings for a chat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatSettings {
    /// Hidden from the main chat list.
    pub archived: bool,
    /// No notifications until then; None when not muted.
    pub muted_until: Option<DateTime<Utc>>,
    /// Shown at the top of the chat list.
    pub pinned: bool,
}

impl ChatSettings {
    pub fn is_muted(&self, now: DateTime<Utc>) -> bool {
        self.muted_until.is_some_and(|until| until > now)
    }
}
