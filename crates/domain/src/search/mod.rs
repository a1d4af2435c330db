//! Message search results: the matching message and a short excerpt with the
//! matches marked as character ranges (clients mark them up safely themselves).

use crate::error::DomainError;
use crate::message::Message;
use crate::ErrorCode;
use serde::Serialize;

/// Characters of context shown on each side of the first match.
const CONTEXT_CHARS: usize = 40;
/// Longest message search query, in characters (clients read it from `GET /api/config`).
pub const MAX_QUERY_CHARS: usize = 100;

/// What to look for: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let q = raw.trim();
        if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS || q.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidQuery,
                format!("q must be 1 to {MAX_QUERY_CHARS} printable characters"),
            ));
        }
        Ok(Self(q.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An excerpt of a message around its matches.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    /// `[start, end)` character offsets into `text` of each match.
    pub highlights: Vec<[usize; 2]>,
}

/// One result; results come newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    pub message: Message,
    pub snippet: Snippet,
}

/// The excerpt of `content` around the first case-insensitive occurrence of the
/// query (or of its first word found), with every occurrence in it marked.
pub fn snippet(content: &str, query: &SearchQuery) -> Snippet {
    let chars: Vec<char> = content.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let needles: Vec<Vec<char>> = std::iter::once(query.as_str())
        .chain(query.as_str().split_whitespace())
        .map(|n| n.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect::<Vec<_>>())
        .filter(|n| !n.is_empty())
        .collect();
    let find_all = |needle: &[char]| -> Vec<usize> {
        if needle.len() > lower.len() {
            return Vec::new();
        }
        (0..=lower.len() - needle.len()).filter(|&i| lower[i..i + needle.len()] == *needle).collect()
    };
    let (needle, positions) =
        needles.iter().map(|n| (n.len(), find_all(n))).find(|(_, found)| !found.is_empty()).unwrap_or((0, Vec::new()));
    let first = positions.first().copied().unwrap_or(0);
    let start = first.saturating_sub(CONTEXT_CHARS);
    let end = (first + needle + CONTEXT_CHARS).min(chars.len());
    let highlights = positions
        .iter()
        .filter(|&&p| p >= start && p + needle <= end)
        .map(|&p| [p - start, p - start + needle])
        .collect();
    Snippet { text: chars[start..end].iter().collect(), highlights }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).unwrap()
    }

    #[test]
    fn matches_are_marked_case_insensitively_with_context() {
        let s = snippet("Dinner at Mom's? dinner sounds good", &q("DINNER"));
        assert_eq!(s.text, "Dinner at Mom's? dinner sounds good");
        assert_eq!(s.highlights, vec![[0, 6], [17, 23]]);
    }

    #[test]
    fn a_long_message_is_cut_around_the_first_match() {
        let content = format!("{}needle{}", "a".repeat(100), "b".repeat(100));
        let s = snippet(&content, &q("needle"));
        assert_eq!(s.text.chars().count(), 40 + 6 + 40);
        assert_eq!(s.highlights, vec![[40, 46]]);
    }

    #[test]
    fn cjk_and_partial_words_are_found_and_a_word_of_the_query_is_enough() {
        assert_eq!(snippet("今天晚上一起吃饭吗", &q("吃饭")).highlights, vec![[6, 8]]);
        assert_eq!(snippet("unbelievable", &q("lieva")).highlights, vec![[4, 9]]);
        assert_eq!(snippet("see you at the station", &q("station later")).highlights, vec![[15, 22]]);
    }

    #[test]
    fn queries_are_bounded() {
        assert!(SearchQuery::parse("  ").is_err());
        assert!(SearchQuery::parse(&"x".repeat(101)).is_err());
    }
}
