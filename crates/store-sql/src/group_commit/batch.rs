//! One group commit: the messages of a batch checked and stored in one
//! transaction, with a fixed number of statements whatever the batch's size.

use super::statements::{Lookups, Writes};
use super::{Mode, Request, Writer};
use crate::error::StoreError;
use crate::models::{ChatEventRow, MessageAttachmentRow, MessageRow, ReadPositionRow};
use crate::repos::hydrate::hydrate;
use crate::run::AsDbConn;
use chitchat_domain::access::sender_is_blocked;
use chitchat_domain::chat::ChatKind;
use chitchat_domain::message::{Message, SendOutcome};
use chitchat_domain::UserId;
use diesel_async::AsyncConnection;
use std::collections::{HashMap, HashSet};

/// What the batch decided for one request before the messages are read back.
enum Decision {
    /// Stored: the index of its row among the stored rows, and its event_seq.
    Store(usize, i64),
    /// An earlier message with the same `client_msg_id` (its id).
    Earlier(String),
    NotAMember,
    Blocked,
}

/// A chat as the batch found it once its row was locked.
struct ChatState {
    kind: ChatKind,
    last_seq: i64,
    last_event_seq: i64,
    /// Active members, longest-standing first.
    members: Vec<String>,
    /// The `created_at` of the last message the batch stores in it.
    last_activity: Option<i64>,
}

