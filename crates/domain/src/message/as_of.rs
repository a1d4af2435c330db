//! A message as it was at an earlier point of its chat's log: what a former member
//! of a group sees, since nothing that happens after they left reaches them.

use super::{Message, MessageEdit, ReactionChange, ReplyPreview, UpdateAction, REPLY_PREVIEW_CHARS};
use crate::ids::{MessageId, UserId};
use std::collections::{BTreeMap, HashMap};

/// A logged change to a message (`message_update` in the chat's log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedUpdate {
    pub message_id: MessageId,
    pub event_seq: i64,
    pub action: UpdateAction,
    /// On `reaction` only.
    pub reaction: Option<ReactionChange>,
}

/// How a message's logged changes stand relative to the position `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaterChanges {
    /// Nothing changed after `until`: the message is as it was.
    None,
    /// It was deleted for everyone after `until`. Its text and edits are gone from
    /// the store, and its sender took it back from everyone: it stays deleted.
    Deleted,
    /// It was edited or reacted to after `until`; `later_edits` of its edits came after.
    Changed { later_edits: usize },
}

/// What changed in `message` after position `until`, from its logged updates.
pub fn later_changes(message: MessageId, updates: &[LoggedUpdate], until: i64) -> LaterChanges {
    let later: Vec<&LoggedUpdate> = updates.iter().filter(|u| u.message_id == message && u.event_seq > until).collect();
    if later.is_empty() {
        LaterChanges::None
    } else if later.iter().any(|u| u.action == UpdateAction::Deleted) {
        LaterChanges::Deleted
    } else {
        LaterChanges::Changed { later_edits: later.iter().filter(|u| u.action == UpdateAction::Edited).count() }
    }
}

/// `message` as it was at position `until` of its chat's log: its text, edit time
/// and reactions then. `updates` are its logged changes (others are ignored) and
/// `edits` its stored edits, oldest first (each keeps the text it replaced); they
/// are needed only when `later_changes` says `Changed`. The reader's own reaction
/// stays: a former member cannot have changed it after leaving.
pub fn as_of(mut message: Message, updates: &[LoggedUpdate], edits: &[MessageEdit], until: i64) -> Message {
    let LaterChanges::Changed { later_edits } = later_changes(message.id, updates, until) else {
        return message;
    };
    if later_edits > 0 {
        let kept = edits.len().saturating_sub(later_edits);
        if let Some(replaced) = edits.get(kept) {
            message.content = replaced.content.clone();
        }
        message.edited_at = kept.checked_sub(1).and_then(|last| edits.get(last)).map(|e| e.edited_at);
    }
    message.reactions = reactions_at(message.id, updates, until);
    message
}

/// The preview of a reply's original (`original`'s logged `updates` and stored
/// `edits`) as it was at position `until`: the text it had then, unless it was
/// deleted since.
pub fn reply_as_of(
    mut original: ReplyPreview,
    updates: &[LoggedUpdate],
    edits: &[MessageEdit],
    until: i64,
) -> ReplyPreview {
    if let LaterChanges::Changed { later_edits } = later_changes(original.id, updates, until) {
        if let Some(then) = edits.get(edits.len().saturating_sub(later_edits)).filter(|_| later_edits > 0) {
            original.preview = Some(then.content.chars().take(REPLY_PREVIEW_CHARS).collect());
        }
    }
    original
}

/// The edits of `message` that had been made by position `until`, oldest first.
pub fn edits_as_of(
    message: MessageId,
    updates: &[LoggedUpdate],
    mut edits: Vec<MessageEdit>,
    until: i64,
) -> Vec<MessageEdit> {
    match later_changes(message, updates, until) {
        LaterChanges::Changed { later_edits } => {
            edits.truncate(edits.len().saturating_sub(later_edits));
            edits
        }
        LaterChanges::None | LaterChanges::Deleted => edits,
    }
}

