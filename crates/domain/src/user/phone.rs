use super::numbering::{self, Reach};
use crate::error::DomainError;
use crate::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A phone number in E.164 form (`+919876543210`). The only way to make one is
/// `Phone::parse`, so two spellings of one number are always one user.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

/// The country assumed for numbers written without a `+country` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl Region {
    /// Parses a two-letter ISO region code such as `IN` or `GB`, of a region with a
    /// numbering plan.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        phonenumber::country::Id::from_str(&code.trim().to_ascii_uppercase())
            .ok()
            .filter(|id| phonenumber::metadata::DATABASE.by_id(id.as_ref()).is_some())
            .map(Self)
            .ok_or_else(|| DomainError::invalid(ErrorCode::InvalidRegion, format!("unknown region code {code:?}")))
    }
}

impl Default for Region {
    fn default() -> Self {
        Self(phonenumber::country::Id::IN)
    }
}

/// Longest input we even try to parse; real numbers are far shorter.
const MAX_PHONE_INPUT: usize = 32;

impl Phone {
    /// Normalises what a person typed into E.164, rejecting anything that is not a
    /// valid number in the numbering plan (`invalid_phone`) or not one that can
    /// receive text messages: only mobile numbers, and those of plans where mobile
    /// and fixed-line numbers look alike, such as the US (`phone_not_mobile`).
    pub fn parse(raw: &str, region: Region) -> Result<Self, DomainError> {
        let invalid =
            || DomainError::invalid(ErrorCode::InvalidPhone, "enter a valid phone number, for example +919876543210");
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_PHONE_INPUT {
            return Err(invalid());
        }
        let plan = phonenumber::metadata::DATABASE.by_id(region.0.as_ref()).ok_or_else(invalid)?;
        let number = numbering::parse(raw, plan).ok_or_else(invalid)?;
        // What is stored must mean the same number when typed back as `+country`, in
        // any region, or its owner could never be found or log in by it.
        if numbering::parse(&number.e164, plan).as_ref() != Some(&number) {
            return Err(invalid());
        }
        // A person proves their number with a text message: only numbers that can
        // receive one are accounts. Premium-rate numbers would also make every code
        // a charge to the operator, paid to whoever owns the number.
        match number.reach {
            Reach::TextMessages => Ok(Self(number.e164)),
            Reach::Other => Err(DomainError::invalid(
                ErrorCode::PhoneNotMobile,
                "this number cannot receive text messages; enter a mobile number",
            )),
        }
    }

    /// Rebuilds a phone that was already normalised (read back from storage).
    pub fn from_trusted(e164: String) -> Self {
        Self(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_spellings_are_one_number() {
        let region = Region::default();
        let a = Phone::parse("9876543210", region).unwrap();
        let b = Phone::parse("+91 98765 43210", region).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "+919876543210");
    }

    #[test]
    fn other_regions_follow_the_default_region() {
        let gb = Region::parse("gb").unwrap();
        assert_eq!(Phone::parse("07400 123456", gb).unwrap().as_str(), "+447400123456");
    }

    #[test]
    fn international_spellings_do_not_depend_on_the_region() {
        let italy = Phone::parse("312 345 6789", Region::parse("IT").unwrap()).unwrap();
        assert_eq!(italy.as_str(), "+393123456789");
        for region in ["IN", "GB", "US", "IT"] {
            let region = Region::parse(region).unwrap();
            assert_eq!(Phone::parse("+39 312 345 6789", region), Ok(italy.clone()));
            // An Italian fixed line (leading zero kept) is refused the same everywhere.
            let landline = Phone::parse("+39 0125 6310", region).unwrap_err();
            assert_eq!(landline.code(), "phone_not_mobile");
        }
    }

    #[test]
    fn only_numbers_that_receive_text_messages_are_accepted() {
        let region = Region::default();
        for raw in ["+1 900 555 0199", "+1 900 200 1234", "+44 909 879 0000", "+91 1800 123 4567", "+44 20 7946 0958"] {
            let err = Phone::parse(raw, region).unwrap_err();
            assert_eq!(err.code(), "phone_not_mobile", "{raw:?}");
            assert!(matches!(err, DomainError::Invalid { .. }), "answered 422: {raw:?}");
        }
        for raw in ["+1 415 555 2671", "+44 7400 123456", "+91 98765 43210"] {
            assert!(Phone::parse(raw, region).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn every_accepted_number_parses_back_to_itself() {
        // Kazakhstan's plan read this national spelling as +7 808 880 1367, which is
        // not a valid number when typed that way.
        let kazakhstan = Region::parse("KZ").unwrap();
        for raw in ["888088801367", "888088801367\0\u{fffd}\u{fffd}"] {
            if let Ok(phone) = Phone::parse(raw, kazakhstan) {
                assert_eq!(Phone::parse(phone.as_str(), kazakhstan), Ok(phone.clone()), "{raw:?}");
                assert_eq!(Phone::parse(phone.as_str(), Region::default()), Ok(phone), "{raw:?}");
            }
        }
        let mobile = Phone::parse("8 701 234 5678", kazakhstan).unwrap();
        assert_eq!(mobile.as_str(), "+77012345678", "ordinary Kazakh numbers still pass");
    }

    #[test]
    fn numbers_are_read_as_libphonenumber_reads_them() {
        // National digits that begin with the country code's (91, 55, 39) are national.
        for (region, raw, e164) in [
            ("IN", "9112345678", "+919112345678"),
            ("BR", "(55) 98260-5323", "+5555982605323"),
            ("IT", "391 620 9017", "+393916209017"),
        ] {
            let region = Region::parse(region).unwrap();
            assert_eq!(Phone::parse(raw, region).map(|p| p.as_str().to_owned()), Ok(e164.to_owned()), "{raw:?}");
        }
        // Russia's trunk 8 is not taken off a number that would be left as none: 8 800…
        // is toll free, not invalid.
        let russia = Region::parse("RU").unwrap();
        assert_eq!(Phone::parse("8 800 123-45-67", russia).unwrap_err().code(), "phone_not_mobile");
        // Patterns match whole numbers, not only their start.
        let err = Phone::parse("+63 632 338 4946", Region::default()).unwrap_err();
        assert_eq!(err.code(), "invalid_phone");
    }

    #[test]
    fn garbage_and_short_numbers_are_rejected() {
        for raw in ["", "   ", "abc", "123", "+1", "98765 4321O", "tel:+919876543210", &"9".repeat(40)] {
            let err = Phone::parse(raw, Region::default()).unwrap_err();
            assert_eq!(err.code(), "invalid_phone", "{raw:?}");
        }
    }

    #[test]
    fn unknown_region_is_rejected() {
        assert!(Region::parse("XX").is_err());
    }
}
