//! One group commit of new messages, in one transaction with a fixed number of statements
//! whatever the batch's size: lock the batch's chats, read what the domain's
//! `decide_batch` needs, ask it which messages are stored under which numbers,
//! write them, read them back.

use super::begin;
use super::statements::{self, Lookups, Writes};
use super::Batch;
use crate::error::StoreError;
use crate::models::{ChatEventRow, MessageAttachmentRow, MessageRow, ReadPositionRow};
use crate::pool::DbPool;
use crate::repos::hydrate::hydrate;
use crate::run::{AsDbConn, DbConn};
use chitchat_domain::chat::ChatKind;
use chitchat_domain::message::{decide_batch, BatchFacts, Candidate, LockedChat, Message, SendOutcome, Verdict};
use chitchat_domain::{AttachmentId, UserId};
use diesel_async::AsyncConnection;
use std::collections::{HashMap, HashSet};

/// How a message is checked before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A person sends (`MessageRepo::send`): blocks are checked, the chat comes
    /// back from archives, the recipients are returned.
    Send,
    /// `MessageRepo::append`: membership and `client_msg_id` only.
    Append,
}

/// One message for a batch.
pub(crate) struct Request {
    pub row: MessageRow,
    pub mode: Mode,
    /// The files the message carries, in order (none for most messages).
    pub attachments: Vec<AttachmentId>,
}

/// The batches of new messages.
pub(crate) struct Messages {
    pub(crate) pool: DbPool,
}

impl Batch for Messages {
    type Request = Request;
    type Outcome = SendOutcome;
    const HOLDS: &'static str = "messages";

    fn chat(request: &Request) -> &str {
        &request.row.chat_id
    }

    async fn store(&self, requests: &[Request]) -> Result<Vec<SendOutcome>, StoreError> {
        store(&self.pool, requests).await
    }
}

/// Checks and stores `requests` in one transaction. Returns one outcome per
/// request, in order; an error means nothing of the batch was stored.
async fn store(pool: &DbPool, requests: &[Request]) -> Result<Vec<SendOutcome>, StoreError> {
    let mut chat_ids: Vec<&str> = requests.iter().map(|r| r.row.chat_id.as_str()).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    // Lock the chats' rows first, as every writer of a chat's log does: no
    // membership change, receipt or other message of these chats can slip in
    // between the reads of `decide_and_write` and the commit.
    match pool {
        DbPool::Postgres(pool) => {
            let mut pooled = pool.get().await.map_err(StoreError::pool)?;
            let outcome = match begin::begin_with(&pooled, statements::lock_postgres(&pooled, &chat_ids)).await {
                Ok(locked) => decide_and_write(&mut pooled.db(), requests, &chat_ids, locked).await,
                Err(error) => Err(error.into()),
            };
            begin::end(pooled, outcome).await
        }
        DbPool::Sqlite(pool) => {
            let mut pooled = pool.get().await.map_err(StoreError::pool)?;
            pooled
                .transaction(async |tx| {
                    let mut tx = tx.db();
                    let locked = tx.lock(&chat_ids).await?;
                    decide_and_write(&mut tx, requests, &chat_ids, locked).await
                })
                .await
        }
    }
}

