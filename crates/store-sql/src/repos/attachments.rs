//! `AttachmentRepo`: the facts about uploaded files, and who may read them. The
//! links to the messages that carry them are written with the message (by the
//! group commit, `group_commit::batch`) and dropped when it is deleted for everyone.

use crate::error::StoreError;
use crate::models::AttachmentRow;
use crate::schema::{attachments, chat_members, message_attachments, messages};
use crate::store::Store;
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::attachment::Attachment;
use chitchat_domain::ports::AttachmentRepo;
use chitchat_domain::{AttachmentId, DomainResult, UserId};
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

fn convert(rows: Vec<AttachmentRow>) -> Result<Vec<Attachment>, StoreError> {
    rows.into_iter().map(Attachment::try_from).collect()
}

fn strings(ids: &[AttachmentId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[async_trait]
impl AttachmentRepo for Store {
    async fn insert_attachment(&self, attachment: &Attachment) -> DomainResult<()> {
        let row = AttachmentRow::from(attachment);
        db_run!(self, |conn| {
            diesel::insert_into(attachments::table).values(&row).execute(conn).await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn get_attachment(&self, id: AttachmentId) -> DomainResult<Option<Attachment>> {
        Ok(self.get_attachments(&[id]).await?.pop())
    }

    async fn get_attachments(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = strings(ids);
        let rows: Vec<AttachmentRow> = db_run!(self, |conn| {
            attachments::table
                .filter(attachments::id.eq_any(&ids))
                .select(AttachmentRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert(rows)?)
    }

    async fn can_read_attachment(&self, id: AttachmentId, user: UserId) -> DomainResult<bool> {
        let (id, user) = (id.to_string(), user.to_string());
        // A message carrying it in a chat the user belongs to, or belonged to when
        // the message was sent (up to their leaving, as history is cut).
        let carriers: i64 = db_run!(self, |conn| {
            message_attachments::table
                .inner_join(messages::table)
                .inner_join(
                    chat_members::table
                        .on(chat_members::chat_id.eq(messages::chat_id).and(chat_members::user_id.eq(&user))),
                )
                .filter(message_attachments::attachment_id.eq(&id))
                .filter(
                    chat_members::left_at_seq
                        .is_null()
                        .or(messages::seq.le(chat_members::left_at_seq.assume_not_null())),
                )
                .count()
                .get_result(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(carriers > 0)
    }

    async fn remove_unreferenced(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = strings(ids);
        let rows: Vec<AttachmentRow> = db_run!(self, |conn| {
            let carried = message_attachments::table.filter(message_attachments::attachment_id.eq(attachments::id));
            diesel::delete(attachments::table.filter(attachments::id.eq_any(&ids)).filter(not(exists(carried))))
                .returning(AttachmentRow::as_returning())
                .get_results(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert(rows)?)
    }

    async fn remove_orphans(&self, before: DateTime<Utc>, limit: i64) -> DomainResult<Vec<Attachment>> {
        let before = to_micros(before);
        let rows: Vec<AttachmentRow> = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let carried = message_attachments::table.filter(message_attachments::attachment_id.eq(attachments::id));
                let old: Vec<String> = attachments::table
                    .filter(attachments::created_at.lt(before))
                    .filter(not(exists(carried)))
                    .order(attachments::created_at.asc())
                    .limit(limit)
                    .select(attachments::id)
                    .load(tx)
                    .await?;
                // Checked again as it is removed: one sent meanwhile stays.
                let carried = message_attachments::table.filter(message_attachments::attachment_id.eq(attachments::id));
                diesel::delete(attachments::table.filter(attachments::id.eq_any(&old)).filter(not(exists(carried))))
                    .returning(AttachmentRow::as_returning())
                    .get_results(tx)
                    .await
                    .map_err(StoreError::from)
            })
            .await?
        });
        Ok(convert(rows)?)
    }
}
