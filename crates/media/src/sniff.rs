//! File types from magic bytes. `infer` knows the binary formats; what it does
//! not know is plain text when it is valid UTF-8 without binary control bytes,
//! and anything else is `application/octet-stream`.

const UNKNOWN: &str = "application/octet-stream";
const TEXT: &str = "text/plain";

pub(crate) fn mime_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if looks_like_text(head) {
        return TEXT.to_owned();
    }
    UNKNOWN.to_owned()
}

/// UTF-8 (the head may end inside a character) without NUL and other control
/// bytes that text does not contain.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut in the middle of a character at the end of the head: fine.
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&head[..e.valid_up_to()]) {
            Ok(text) => text,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    valid.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}' | '\u{1b}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_formats_are_known_by_their_magic_bytes() {
        assert_eq!(mime_type(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3"), "application/pdf");
        assert_eq!(mime_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(mime_type(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(mime_type(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(mime_type(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"), "video/mp4");
        assert_eq!(mime_type(b"OggS\0\x02\0\0\0\0\0\0\0\0"), "audio/ogg");
    }

    #[test]
    fn utf8_text_is_plain_text_even_cut_mid_character() {
        assert_eq!(mime_type("नमस्ते, hello\n".as_bytes()), TEXT);
        let cut = &"é".as_bytes()[..1];
        assert_eq!(mime_type(&[b"abc", cut].concat()), TEXT);
    }

    #[test]
    fn binary_junk_is_unknown() {
        assert_eq!(mime_type(&[0, 1, 2, 3, 250, 251]), UNKNOWN);
        assert_eq!(mime_type(b""), UNKNOWN);
        assert_eq!(mime_type(b"text with a \0 NUL"), UNKNOWN);
    }
}
