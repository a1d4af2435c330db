//! Property tests: what must hold for any input a client can send.

use crate::auth::OtpCode;
use crate::message::{MessageBody, MAX_CONTENT_BYTES};
use crate::search::{snippet, SearchQuery};
use crate::user::{Phone, Region, UserName};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Parsing a phone never panics, and a parsed number parses to itself.
    #[test]
    fn phone_parsing_is_total_and_idempotent(raw in "\\PC{0,40}|[+0-9 ()-]{0,20}") {
        if let Ok(phone) = Phone::parse(&raw, Region::default()) {
            prop_assert!(phone.as_str().starts_with('+'));
            prop_assert_eq!(Phone::parse(phone.as_str(), Region::default()), Ok(phone.clone()));
        }
    }

    /// A message body is accepted exactly when it shows something and fits 64 KiB;
    /// invisible characters alone are blank.
    #[test]
    fn message_bodies_are_accepted_by_the_rule(raw in "[\\PC\u{200B}\u{FEFF}\u{2060}\u{3164}]{0,200}", pad in 0usize..3) {
        let raw = if pad == 2 { raw.repeat(400) } else { raw };
        let ok = !crate::text::renders_empty(&raw) && raw.len() <= MAX_CONTENT_BYTES;
        prop_assert_eq!(MessageBody::parse(raw).is_ok(), ok);
    }

    /// Only six ASCII digits make a code.
    #[test]
    fn codes_are_six_digits(raw in "\\PC{0,10}") {
        let ok = raw.trim().len() == 6 && raw.trim().bytes().all(|b| b.is_ascii_digit());
        prop_assert_eq!(OtpCode::parse(&raw).is_ok(), ok);
    }

    /// Names never panic and, when accepted, are trimmed and bounded.
    #[test]
    fn names_are_trimmed_and_bounded(raw in "[\\PC\u{200B}\u{202E}\u{200D}]{0,80}") {
        if let Ok(name) = UserName::parse(&raw) {
            prop_assert_eq!(name.as_str(), raw.trim());
            prop_assert!(name.as_str().chars().count() <= 64);
            prop_assert!(!crate::text::has_stray_format_char(name.as_str()) && !crate::text::renders_empty(name.as_str()));
        }
    }

    /// Excerpts stay inside the text, and every highlight is an occurrence of the
    /// query or one of its words.
    #[test]
    fn excerpts_mark_only_real_matches(content in "\\PC{0,300}", query in "\\PC{1,12}") {
        let Ok(query) = SearchQuery::parse(&query) else { return Ok(()) };
        let found = snippet(&content, &query);
        let chars: Vec<char> = found.text.chars().collect();
        let lower = |s: &str| s.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect::<String>();
        let needles: Vec<String> =
            std::iter::once(query.as_str()).chain(query.as_str().split_whitespace()).map(lower).collect();
        for [start, end] in found.highlights {
            prop_assert!(start < end && end <= chars.len());
            let marked: String = chars[start..end].iter().collect();
            prop_assert!(needles.contains(&lower(&marked)), "{marked:?} not in {needles:?}");
        }
    }
}
