//! What a former member of a group reads: messages as they were when they left.
//! Nothing that happens after reaches them, edits and reactions included.

use crate::error::DomainResult;
use crate::event::{ChatEvent, EventKind};
use crate::ids::{ChatId, MessageId};
use crate::message::{
    as_of, edits_as_of, later_changes, reply_as_of, LaterChanges, LoggedUpdate, Message, MessageEdit,
};
use crate::ports::MessageRepo;

/// `list`, messages of `chat`, as they were at position `until` of its log.
pub(super) async fn as_they_were(
    messages: &dyn MessageRepo,
    chat: ChatId,
    until: i64,
    list: Vec<Message>,
) -> DomainResult<Vec<Message>> {
    if list.is_empty() {
        return Ok(list);
    }
    // The originals replies quote are of the same chat, and may have changed too.
    let mut ids: Vec<MessageId> =
        list.iter().flat_map(|m| std::iter::once(m.id).chain(m.reply_to.as_ref().map(|r| r.id))).collect();
    ids.sort_unstable();
    ids.dedup();
    let updates = messages.updates_of(chat, &ids).await?;
    let mut then = Vec::with_capacity(list.len());
    for mut message in list {
        if let Some(original) = message.reply_to.take() {
            let edits = edits_if_needed(messages, original.id, &updates, until).await?;
            message.reply_to = Some(reply_as_of(original, &updates, &edits, until));
        }
        let edits = edits_if_needed(messages, message.id, &updates, until).await?;
        then.push(as_of(message, &updates, &edits, until));
    }
    Ok(then)
}

/// The events of `chat`, each with its message as it was at position `until`.
pub(super) async fn events_as_they_were(
    messages: &dyn MessageRepo,
    chat: ChatId,
    until: i64,
    events: Vec<ChatEvent>,
) -> DomainResult<Vec<ChatEvent>> {
    let carried: Vec<Message> = events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Message(message) => Some(message.clone()),
            EventKind::MessageUpdate(update) => Some(update.message.clone()),
            _ => None,
        })
        .collect();
    let mut then: std::collections::HashMap<MessageId, Message> =
        as_they_were(messages, chat, until, dedup(carried)).await?.into_iter().map(|m| (m.id, m)).collect();
    Ok(events
        .into_iter()
        .map(|mut event| {
            match &mut event.kind {
                EventKind::Message(message) => replace(message, &mut then),
                EventKind::MessageUpdate(update) => replace(&mut update.message, &mut then),
                _ => {}
            }
            event
        })
        .collect())
}

/// The edits of `message` made by position `until`, oldest first.
pub(super) async fn edits_as_they_were(
    messages: &dyn MessageRepo,
    chat: ChatId,
    message: MessageId,
    until: i64,
) -> DomainResult<Vec<MessageEdit>> {
    let updates = messages.updates_of(chat, &[message]).await?;
    Ok(edits_as_of(message, &updates, messages.edits(message).await?, until))
}

/// The stored edits of `message`, when some of them came after `until`.
async fn edits_if_needed(
    messages: &dyn MessageRepo,
    message: MessageId,
    updates: &[LoggedUpdate],
    until: i64,
) -> DomainResult<Vec<MessageEdit>> {
    match later_changes(message, updates, until) {
        LaterChanges::Changed { later_edits } if later_edits > 0 => messages.edits(message).await,
        _ => Ok(Vec::new()),
    }
}

fn dedup(mut list: Vec<Message>) -> Vec<Message> {
    let mut seen = std::collections::HashSet::new();
    list.retain(|m| seen.insert(m.id));
    list
}

fn replace(message: &mut Message, then: &mut std::collections::HashMap<MessageId, Message>) {
    if let Some(earlier) = then.get(&message.id) {
        *message = earlier.clone();
    }
}