/// The reaction counts of `message` at position `until`, replayed from its log.
fn reactions_at(message: MessageId, updates: &[LoggedUpdate], until: i64) -> BTreeMap<String, i64> {
    let mut mine: Vec<&LoggedUpdate> =
        updates.iter().filter(|u| u.message_id == message && u.event_seq <= until).collect();
    mine.sort_by_key(|u| u.event_seq);
    let mut by_user: HashMap<UserId, &str> = HashMap::new();
    for update in mine {
        match (update.action, &update.reaction) {
            (UpdateAction::Reaction, Some(change)) if change.removed => {
                by_user.remove(&change.user_id);
            }
            (UpdateAction::Reaction, Some(change)) => {
                by_user.insert(change.user_id, &change.emoji);
            }
            (UpdateAction::Deleted, _) => by_user.clear(),
            _ => {}
        }
    }
    let mut counts = BTreeMap::new();
    for emoji in by_user.into_values() {
        *counts.entry(emoji.to_owned()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChatId;
    use crate::services::test_support::text_message;
    use chrono::{Duration, Utc};

    fn reaction(message: MessageId, event_seq: i64, user: UserId, emoji: &str, removed: bool) -> LoggedUpdate {
        LoggedUpdate {
            message_id: message,
            event_seq,
            action: UpdateAction::Reaction,
            reaction: Some(ReactionChange { emoji: emoji.into(), user_id: user, removed }),
        }
    }

    fn edit(message: MessageId, event_seq: i64) -> LoggedUpdate {
        LoggedUpdate { message_id: message, event_seq, action: UpdateAction::Edited, reaction: None }
    }

    #[test]
    fn later_edits_and_reactions_are_undone_earlier_ones_kept() {
        let (ravi, chen, asha) = (UserId::new(), UserId::new(), UserId::new());
        let t0 = Utc::now();
        let mut now = text_message(ChatId::new(), asha, 1);
        now.content = "v3".into();
        now.edited_at = Some(t0 + Duration::seconds(2));
        now.reactions = BTreeMap::from([("😂".to_owned(), 2)]);
        let id = now.id;
        let edits = vec![
            MessageEdit { content: "v1".into(), edited_at: t0 + Duration::seconds(1) },
            MessageEdit { content: "v2".into(), edited_at: t0 + Duration::seconds(2) },
        ];
        let updates = vec![
            reaction(id, 3, ravi, "👍", false),
            edit(id, 4),
            // Left at 5; then Ravi changes his reaction, Chen reacts, Asha edits.
            reaction(id, 6, ravi, "😂", false),
            reaction(id, 7, chen, "😂", false),
            edit(id, 8),
        ];
        let then = as_of(now.clone(), &updates, &edits, 5);
        assert_eq!(then.content, "v2", "the text before the later edit");
        assert_eq!(then.edited_at, Some(t0 + Duration::seconds(1)));
        assert_eq!(then.reactions, BTreeMap::from([("👍".to_owned(), 1)]));
        assert_eq!(edits_as_of(id, &updates, edits.clone(), 5), edits[..1].to_vec());
        assert_eq!(as_of(now.clone(), &updates, &edits, 8), now, "nothing after 8: as it is");
        assert_eq!(edits_as_of(id, &updates, edits.clone(), 8), edits);
    }

    #[test]
    fn before_any_edit_the_original_text_shows_without_an_edit_time() {
        let mut now = text_message(ChatId::new(), UserId::new(), 1);
        now.content = "fixed".into();
        now.edited_at = Some(Utc::now());
        let edits = vec![MessageEdit { content: "typo".into(), edited_at: Utc::now() }];
        let updates = vec![edit(now.id, 9)];
        let then = as_of(now.clone(), &updates, &edits, 4);
        assert_eq!((then.content.as_str(), then.edited_at), ("typo", None));
        assert!(edits_as_of(now.id, &updates, edits, 4).is_empty());
    }

    #[test]
    fn a_reply_previews_its_original_as_it_was() {
        let original = ReplyPreview {
            id: MessageId::new(),
            sender_id: UserId::new(),
            preview: Some("new".into()),
            deleted: false,
        };
        let edits = vec![MessageEdit { content: "old".into(), edited_at: Utc::now() }];
        let updates = vec![edit(original.id, 9)];
        assert_eq!(reply_as_of(original.clone(), &updates, &edits, 4).preview.as_deref(), Some("old"));
        assert_eq!(reply_as_of(original.clone(), &updates, &edits, 9), original);
    }

    #[test]
    fn a_later_deletion_stays() {
        let mut now = text_message(ChatId::new(), UserId::new(), 1);
        now.content = String::new();
        now.deleted_at = Some(Utc::now());
        let updates = vec![
            edit(now.id, 3),
            LoggedUpdate { message_id: now.id, event_seq: 9, action: UpdateAction::Deleted, reaction: None },
        ];
        assert_eq!(as_of(now.clone(), &updates, &[], 5), now);
    }
}
