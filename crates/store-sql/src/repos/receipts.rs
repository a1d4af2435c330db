use crate::error::StoreError;
use crate::group_commit::ReceiptMove;
use crate::models::{convert_all, ReadPositionRow};
use crate::schema::{messages, read_positions, receipt_marks};
use crate::store::Store;
use crate::time::from_micros;
use async_trait::async_trait;
use chitchat_domain::event::ChatEvent;
use chitchat_domain::ports::ReceiptRepo;
use chitchat_domain::receipt::{ReadPosition, Receipt, ReceiptKind};
use chitchat_domain::{ChatId, DomainResult, UserId};
use chrono::{DateTime, Utc};
use diesel::dsl::min;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::BTreeMap;

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
        // Stored with the next group commit of the chat's writer; see `group_commit`.
        let receipt = ReceiptMove::new(chat, user, kind, seq, at, members);
        Ok(self.receipt_moves.submit(receipt).await?)
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
