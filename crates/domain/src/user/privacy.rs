//! Who may see when someone was last online.

use crate::error::DomainError;
use crate::ErrorCode;
use serde::{Deserialize, Serialize};

/// The `last_seen` privacy setting: everyone, only the people the user saved as
/// contacts, or nobody. The user always sees their own.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastSeenVisibility {
    #[default]
    Everyone,
    Contacts,
    Nobody,
}

impl LastSeenVisibility {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "everyone" => Ok(Self::Everyone),
            "contacts" => Ok(Self::Contacts),
            "nobody" => Ok(Self::Nobody),
            _ => Err(DomainError::invalid(
                ErrorCode::InvalidPrivacy,
                "last_seen must be \"everyone\", \"contacts\" or \"nobody\"",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Contacts => "contacts",
            Self::Nobody => "nobody",
        }
    }

    /// Whether someone else sees the time; `saved` tells whether the user has them
    /// among their contacts.
    pub fn shows_to_other(self, saved: bool) -> bool {
        match self {
            Self::Everyone => true,
            Self::Contacts => saved,
            Self::Nobody => false,
        }
    }
}

/// The caller's own privacy settings (`privacy` in `GET /api/users/me`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Privacy {
    /// Who sees when the caller was last online.
    pub last_seen: LastSeenVisibility,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_parses_back_from_its_name() {
        for v in [LastSeenVisibility::Everyone, LastSeenVisibility::Contacts, LastSeenVisibility::Nobody] {
            assert_eq!(LastSeenVisibility::parse(v.as_str()).unwrap(), v);
        }
        assert_eq!(LastSeenVisibility::parse("friends").unwrap_err().code(), "invalid_privacy");
    }

    #[test]
    fn contacts_only_shows_to_saved_people() {
        assert!(LastSeenVisibility::Everyone.shows_to_other(false));
        assert!(LastSeenVisibility::Contacts.shows_to_other(true));
        assert!(!LastSeenVisibility::Contacts.shows_to_other(false));
        assert!(!LastSeenVisibility::Nobody.shows_to_other(true));
    }
}
