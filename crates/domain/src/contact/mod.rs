//! Contacts (people a user saved, with an optional alias) and blocks.

use crate::error::DomainError;
use crate::ids::UserId;
use crate::user::{Phone, User};
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

const MAX_ALIAS_CHARS: usize = 64;

/// A saved contact as its owner sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The person with this number, once the two share a chat or they saved the
    /// owner (`services::privacy::accounts_shown_to`); `null` before, whether or not
    /// anyone uses the number, so that saving a number does not tell who is registered.
    pub user: Option<User>,
    /// The saved number (E.164).
    pub phone: String,
    pub alias: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// A saved number that nobody had registered when it was saved. It becomes a
/// `ContactEntry` when its person first logs in (`ContactRepo::claim_pending`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingContact {
    pub owner: UserId,
    pub phone: Phone,
    pub alias: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// A stored contact entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEntry {
    pub owner: UserId,
    pub contact: UserId,
    pub alias: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// An alias: trimmed, at most 64 characters, no control characters and no invisible
/// or direction-changing ones (see `crate::text`); blank means none.
pub fn parse_alias(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(alias) = raw.map(str::trim).filter(|a| !a.is_empty()) else { return Ok(None) };
    let invisible = crate::text::renders_empty(alias) || crate::text::has_stray_format_char(alias);
    if alias.chars().count() > MAX_ALIAS_CHARS || alias.chars().any(char::is_control) || invisible {
        return Err(DomainError::invalid(
            ErrorCode::InvalidAlias,
            format!("alias must be at most {MAX_ALIAS_CHARS} printable characters"),
        ));
    }
    Ok(Some(alias.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_trimmed_optional_and_bounded() {
        assert_eq!(parse_alias(Some("  Mum ")).unwrap(), Some("Mum".into()));
        assert_eq!(parse_alias(Some("   ")).unwrap(), None);
        assert_eq!(parse_alias(None).unwrap(), None);
        assert!(parse_alias(Some(&"x".repeat(65))).is_err());
        for hidden in ["Mum\u{202E}", "\u{200B}", "M\u{200B}um", "\u{3164}"] {
            assert_eq!(parse_alias(Some(hidden)).unwrap_err().code(), "invalid_alias", "{hidden:?}");
        }
    }
}
