use crate::error::DomainError;
use crate::text::{has_stray_format_char, renders_empty};
use crate::ErrorCode;

/// A display name: trimmed, 1 to 64 characters that show something, no control
/// characters and no invisible or direction-changing ones (see `crate::text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

const MAX_NAME_CHARS: usize = 64;

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if renders_empty(name) {
            return Err(DomainError::invalid(ErrorCode::InvalidName, "name must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                ErrorCode::InvalidName,
                format!("name must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(ErrorCode::InvalidName, "name must not contain control characters"));
        }
        if has_stray_format_char(name) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidName,
                "name must not contain invisible or direction-changing characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_unicode() {
        assert_eq!(UserName::parse("  Ana Lúcia ").unwrap().as_str(), "Ana Lúcia");
    }

    #[test]
    fn rejects_empty_long_and_control() {
        assert!(UserName::parse("  ").is_err());
        assert!(UserName::parse(&"x".repeat(65)).is_err());
        assert!(UserName::parse("a\u{0007}b").is_err());
    }

    #[test]
    fn rejects_invisible_and_direction_changing_characters() {
        for raw in
            ["Asha\u{202E}ahsA", "Asha\u{200B}", "\u{FEFF}Asha", "Asha\u{E0041}", "\u{200B}", "\u{3164}", "\u{2800}"]
        {
            assert_eq!(UserName::parse(raw).unwrap_err().code(), "invalid_name", "{raw:?}");
        }
        assert_eq!(UserName::parse("Asha 👩\u{200D}💻").unwrap().as_str(), "Asha 👩\u{200D}💻", "emoji sequences stay");
    }
}
