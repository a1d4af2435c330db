use crate::error::StoreError;
use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{convert_all, ChatEventRow, ReadPositionRow, EVENT_STATUS_UPDATE};
use crate::repos::chat_log::next_event_seq;
use crate::run::{AsDbConn, DbConn};
use crate::schema::{chat_events, messages, read_positions, receipt_marks};
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::event::{ChatEvent, EventKind, StatusUpdate};
use chitchat_domain::ports::ReceiptRepo;
use chitchat_domain::receipt::{ChatProgress, ReadPosition, Receipt, ReceiptKind};
use chitchat_domain::{ChatId, DomainResult, UserId};
use chrono::{DateTime, Utc};
use diesel::dsl::min;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::QueryResult;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::BTreeMap;

/// What a receipt's upsert writes when the row exists: each position and its time
/// move forward only, and nothing is written (no row returned) when neither moves.
/// A `Read` receipt moves both positions (reading implies receiving).
macro_rules! forward_only {
    () => {
        " ON CONFLICT (chat_id, user_id) DO UPDATE SET \
         delivered_seq = CASE WHEN excluded.delivered_seq > read_positions.delivered_seq \
             THEN excluded.delivered_seq ELSE read_positions.delivered_seq END, \
         delivered_at = CASE WHEN excluded.delivered_seq > read_positions.delivered_seq \
             THEN excluded.delivered_at ELSE read_positions.delivered_at END, \
         read_seq = CASE WHEN excluded.read_seq > read_positions.read_seq \
             THEN excluded.read_seq ELSE read_positions.read_seq END, \
         read_at = CASE WHEN excluded.read_seq > read_positions.read_seq \
             THEN excluded.read_at ELSE read_positions.read_at END \
         WHERE excluded.delivered_seq > read_positions.delivered_seq \
             OR excluded.read_seq > read_positions.read_seq \
         RETURNING delivered_seq, read_seq"
    };
}

/// A receipt's position write, in one statement: the new positions come from the
/// chat's row (capped at its newest message), and the row is locked first, as
/// every writer of a chat's log locks it before anything else (a send locks the
/// chat, then moves its sender's position: the other order could deadlock). The
/// lock also orders the `status_update` events: the positions read after it
/// include every earlier move in the chat, so a later event never shows less.
/// Binds (user, delivered seq, read seq, delivered at, read at, chat).
const ADVANCE_POSTGRES: &str = concat!(
    "INSERT INTO read_positions (chat_id, user_id, delivered_seq, read_seq, delivered_at, read_at) \
     SELECT id, ?, LEAST(?, last_seq), LEAST(?, last_seq), ?, ? FROM chats \
     WHERE id = ? AND last_seq > 0 FOR NO KEY UPDATE",
    forward_only!()
);
/// The same on SQLite, whose transaction holds the one write lock from its first
/// write (this statement) and whose two-argument `MIN` is `LEAST`.
const ADVANCE_SQLITE: &str = concat!(
    "INSERT INTO read_positions (chat_id, user_id, delivered_seq, read_seq, delivered_at, read_at) \
     SELECT id, ?, MIN(?, last_seq), MIN(?, last_seq), ?, ? FROM chats WHERE id = ? AND last_seq > 0",
    forward_only!()
);

/// The marks of the moves of one receipt: one statement for one or two.
const MARK_ONE: &str = "INSERT INTO receipt_marks (chat_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?) \
                        ON CONFLICT DO NOTHING";
const MARK_TWO: &str = "INSERT INTO receipt_marks (chat_id, user_id, kind, seq, at) \
                        VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

/// Moves `user`'s positions in `chat` to `delivered` and `read` (0: not moved) at
/// time `at`, capped at the chat's newest message. Returns the positions after the
/// move, or None when neither moved.
async fn move_positions(
    conn: &mut DbConn<'_>,
    chat: &str,
    user: &str,
    (delivered, read): (i64, i64),
    at: i64,
) -> QueryResult<Option<(i64, i64)>> {
    let sql = match conn {
        DbConn::Postgres(_) => ADVANCE_POSTGRES,
        DbConn::Sqlite(_) => ADVANCE_SQLITE,
    };
    let binds = vec![
        Bind::Text(user),
        Bind::BigInt(delivered),
        Bind::BigInt(read),
        Bind::BigInt(at),
        Bind::OptionalBigInt((read > 0).then_some(at)),
        Bind::Text(chat),
    ];
    let upsert = FixedShape::new(sql, binds).returning::<(BigInt, BigInt)>();
    on_conn!(conn, |c| upsert.get_result(c).await.optional())
}

/// The kinds that moved and where to, given the positions after a move by a
/// receipt of `kind`. A delivered receipt moves only the delivered position. A read
/// moves the read position, and the delivered one when they are equal after it: a
/// read position never passes the delivered one, and when the delivered position
/// already stood there, a delivered receipt put it there and its mark exists.
fn moves(kind: ReceiptKind, (delivered, read): (i64, i64)) -> Vec<(ReceiptKind, i64)> {
    match kind {
        ReceiptKind::Delivered => vec![(ReceiptKind::Delivered, delivered)],
        ReceiptKind::Read if delivered == read => vec![(ReceiptKind::Delivered, delivered), (ReceiptKind::Read, read)],
        ReceiptKind::Read => vec![(ReceiptKind::Read, read)],
    }
}