/// The steps of a batch once its chats are locked, in its open transaction.
#[expect(
    clippy::too_many_lines,
    reason = "the steps of one transaction in order: read, decide_batch, write, read back"
)]
async fn decide_and_write(
    tx: &mut DbConn<'_>,
    requests: &[Request],
    chat_ids: &[&str],
    locked: Vec<statements::LockedChat>,
) -> Result<Vec<SendOutcome>, StoreError> {
    let mut chats: HashMap<String, LockedChat<String>> = HashMap::with_capacity(locked.len());
    for (id, kind, last_seq, last_event_seq) in locked {
        let kind = ChatKind::parse(&kind).map_err(|e| StoreError::Corrupt(format!("chat kind: {e}")))?;
        chats.insert(id, LockedChat { kind, last_seq, last_event_seq, members: Vec::new() });
    }
    let direct_senders: Vec<&str> = requests
        .iter()
        .filter(|r| r.mode == Mode::Send && chats.get(&r.row.chat_id).is_some_and(|c| c.kind == ChatKind::Direct))
        .map(|r| r.row.sender_id.as_str())
        .collect();
    let keyed: Vec<&MessageRow> = requests.iter().map(|r| &r.row).filter(|r| r.client_msg_id.is_some()).collect();
    let lookups = Lookups {
        chat_ids: chat_ids.to_vec(),
        direct_senders,
        keyed_senders: keyed.iter().map(|r| r.sender_id.as_str()).collect(),
        keys: keyed.iter().filter_map(|r| r.client_msg_id.as_deref()).collect(),
    };
    let read = tx.read(&lookups).await?;
    for (chat, user) in read.members {
        if let Some(locked) = chats.get_mut(&chat) {
            locked.members.push(user);
        }
    }
    let mut facts = BatchFacts { chats, ..BatchFacts::default() };
    for (blocked, blocker) in read.blocks {
        facts.blockers.entry(blocked).or_default().insert(blocker);
    }
    // Messages stored before with the same (sender, client_msg_id).
    let mut earlier: HashMap<(String, String), MessageRow> = HashMap::new();
    for row in read.earlier {
        if let Some(key) = row.client_msg_id.clone() {
            facts.earlier.insert((row.sender_id.clone(), key.clone()), row.id.clone());
            earlier.insert((row.sender_id.clone(), key), row);
        }
    }

    let candidates = requests.iter().map(|r| Candidate {
        message: &r.row.id,
        chat: &r.row.chat_id,
        sender: &r.row.sender_id,
        client_msg_id: r.row.client_msg_id.as_deref(),
        blocks_apply: r.mode == Mode::Send,
    });
    let decided = decide_batch(facts, candidates);
    let verdicts = decided.verdicts;
    let chats = decided.chats;
    // The stored rows with their numbers, each with its request.
    let (stored, stored_requests): (Vec<MessageRow>, Vec<&Request>) = verdicts
        .iter()
        .zip(requests)
        .filter_map(|(d, r)| match d {
            Verdict::Store { seq, .. } => Some((MessageRow { seq: *seq, ..r.row.clone() }, r)),
            _ => None,
        })
        .unzip();
    let event_seqs = verdicts.iter().filter_map(|d| match d {
        Verdict::Store { event_seq, .. } => Some(*event_seq),
        _ => None,
    });

    let events: Vec<ChatEventRow> =
        stored.iter().zip(event_seqs).map(|(row, event_seq)| ChatEventRow::message(row, event_seq)).collect();
    // The chats written to, with the `created_at` of the last message stored in each.
    let mut last_activity: HashMap<&str, i64> = HashMap::new();
    for row in &stored {
        last_activity.insert(row.chat_id.as_str(), row.created_at);
    }
    let counters: Vec<(String, i64, i64, i64)> = chats
        .iter()
        .filter_map(|(id, c)| last_activity.get(id.as_str()).map(|at| (id.clone(), c.last_seq, c.last_event_seq, *at)))
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
    let sent_to: Vec<&str> =
        stored_requests.iter().filter(|r| r.mode == Mode::Send).map(|r| r.row.chat_id.as_str()).collect();
    let newest = stored.iter().map(|r| r.created_at).max();
    let unarchive = newest.filter(|_| !sent_to.is_empty()).map(|now| (sent_to, now));
    tx.write(&Writes { messages: &stored, events: &events, counters: &counters, positions: &positions, unarchive })
        .await?;
    let links: Vec<MessageAttachmentRow> = stored
        .iter()
        .zip(&stored_requests)
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
        hydrate(tx, rows, None, &new).await?.into_iter().map(|m| (m.id.to_string(), m)).collect();
    outcomes(verdicts, &stored, &chats, &messages)
}

/// The answer to each request, in order.
fn outcomes(
    decisions: Vec<Verdict<String>>,
    stored: &[MessageRow],
    chats: &HashMap<String, LockedChat<String>>,
    messages: &HashMap<String, Message>,
) -> Result<Vec<SendOutcome>, StoreError> {
    let find = |id: &str| {
        messages.get(id).cloned().ok_or_else(|| StoreError::Corrupt(format!("message {id} vanished from its batch")))
    };
    let mut stored = stored.iter();
    decisions
        .into_iter()
        .map(|decision| match decision {
            Verdict::Store { event_seq, .. } => {
                let row = stored.next().ok_or_else(|| StoreError::Corrupt("a stored message went missing".into()))?;
                let members = chats.get(&row.chat_id).map(|c| c.members.as_slice()).unwrap_or_default();
                let recipients = members
                    .iter()
                    .map(|m| m.parse::<UserId>().map_err(|_| StoreError::Corrupt(format!("user id {m:?}"))))
                    .collect::<Result<_, _>>()?;
                Ok(SendOutcome::Stored { message: find(&row.id)?, event_seq, recipients })
            }
            Verdict::Duplicate(id) => Ok(SendOutcome::Duplicate(find(&id)?)),
            Verdict::NotAMember => Ok(SendOutcome::NotAMember),
            Verdict::Blocked => Ok(SendOutcome::Blocked),
        })
        .collect()
}
