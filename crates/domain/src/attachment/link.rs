//! Signed download links: what a link grants, and when it expires. A media
//! element cannot send `Authorization`, so a client asks for a link and gives
//! its URL to `<video>` or `<audio>`. The link names its user, and every request
//! through it is checked against that user's access, as a bearer request is.

use crate::ids::{AttachmentId, UserId};
use chrono::{DateTime, Duration, Utc};

/// How long a link works unless configured (`ATTACHMENT_LINK_TTL`).
pub const DEFAULT_LINK_TTL: Duration = Duration::minutes(15);

/// Reading one attachment (original and thumbnail) as one user until a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkGrant {
    pub attachment_id: AttachmentId,
    pub user_id: UserId,
    /// Unix seconds; the link works before this second, not from it on.
    pub expires_at: i64,
}

impl LinkGrant {
    /// What the signature covers. The prefix keeps these signatures apart from
    /// anything else the server might sign with a related key.
    pub fn signed_text(&self) -> String {
        format!("chitchat-attachment-link-v1\n{}\n{}\n{}", self.attachment_id, self.user_id, self.expires_at)
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now.timestamp() >= self.expires_at
    }

    pub fn expires_at_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.expires_at, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// A link as issued: its grant and the signature the edge puts in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    pub grant: LinkGrant,
    pub signature: String,
    /// Whether the attachment has a thumbnail the same link also reads.
    pub has_thumbnail: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_expires_at_its_second_and_signs_all_it_names() {
        let grant = LinkGrant { attachment_id: AttachmentId::new(), user_id: UserId::new(), expires_at: 1_000 };
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap_or_default();
        assert!(!grant.is_expired(at(999)));
        assert!(grant.is_expired(at(1_000)));
        let text = grant.signed_text();
        assert!(text.contains(&grant.attachment_id.to_string()) && text.contains(&grant.user_id.to_string()));
        assert!(text.ends_with("\n1000"));
        let other_user = LinkGrant { user_id: UserId::new(), ..grant };
        assert_ne!(other_user.signed_text(), text);
    }
}
