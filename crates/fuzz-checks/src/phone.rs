use crate::assert_client_error;
use chitchat_domain::user::{Phone, Region};

/// A phone number as typed, for the region named by the first two bytes (any
/// region code the server accepts as `DEFAULT_REGION`, written as letters, `IN`,
/// or as two bytes taken modulo 26; others fall back to the default). Normalising is
/// idempotent and yields one E.164 spelling.
pub fn phone(bytes: &[u8]) {
    let (region, raw) = match bytes {
        [a, b, rest @ ..] => (region(*a, *b), String::from_utf8_lossy(rest)),
        _ => (Region::default(), String::from_utf8_lossy(bytes)),
    };
    let phone = match Phone::parse(&raw, region) {
        Ok(phone) => phone,
        Err(error) => return assert_client_error(&error),
    };
    let e164 = phone.as_str();
    assert!(e164.starts_with('+'), "{e164:?} from {raw:?}");
    // Not bounded to E.164's 15 digits: the numbering plans allow longer ones (Germany).
    assert!(e164.len() > 1 && e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164:?} from {raw:?}");
    // Normalised numbers parse to themselves, whatever the region.
    assert_eq!(Phone::parse(e164, region).as_ref(), Ok(&phone), "{raw:?}");
    assert_eq!(Phone::parse(e164, Region::default()).as_ref(), Ok(&phone), "{raw:?}");
}

fn region(a: u8, b: u8) -> Region {
    // Seeds name their region in letters (`IN9112345678`).
    let letters = [a, b];
    if letters.iter().all(u8::is_ascii_uppercase) {
        if let Some(region) = std::str::from_utf8(&letters).ok().and_then(|code| Region::parse(code).ok()) {
            return region;
        }
    }
    let code = [b'A' + a % 26, b'A' + b % 26];
    std::str::from_utf8(&code).ok().and_then(|code| Region::parse(code).ok()).unwrap_or_default()
}