#[async_trait]
impl ReceiptRepo for Store {
    async fn advance(
        &self,
        chat: ChatId,
        user: UserId,
        kind: ReceiptKind,
        seq: i64,
        at: DateTime<Utc>,
        members: &[UserId],
    ) -> DomainResult<Option<ChatEvent>> {
        let (chat_id, user_id, at_micros) = (chat.to_string(), user.to_string(), to_micros(at));
        let member_ids: Vec<String> = members.iter().map(ToString::to_string).collect();
        let members = members.to_vec();
        let read = if kind == ReceiptKind::Read { seq } else { 0 };
        let logged: Option<(i64, StatusUpdate)> = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let mut tx = tx.db();
                let Some(moved) = move_positions(&mut tx, &chat_id, &user_id, (seq, read), at_micros).await? else {
                    return Ok::<_, StoreError>(None);
                };
                let moves = moves(kind, moved);
                let mut binds = Vec::with_capacity(5 * moves.len());
                for (kind, seq) in &moves {
                    binds.extend([
                        Bind::Text(&chat_id),
                        Bind::Text(&user_id),
                        Bind::Text(kind.as_str()),
                        Bind::BigInt(*seq),
                        Bind::BigInt(at_micros),
                    ]);
                }
                let marks = FixedShape::new(if moves.len() == 1 { MARK_ONE } else { MARK_TWO }, binds);
                on_conn!(&mut tx, |c| marks.execute(c).await)?;
                let rows: Vec<ReadPositionRow> = on_conn!(&mut tx, |c| {
                    read_positions::table
                        .filter(read_positions::chat_id.eq(&chat_id))
                        .filter(read_positions::user_id.eq_any(&member_ids))
                        .select(ReadPositionRow::as_select())
                        .load(c)
                        .await
                })?;
                let positions: Vec<ReadPosition> = convert_all(rows)?;
                let update = StatusUpdate {
                    user_id: user,
                    delivered_seq: moved.0,
                    read_seq: moved.1,
                    chat: ChatProgress::of(&positions, &members).into(),
                };
                let event_seq: i64 = on_conn!(&mut tx, |c| next_event_seq(&chat_id).get_result(c).await)?;
                let payload = serde_json::to_string(&update).map_err(StoreError::Encode)?;
                let event = ChatEventRow {
                    chat_id: chat_id.clone(),
                    event_seq,
                    kind: EVENT_STATUS_UPDATE.to_owned(),
                    actor_id: user_id.clone(),
                    message_id: None,
                    created_at: at_micros,
                    payload: Some(payload),
                };
                on_conn!(&mut tx, |c| diesel::insert_into(chat_events::table).values(&event).execute(c).await)?;
                Ok(Some((event_seq, update)))
            })
            .await?
        });
        Ok(logged.map(|(event_seq, update)| ChatEvent {
            room_id: chat,
            event_seq,
            actor: user,
            kind: EventKind::StatusUpdate(update),
        }))
    }

    async fn positions(&self, chat: ChatId) -> DomainResult<Vec<ReadPosition>> {
        let chat = chat.to_string();
        let rows: Vec<ReadPositionRow> = db_run!(self, |conn| {
            read_positions::table
                .filter(read_positions::chat_id.eq(&chat))
                .select(ReadPositionRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn receipts(&self, chat: ChatId, seq: i64) -> DomainResult<Vec<Receipt>> {
        let chat = chat.to_string();
        // Writing in the chat after the message moved the writer's position past it
        // without a report (see `append`): their first later message is when they
        // had and had read it, as far as their reports do not say earlier.
        let (marks, writers) = db_run!(self, |conn| {
            let marks: Vec<(String, String, Option<i64>)> = receipt_marks::table
                .filter(receipt_marks::chat_id.eq(&chat))
                .filter(receipt_marks::seq.ge(seq))
                .group_by((receipt_marks::user_id, receipt_marks::kind))
                .select((receipt_marks::user_id, receipt_marks::kind, min(receipt_marks::at)))
                .load(conn)
                .await
                .map_err(StoreError::from)?;
            let writers: Vec<(String, Option<i64>)> = messages::table
                .filter(messages::chat_id.eq(&chat))
                .filter(messages::seq.gt(seq))
                .group_by(messages::sender_id)
                .select((messages::sender_id, min(messages::created_at)))
                .load(conn)
                .await
                .map_err(StoreError::from)?;
            (marks, writers)
        });
        let written = writers.into_iter().flat_map(|(user_id, at)| {
            [(user_id.clone(), "delivered".to_owned(), at), (user_id, "read".to_owned(), at)]
        });
        let mut receipts: BTreeMap<String, Receipt> = BTreeMap::new();
        for (user_id, kind, at) in marks.into_iter().chain(written) {
            let Some(at) = at else { continue };
            let user = user_id.parse().map_err(|_| StoreError::Corrupt(format!("user id {user_id:?}")))?;
            let entry = receipts.entry(user_id).or_insert(Receipt { user_id: user, delivered_at: None, read_at: None });
            let at = from_micros(at)?;
            let slot = match kind.as_str() {
                "read" => &mut entry.read_at,
                _ => &mut entry.delivered_at,
            };
            *slot = Some(slot.map_or(at, |earlier| earlier.min(at)));
        }
        // Reading implies having received.
        Ok(receipts
            .into_values()
            .map(|mut r| {
                if r.delivered_at.is_none() {
                    r.delivered_at = r.read_at;
                }
                r
            })
            .collect())
    }
}