/// Checks and stores `requests` in one transaction. Returns one outcome per
/// request, in order; an error means nothing of the batch was stored.
pub(super) async fn store(writer: &Writer, requests: &[Request]) -> Result<Vec<SendOutcome>, StoreError> {
    let mut chat_ids: Vec<&str> = requests.iter().map(|r| r.row.chat_id.as_str()).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    db_run!(attached: writer.pool, |conn| {
        conn.transaction(async |tx| {
            let mut tx = tx.db();
            // Lock the chats' rows first, as every writer of a chat's log does: no
            // membership change, receipt or other message of these chats can slip in
            // between the checks below and the commit.
            let locked = tx.lock(&chat_ids).await?;
            let mut states: HashMap<String, ChatState> = HashMap::with_capacity(locked.len());
            for (id, kind, last_seq, last_event_seq) in locked {
                let kind = ChatKind::parse(&kind).map_err(|e| StoreError::Corrupt(format!("chat kind: {e}")))?;
                states
                    .insert(id, ChatState { kind, last_seq, last_event_seq, members: Vec::new(), last_activity: None });
            }
            let direct_senders: Vec<&str> = requests
                .iter()
                .filter(|r| {
                    r.mode == Mode::Send && states.get(&r.row.chat_id).is_some_and(|s| s.kind == ChatKind::Direct)
                })
                .map(|r| r.row.sender_id.as_str())
                .collect();
            let keyed: Vec<&MessageRow> =
                requests.iter().map(|r| &r.row).filter(|r| r.client_msg_id.is_some()).collect();
            let lookups = Lookups {
                chat_ids: chat_ids.clone(),
                direct_senders,
                keyed_senders: keyed.iter().map(|r| r.sender_id.as_str()).collect(),
                keys: keyed.iter().filter_map(|r| r.client_msg_id.as_deref()).collect(),
            };
            let facts = tx.read(&lookups).await?;
            for (chat, user) in facts.members {
                if let Some(state) = states.get_mut(&chat) {
                    state.members.push(user);
                }
            }
            // Who blocks the senders of direct chats (then filtered to the chats' members).
            let mut blockers: HashMap<String, HashSet<String>> = HashMap::new();
            for (blocked, blocker) in facts.blocks {
                blockers.entry(blocked).or_default().insert(blocker);
            }
            // Messages stored before with the same (sender, client_msg_id).
            let mut earlier: HashMap<(String, String), MessageRow> = HashMap::new();
            for row in facts.earlier {
                if let Some(key) = row.client_msg_id.clone() {
                    earlier.insert((row.sender_id.clone(), key), row);
                }
            }

            // Decide each request in order; stored ones take their chat's next numbers.
            let mut stored: Vec<MessageRow> = Vec::new();
            let mut stored_keys: HashMap<(&str, &str), String> = HashMap::new();
            let mut decisions = Vec::with_capacity(requests.len());
            for request in requests {
                let row = &request.row;
                let Some(state) = states.get_mut(&row.chat_id).filter(|s| s.members.contains(&row.sender_id)) else {
                    decisions.push(Decision::NotAMember);
                    continue;
                };
                let blocks_sender =
                    |member: &String| blockers.get(&row.sender_id).is_some_and(|by| by.contains(member));
                if request.mode == Mode::Send
                    && sender_is_blocked(state.kind, &row.sender_id, &state.members, blocks_sender)
                {
                    decisions.push(Decision::Blocked);
                    continue;
                }
                if let Some(key) = row.client_msg_id.as_deref() {
                    let first = earlier.get(&(row.sender_id.clone(), key.to_owned())).map(|r| r.id.clone());
                    if let Some(id) = first.or_else(|| stored_keys.get(&(row.sender_id.as_str(), key)).cloned()) {
                        decisions.push(Decision::Earlier(id));
                        continue;
                    }
                    stored_keys.insert((row.sender_id.as_str(), key), row.id.clone());
                }
                state.last_seq += 1;
                state.last_event_seq += 1;
                state.last_activity = Some(row.created_at);
                let mut row = row.clone();
                row.seq = state.last_seq;
                decisions.push(Decision::Store(stored.len(), state.last_event_seq));
                stored.push(row);
            }

            let events: Vec<ChatEventRow> = decisions
                .iter()
                .filter_map(|d| match d {
                    Decision::Store(i, event_seq) => Some((&stored[*i], *event_seq)),
                    _ => None,
                })
                .map(|(row, event_seq)| ChatEventRow::message(row, event_seq))
                .collect();
            let counters: Vec<(String, i64, i64, i64)> = states
                .iter()
                .filter_map(|(id, s)| s.last_activity.map(|at| (id.clone(), s.last_seq, s.last_event_seq, at)))
                .collect();
            // Each sender has (and has read) everything up to their own message.
            let mut own: HashMap<(&str, &str), i64> = HashMap::new();
            for row in &stored {
                let seq = own.entry((row.chat_id.as_str(), row.sender_id.as_str())).or_default();
                *seq = (*seq).max(row.seq);
            }
            let positions: Vec<ReadPositionRow> = own
                .into_iter()
                .map(|((chat, user), seq)| ReadPositionRow {
                    chat_id: chat.to_owned(),
                    user_id: user.to_owned(),
                    delivered_seq: seq,
                    read_seq: seq,
                    delivered_at: None,
                    read_at: None,
                })
                .collect();
            // As WhatsApp does: a chat archived without muting comes back with a new message.
            let sent_to: Vec<&str> = decisions
                .iter()
                .zip(requests)
                .filter(|(d, r)| matches!(d, Decision::Store(..)) && r.mode == Mode::Send)
                .map(|(_, r)| r.row.chat_id.as_str())
                .collect();
            let newest = stored.iter().map(|r| r.created_at).max();
            let unarchive = newest.filter(|_| !sent_to.is_empty()).map(|now| (sent_to, now));
            tx.write(&Writes {
                messages: &stored,
                events: &events,
                counters: &counters,
                positions: &positions,
                unarchive,
            })
            .await?;
            let links: Vec<MessageAttachmentRow> = decisions
                .iter()
                .zip(requests)
                .filter_map(|(d, r)| match d {
                    Decision::Store(i, _) => Some((&stored[*i], r)),
                    _ => None,
                })
                .flat_map(|(row, r)| {
                    r.attachments.iter().enumerate().map(|(position, id)| MessageAttachmentRow {
                        message_id: row.id.clone(),
                        attachment_id: id.to_string(),
                        position: i32::try_from(position).unwrap_or(i32::MAX),
                    })
                })
                .collect();
            if !links.is_empty() {
                tx.link_attachments(&links).await.map_err(StoreError::from_link)?;
            }

            // Read back what the senders get: their messages, and earlier messages as
            // they now are (with their reactions).
            let mut rows: Vec<MessageRow> = stored.clone();
            rows.extend(earlier.into_values());
            // A text batch without replies reads nothing more here, so the chats'
            // locks are held for no extra round trip.
            let new: HashSet<&str> = stored.iter().map(|r| r.id.as_str()).collect();
            let messages: HashMap<String, Message> =
                hydrate(&mut tx, rows, None, &new).await?.into_iter().map(|m| (m.id.to_string(), m)).collect();
            outcomes(decisions, &stored, &states, &messages)
        })
        .await
    })
}

/// The answer to each request, in order.
fn outcomes(
    decisions: Vec<Decision>,
    stored: &[MessageRow],
    states: &HashMap<String, ChatState>,
    messages: &HashMap<String, Message>,
) -> Result<Vec<SendOutcome>, StoreError> {
    let find = |id: &str| {
        messages.get(id).cloned().ok_or_else(|| StoreError::Corrupt(format!("message {id} vanished from its batch")))
    };
    decisions
        .into_iter()
        .map(|decision| match decision {
            Decision::Store(i, event_seq) => {
                let row = &stored[i];
                let members = states.get(&row.chat_id).map(|s| s.members.as_slice()).unwrap_or_default();
                let recipients = members
                    .iter()
                    .map(|m| m.parse::<UserId>().map_err(|_| StoreError::Corrupt(format!("user id {m:?}"))))
                    .collect::<Result<_, _>>()?;
                Ok(SendOutcome::Stored { message: find(&row.id)?, event_seq, recipients })
            }
            Decision::Earlier(id) => Ok(SendOutcome::Duplicate(find(&id)?)),
            Decision::NotAMember => Ok(SendOutcome::NotAMember),
            Decision::Blocked => Ok(SendOutcome::Blocked),
        })
        .collect()
}
