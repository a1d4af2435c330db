//! The uploader's file name, made safe to store, show and put in a download's
//! `Content-Disposition`.

/// Longest name kept, in bytes of UTF-8 (what most file systems allow).
pub const MAX_NAME_BYTES: usize = 255;
/// The name of a file uploaded without one (or with one that is nothing once cleaned).
const UNNAMED: &str = "file";

/// Characters that change how text around them is displayed: bidirectional
/// overrides and isolates can make `evil\u{202E}gpj.exe` look like `evilexe.jpg`.
fn is_display_trick(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The last path component of `raw` (browsers on Windows may send `C:\...\a.png`),
/// without control and display-trick characters, path separators or leading and
/// trailing dots and spaces, at most 255 bytes (cut at a character boundary,
/// keeping the extension when there is one); `file` when nothing is left.
pub fn sanitize_file_name(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default();
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control() && !is_display_trick(*c)).collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return UNNAMED.to_owned();
    }
    if trimmed.len() <= MAX_NAME_BYTES {
        return trimmed.to_owned();
    }
    // Too long: keep a short extension and as much of the stem as fits.
    let (stem, extension) = match trimmed.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, format!(".{ext}")),
        _ => (trimmed, String::new()),
    };
    let mut cut = MAX_NAME_BYTES - extension.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{extension}", &stem[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_path_component_is_kept() {
        assert_eq!(sanitize_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(sanitize_file_name(Some("C:\\Users\\asha\\photo.jpg")), "photo.jpg");
        assert_eq!(sanitize_file_name(Some("a/b/")), "file");
    }

    #[test]
    fn control_and_direction_tricks_are_removed() {
        assert_eq!(sanitize_file_name(Some("evil\u{202E}gpj.exe")), "evilgpj.exe");
        assert_eq!(sanitize_file_name(Some("a\r\nb.txt")), "ab.txt");
        assert_eq!(sanitize_file_name(Some("  ..hidden. ")), "hidden");
    }

    #[test]
    fn missing_or_empty_names_become_file() {
        assert_eq!(sanitize_file_name(None), "file");
        assert_eq!(sanitize_file_name(Some(" ... ")), "file");
    }

    #[test]
    fn unicode_names_stay_and_long_ones_keep_their_extension() {
        assert_eq!(sanitize_file_name(Some("फ़ोटो 1.jpg")), "फ़ोटो 1.jpg");
        let long = format!("{}.pdf", "é".repeat(300));
        let cut = sanitize_file_name(Some(&long));
        assert!(cut.len() <= MAX_NAME_BYTES);
        assert!(cut.ends_with(".pdf"));
    }
}
