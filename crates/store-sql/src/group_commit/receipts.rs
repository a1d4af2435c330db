//! One group commit of receipts, in one transaction with a fixed number of
//! statements whatever the batch's size: lock the batch's chats and read their
//! members' positions, ask the domain's `decide_receipts` where each receipt
//! moves them, then write the moved positions, a mark per move and a
//! `status_update` in the chat's log per receipt that moved something.

use super::receipt_statements::{self, Found, Moves};
use super::{begin, Batch};
use crate::error::StoreError;
use crate::models::{ChatEventRow, ReadPositionRow, EVENT_STATUS_UPDATE};
use crate::pool::DbPool;
use crate::run::{AsDbConn, DbConn};
use crate::time::to_micros;
use chitchat_domain::event::{ChatEvent, EventKind, StatusUpdate};
use chitchat_domain::receipt::{decide_receipts, LockedPositions, ReceiptCandidate, ReceiptKind};
use chitchat_domain::{ChatId, UserId};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use std::collections::{HashMap, HashSet};

/// One receipt for a batch: `user` has received (or read) every message of
/// `chat` up to `seq`.
pub(crate) struct ReceiptMove {
    chat: ChatId,
    user: UserId,
    chat_id: String,
    user_id: String,
    kind: ReceiptKind,
    seq: i64,
    /// When, in microseconds.
    at: i64,
    /// The members whose positions make up the chat's progress.
    members: Vec<String>,
}

impl ReceiptMove {
    pub(crate) fn new(
        chat: ChatId,
        user: UserId,
        kind: ReceiptKind,
        seq: i64,
        at: DateTime<Utc>,
        members: &[UserId],
    ) -> Self {
        Self {
            chat,
            user,
            chat_id: chat.to_string(),
            user_id: user.to_string(),
            kind,
            seq,
            at: to_micros(at),
            members: members.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The batches of receipts. A receipt's outcome is the `status_update` it
/// logged, or None when it moved nothing.
pub(crate) struct Receipts {
    pub(crate) pool: DbPool,
}

impl Batch for Receipts {
    type Request = ReceiptMove;
    type Outcome = Option<ChatEvent>;
    const HOLDS: &'static str = "receipts";

    fn chat(request: &ReceiptMove) -> &str {
        &request.chat_id
    }

    async fn store(&self, requests: &[ReceiptMove]) -> Result<Vec<Option<ChatEvent>>, StoreError> {
        let mut chat_ids: Vec<&str> = requests.iter().map(|r| r.chat_id.as_str()).collect();
        chat_ids.sort_unstable();
        chat_ids.dedup();
        match &self.pool {
            DbPool::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err(StoreError::pool)?;
                let found = receipt_statements::lock_and_read_postgres(&pooled, &chat_ids);
                let outcome = match begin::begin_with(&pooled, found).await {
                    Ok(found) => decide_and_write(&mut pooled.db(), requests, found).await,
                    Err(error) => Err(error.into()),
                };
                begin::end(pooled, outcome).await
            }
            DbPool::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err(StoreError::pool)?;
                pooled
                    .transaction(async |tx| {
                        let mut tx = tx.db();
                        let found = tx.lock_and_read(&chat_ids).await?;
                        decide_and_write(&mut tx, requests, found).await
                    })
                    .await
            }
        }
    }
}

/// The steps of a batch once its chats are locked and their positions read, in
/// its open transaction.
async fn decide_and_write(
    tx: &mut DbConn<'_>,
    requests: &[ReceiptMove],
    found: Found,
) -> Result<Vec<Option<ChatEvent>>, StoreError> {
    let mut chats: HashMap<String, LockedPositions<String>> = found
        .chats
        .into_iter()
        .map(|(id, _kind, last_seq, last_event_seq)| {
            (id, LockedPositions { last_seq, last_event_seq, positions: HashMap::new() })
        })
        .collect();
    let mut rows: HashMap<(String, String), ReadPositionRow> = HashMap::with_capacity(found.positions.len());
    for row in found.positions {
        if let Some(chat) = chats.get_mut(&row.chat_id) {
            chat.positions.insert(row.user_id.clone(), (row.delivered_seq, row.read_seq));
        }
        rows.insert((row.chat_id.clone(), row.user_id.clone()), row);
    }
    let candidates = requests.iter().map(|r| ReceiptCandidate {
        chat: &r.chat_id,
        user: &r.user_id,
        kind: r.kind,
        seq: r.seq,
        members: &r.members,
    });
    let decided = decide_receipts(&mut chats, candidates);

    let mut outcomes = Vec::with_capacity(requests.len());
    let mut moved_rows: HashSet<(String, String)> = HashSet::new();
    let mut marks = Vec::new();
    let mut events = Vec::new();
    for (request, decision) in requests.iter().zip(decided) {
        let Some(moved) = decision else {
            outcomes.push(None);
            continue;
        };
        let key = (request.chat_id.clone(), request.user_id.clone());
        let row = rows.entry(key.clone()).or_insert_with(|| ReadPositionRow {
            chat_id: request.chat_id.clone(),
            user_id: request.user_id.clone(),
            delivered_seq: 0,
            read_seq: 0,
            delivered_at: None,
            read_at: None,
        });
        for &(kind, seq) in &moved.marks {
            match kind {
                ReceiptKind::Delivered => (row.delivered_seq, row.delivered_at) = (seq, Some(request.at)),
                ReceiptKind::Read => (row.read_seq, row.read_at) = (seq, Some(request.at)),
            }
            marks.push((request.chat_id.as_str(), request.user_id.as_str(), kind.as_str(), seq, request.at));
        }
        moved_rows.insert(key);
        let update = StatusUpdate {
            user_id: request.user,
            delivered_seq: moved.delivered_seq,
            read_seq: moved.read_seq,
            chat: moved.chat.into(),
        };
        events.push(ChatEventRow {
            chat_id: request.chat_id.clone(),
            event_seq: moved.event_seq,
            kind: EVENT_STATUS_UPDATE.to_owned(),
            actor_id: request.user_id.clone(),
            message_id: None,
            created_at: request.at,
            payload: Some(serde_json::to_string(&update)?),
        });
        outcomes.push(Some(ChatEvent {
            room_id: request.chat,
            event_seq: moved.event_seq,
            actor: request.user,
            kind: EventKind::StatusUpdate(update),
        }));
    }
    if events.is_empty() {
        return Ok(outcomes);
    }
    let positions: Vec<ReadPositionRow> = moved_rows.iter().filter_map(|key| rows.remove(key)).collect();
    // Each chat written to, with its last event now.
    let counters: Vec<(&str, i64)> = chats
        .iter()
        .filter(|(id, _)| events.iter().any(|e| e.chat_id == **id))
        .map(|(id, chat)| (id.as_str(), chat.last_event_seq))
        .collect();
    tx.write_moves(&Moves { positions: &positions, marks: &marks, events: &events, counters: &counters }).await?;
    Ok(outcomes)
}
