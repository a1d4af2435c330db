use crate::error::DomainError;
use crate::ErrorCode;

/// The "about" line under a name: 0 to 140 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine(String);

const MAX_STATUS_CHARS: usize = 140;

impl StatusLine {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let status = raw.trim();
        if status.chars().count() > MAX_STATUS_CHARS || status.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidStatusLine,
                format!("status must be at most {MAX_STATUS_CHARS} printable characters"),
            ));
        }
        Ok(Self(status.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_fine_and_long_is_not() {
        assert_eq!(StatusLine::parse("").unwrap().into_inner(), "");
        assert_eq!(StatusLine::parse(&"é".repeat(140)).unwrap().into_inner().chars().count(), 140);
        assert!(StatusLine::parse(&"é".repeat(141)).is_err());
        assert!(StatusLine::parse("a\u{0}b").is_err());
    }
}
