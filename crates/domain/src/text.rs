//! Which invisible characters text that people see may hold.
//!
//! Format characters (Unicode category Cf) draw nothing themselves but change the
//! text around them: U+202E turns the rest of a name around, U+200B, a BOM or tag
//! characters hide inside a name so that two names look the same. Emoji need two
//! of them: the zero-width joiner between the emoji of a sequence (👩‍💻) and the tag
//! characters of a subdivision flag (🏴 of England).

use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};

const ZWJ: char = '\u{200D}';
const CANCEL_TAG: char = '\u{E007F}';
const BLACK_FLAG: char = '\u{1F3F4}';

fn is_format(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

/// An emoji (or a part of one, such as a skin tone or VS16) that a joiner may
/// follow; ASCII digits, `#` and `*` are emoji only as keycap bases.
fn joins_after(c: char) -> bool {
    !c.is_ascii() && c != ZWJ && c.is_emoji_char_or_emoji_component()
}

fn joins_before(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char()
}

/// True when `text` holds a format character that is not part of an emoji: a
/// joiner anywhere but between two emoji, tag characters anywhere but in a
/// subdivision flag (🏴, tags, cancel tag), and every other Cf character.
pub fn has_stray_format_char(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ZWJ {
            let after = i.checked_sub(1).map(|p| chars[p]).is_some_and(joins_after);
            let before = chars.get(i + 1).copied().is_some_and(joins_before);
            if !(after && before) {
                return true;
            }
        } else if is_tag(c) {
            let start = i;
            while i < chars.len() && is_tag(chars[i]) && chars[i] != CANCEL_TAG {
                i += 1;
            }
            let flag = start > 0 && chars[start - 1] == BLACK_FLAG;
            let closed = i > start && chars.get(i) == Some(&CANCEL_TAG);
            if !(flag && closed) {
                return true;
            }
        } else if is_format(c) {
            return true;
        }
        i += 1;
    }
    false
}

/// Characters that draw nothing: white space, format characters, and the other
/// default-ignorable code points people use to fake a blank (variation selectors,
/// the combining grapheme joiner, Hangul fillers, the Braille blank).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_format(c)
        || matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// True when `text` would show nothing: empty, or only invisible characters.
pub fn renders_empty(text: &str) -> bool {
    text.chars().all(is_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_and_zero_width_tricks_are_stray() {
        for text in [
            "evil\u{202E}gpj.exe",
            "Asha\u{200B}",
            "\u{FEFF}Asha",
            "Asha\u{E0041}\u{E0042}",
            "Asha\u{200D}Ravi",
            "\u{200D}👍",
            "👍\u{200D}",
            "a\u{2066}b",
            "soft\u{00AD}hyphen",
            "🏴\u{E0067}\u{E0062}",
        ] {
            assert!(has_stray_format_char(text), "{text:?}");
        }
    }

    #[test]
    fn emoji_sequences_are_not_stray() {
        for text in [
            "Asha",
            "👍",
            "👨\u{200D}👩\u{200D}👧\u{200D}👦",
            "👩🏽\u{200D}💻",
            "❤\u{FE0F}\u{200D}🔥",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "Ana 👩\u{200D}💻 Lúcia",
            "🇮🇳",
        ] {
            assert!(!has_stray_format_char(text), "{text:?}");
        }
    }

    #[test]
    fn only_invisible_characters_render_empty() {
        for text in ["", " \n\t", "\u{200B}\u{200B}\u{200B}", "\u{FEFF}", "\u{3164}", "\u{2800}\u{2800}", "\u{FE0F}"] {
            assert!(renders_empty(text), "{text:?}");
        }
        for text in ["a", " . ", "\u{200B}a", "👍", "\u{0301}"] {
            assert!(!renders_empty(text), "{text:?}");
        }
    }
}
