use crate::error::StoreError;
use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{convert_all, ChatEventRow, ReadPositionRow, ReceiptMarkRow, EVENT_STATUS_UPDATE};
use crate::repos::chat_log::next_event_seq;
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
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::BTreeMap;

#[expect(clippy::too_many_lines, reason = "`advance` writes positions and receipts with an arm per backend")]
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
        let logged: Option<(i64, StatusUpdate)> = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                // Lock the chat row first, as every writer of the chat's log does, so
                // that a read mark and a send in the same chat cannot deadlock.
                // Statements of fixed shape stay prepared: one round trip each, while
                // the chat's row is locked.
                let newest: i64 = FixedShape::new(
                    "UPDATE chats SET last_seq = last_seq WHERE id = ? RETURNING last_seq",
                    vec![Bind::Text(&chat_id)],
                )
                .returning::<BigInt>()
                .get_result(tx)
                .await?;
                let seq = seq.min(newest);
                diesel::insert_into(read_positions::table)
                    .values(ReadPositionRow {
                        chat_id: chat_id.clone(),
                        user_id: user_id.clone(),
                        delivered_seq: 0,
                        read_seq: 0,
                        delivered_at: None,
                        read_at: None,
                    })
                    .on_conflict((read_positions::chat_id, read_positions::user_id))
                    .do_nothing()
                    .execute(tx)
                    .await?;
                // Sets a position and its time to (seq, at) if that moves it forward;
                // binds (seq, at, chat, user, seq).
                let forward = |sql| {
                    let (chat, user) = (Bind::Text(&chat_id), Bind::Text(&user_id));
                    FixedShape::new(
                        sql,
                        vec![Bind::BigInt(seq), Bind::BigInt(at_micros), chat, user, Bind::BigInt(seq)],
                    )
                };
                let mut moved = Vec::new();
                let delivered = forward(
                    "UPDATE read_positions SET delivered_seq = ?, delivered_at = ? \
                     WHERE chat_id = ? AND user_id = ? AND delivered_seq < ?",
                )
                .execute(tx)
                .await?;
                if delivered > 0 {
                    moved.push(ReceiptKind::Delivered);
                }
                if kind == ReceiptKind::Read {
                    let read = forward(
                        "UPDATE read_positions SET read_seq = ?, read_at = ? \
                         WHERE chat_id = ? AND user_id = ? AND read_seq < ?",
                    )
                    .execute(tx)
                    .await?;
                    if read > 0 {
                        moved.push(ReceiptKind::Read);
                    }
                }
                if moved.is_empty() {
                    return Ok::<_, StoreError>(None);
                }
                for kind in &moved {
                    diesel::insert_into(receipt_marks::table)
                        .values(ReceiptMarkRow {
                            chat_id: chat_id.clone(),
                            user_id: user_id.clone(),
                            kind: kind.as_str().to_owned(),
                            seq,
                            at: at_micros,
                        })
                        .on_conflict_do_nothing()
                        .execute(tx)
                        .await?;
                }
                let rows: Vec<ReadPositionRow> = read_positions::table
                    .filter(read_positions::chat_id.eq(&chat_id))
                    .filter(read_positions::user_id.eq_any(&member_ids))
                    .select(ReadPositionRow::as_select())
                    .load(tx)
                    .await?;
                let positions: Vec<ReadPosition> = convert_all(rows)?;
                let own = positions.iter().find(|p| p.user_id == user).cloned();
                let update = StatusUpdate {
                    user_id: user,
                    delivered_seq: own.as_ref().map_or(0, |p| p.delivered_seq),
                    read_seq: own.as_ref().map_or(0, |p| p.read_seq),
                    chat: ChatProgress::of(&positions, &members).into(),
                };
                let event_seq: i64 = next_event_seq(&chat_id).get_result(tx).await?;
                let payload = serde_json::to_string(&update).map_err(StoreError::Encode)?;
                diesel::insert_into(chat_events::table)
                    .values(ChatEventRow {
                        chat_id: chat_id.clone(),
                        event_seq,
                        kind: EVENT_STATUS_UPDATE.to_owned(),
                        actor_id: user_id.clone(),
                        message_id: None,
                        created_at: at_micros,
                        payload: Some(payload),
                    })
                    .execute(tx)
                    .await?;
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
