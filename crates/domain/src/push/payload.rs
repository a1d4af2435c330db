//! What a push says: the JSON the service worker reads.

use crate::ids::ChatId;
use serde::{Deserialize, Serialize};

/// Longest preview of a message's text, in characters.
pub const PREVIEW_CHARS: usize = 100;

/// The text of every push of someone who turned previews off.
pub const HIDDEN_PREVIEW: &str = "New message";

/// Why the device is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    Message,
    Reaction,
    AddedToGroup,
}

/// The payload of one push, encrypted for the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushMessage {
    pub kind: PushKind,
    pub chat_id: ChatId,
    /// The `seq` of the message the push is about.
    pub seq: i64,
    /// The group's name, or in a direct chat the other person's.
    pub chat_name: String,
    pub sender_name: String,
    /// At most [`PREVIEW_CHARS`] characters; [`HIDDEN_PREVIEW`] when the person
    /// turned previews off.
    pub preview: String,
}

/// `text` cut to [`PREVIEW_CHARS`] characters, with an ellipsis when cut.
pub fn preview_of(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= PREVIEW_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(PREVIEW_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_at_most_a_hundred_characters_and_says_when_it_was_cut() {
        assert_eq!(preview_of("  see you at six "), "see you at six");
        let long = "é".repeat(150);
        let preview = preview_of(&long);
        assert_eq!(preview.chars().count(), PREVIEW_CHARS);
        assert!(preview.ends_with('…'));
        assert_eq!(preview_of(&"a".repeat(100)), "a".repeat(100));
    }
}
