//! A person's email address, where login codes may go once they have proved it is theirs.

use crate::error::DomainError;
use crate::ids::UserId;
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use std::str::FromStr;

/// An address as RFC 5321/5322 allow it (read by the `email_address` crate), with a
/// domain that has a dot: mail for `user@localhost` would never leave the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The longest address SMTP carries (RFC 5321's path limit less the brackets).
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid(ErrorCode::InvalidEmail, "not an email address such as name@example.org");
        let trimmed = raw.trim();
        if trimmed.len() > Self::MAX_LEN {
            return Err(bad());
        }
        let parsed = email_address::EmailAddress::from_str(trimmed).map_err(|_| bad())?;
        // Only a bare address: a display name ("Asha <a@b.c>") or a bracketed
        // literal would put more than the address in the mail's headers.
        let domain = parsed.domain();
        if parsed.as_str() != parsed.email() || !domain.contains('.') || domain.starts_with('[') {
            return Err(bad());
        }
        Ok(Self(parsed.email().to_owned()))
    }

    /// A stored address, trusted as valid.
    pub fn from_trusted(address: String) -> Self {
        Self(address)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's address: unverified until they type the code mailed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEmail {
    pub user_id: UserId,
    pub address: EmailAddress,
    /// When the person proved the address theirs; login codes go only to verified addresses.
    pub verified_at: Option<DateTime<Utc>>,
    /// The pending verification code, hashed like login codes; None once verified.
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTime<Utc>>,
    /// Verification codes tried so far (each counted before it is compared).
    pub attempts: i32,
    /// When the address was given (and its code sent).
    pub created_at: DateTime<Utc>,
}

impl UserEmail {
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_read_and_trimmed() {
        assert_eq!(EmailAddress::parse(" asha@example.org ").unwrap().as_str(), "asha@example.org");
        assert!(EmailAddress::parse("first.last+chat@mail.example.co.in").is_ok());
    }

    #[test]
    fn anything_else_is_refused_with_invalid_email() {
        let long = format!("{}@example.org", "a".repeat(250));
        for bad in [
            "",
            "asha",
            "asha@",
            "@example.org",
            "a b@example.org",
            "asha@localhost",
            "Asha <asha@example.org>",
            long.as_str(),
        ] {
            let err = EmailAddress::parse(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidEmail, "{bad}");
        }
    }
}
