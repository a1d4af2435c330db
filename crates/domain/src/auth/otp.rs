use crate::error::DomainError;
use crate::user::Phone;
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// A six-digit one-time code.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl std::fmt::Debug for OtpCode {
    // Codes are secrets: keep them out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

impl OtpCode {
    pub const DIGITS: usize = 6;

    /// Accepts exactly six ASCII digits (surrounding white space ignored).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let code = raw.trim();
        if code.len() != Self::DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(ErrorCode::InvalidCode, "the code is six digits"));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The stored form: a keyed hash bound to the phone, never the code itself.
    pub fn hash(&self, phone: &Phone, pepper: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(pepper.as_bytes());
        hasher.update([0]);
        hasher.update(phone.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// A pending login code for one phone; a new request replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    pub phone: Phone,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    /// Codes tried so far (each counted before it is compared).
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// Compares two hashes in time that does not depend on where they first differ.
pub(crate) fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Region;

    #[test]
    fn only_six_digits_are_a_code() {
        assert!(OtpCode::parse(" 123456 ").is_ok());
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(OtpCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_depends_on_phone_code_and_pepper() {
        let p1 = Phone::parse("+919876543210", Region::default()).unwrap();
        let p2 = Phone::parse("+919876543211", Region::default()).unwrap();
        let code = OtpCode::parse("123456").unwrap();
        let h = code.hash(&p1, "k");
        assert!(!h.contains("123456"));
        assert_ne!(h, code.hash(&p2, "k"));
        assert_ne!(h, code.hash(&p1, "other"));
        assert!(hashes_match(&h, &code.hash(&p1, "k")));
        assert!(!hashes_match(&h, &OtpCode::parse("123457").unwrap().hash(&p1, "k")));
    }

    #[test]
    fn debug_output_hides_the_code() {
        assert!(!format!("{:?}", OtpCode::parse("123456").unwrap()).contains("123456"));
    }
}
