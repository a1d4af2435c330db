//! Chats, their members and the rules about who belongs where.

use crate::error::DomainError;
use crate::ids::{ChatId, UserId};
use crate::message::Message;
use crate::user::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A direct chat between two people, or a group.
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
            _ => Err(DomainError::invalid("invalid_chat_type", "type must be \"direct\" or \"group\"")),
        }
    }
}

/// What a member may do in a chat.
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
            _ => Err(DomainError::invalid("invalid_role", "role must be \"admin\" or \"member\"")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: ChatId,
    #[serde(rename = "type")]
    pub kind: ChatKind,
    pub name: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    /// Position of the chat's newest logged event: a device that loaded the chat
    /// over REST resumes its live stream from here.
    #[serde(default)]
    pub last_event_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The key that makes "the direct chat of A and B" unique whichever of them asks.
pub fn direct_key(a: UserId, b: UserId) -> String {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    format!("{low}:{high}")
}

/// A new direct chat between `creator` and `other`, both as members.
pub fn new_direct(creator: UserId, other: UserId, now: DateTime<Utc>) -> Result<(Chat, Vec<Member>), DomainError> {
    if creator == other {
        return Err(DomainError::invalid("invalid_members", "a direct chat needs another person"));
    }
    let chat = Chat {
        id: ChatId::new(),
        kind: ChatKind::Direct,
        name: None,
        created_by: creator,
        created_at: now,
        last_event_seq: 0,
    };
    let members = [creator, other]
        .into_iter()
        .map(|user_id| Member { chat_id: chat.id, user_id, role: Role::Member, joined_at: now })
        .collect();
    Ok((chat, members))
}

/// A member as clients see it: with the person's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub user: User,
}

/// A chat as its members see it in the list and in details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatView {
    #[serde(flatten)]
    pub chat: Chat,
    pub members: Vec<MemberView>,
    pub last_message: Option<Message>,
    /// Messages after the viewer's read position.
    pub unread_count: i64,
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
