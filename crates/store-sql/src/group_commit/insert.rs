//! Inserting a batch's rows: one statement per table on PostgreSQL; one per row
//! on SQLite, whose diesel-async wrapper has no multi-row insert (each is an
//! in-process call there, not a round trip).

use crate::models::{ChatEventRow, MessageAttachmentRow, MessageRow, ReadPositionRow};
use crate::pool::SqliteConn;
use crate::schema::{chat_events, message_attachments, messages, read_positions};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::future::Future;

/// A position moves forward only: the greater of the stored and the new one.
const DELIVERED_FORWARD: &str = "CASE WHEN excluded.delivered_seq > read_positions.delivered_seq \
                                 THEN excluded.delivered_seq ELSE read_positions.delivered_seq END";
const READ_FORWARD: &str =
    "CASE WHEN excluded.read_seq > read_positions.read_seq THEN excluded.read_seq ELSE read_positions.read_seq END";

/// The insert of `$values` (one row or many) into `read_positions` that moves
/// existing positions forward instead of failing.
macro_rules! advance {
    ($values:expr) => {
        diesel::insert_into(read_positions::table)
            .values($values)
            .on_conflict((read_positions::chat_id, read_positions::user_id))
            .do_update()
            .set((
                read_positions::delivered_seq.eq(diesel::dsl::sql::<BigInt>(DELIVERED_FORWARD)),
                read_positions::read_seq.eq(diesel::dsl::sql::<BigInt>(READ_FORWARD)),
            ))
    };
}

/// Multi-row inserts for a batch, on an open transaction.
pub(super) trait InsertRows {
    fn insert_messages(&mut self, rows: &[MessageRow]) -> impl Future<Output = QueryResult<()>> + Send;
    fn insert_events(&mut self, rows: &[ChatEventRow]) -> impl Future<Output = QueryResult<()>> + Send;
    /// Inserts the positions, or moves existing ones forward to them.
    fn advance_positions(&mut self, rows: &[ReadPositionRow]) -> impl Future<Output = QueryResult<()>> + Send;
    /// Links messages to the files they carry; a file that no longer exists
    /// breaks a foreign key.
    fn link_attachments(&mut self, rows: &[MessageAttachmentRow]) -> impl Future<Output = QueryResult<()>> + Send;
}

impl InsertRows for AsyncPgConnection {
    async fn insert_messages(&mut self, rows: &[MessageRow]) -> QueryResult<()> {
        diesel::insert_into(messages::table).values(rows).execute(self).await.map(drop)
    }

    async fn insert_events(&mut self, rows: &[ChatEventRow]) -> QueryResult<()> {
        diesel::insert_into(chat_events::table).values(rows).execute(self).await.map(drop)
    }

    async fn advance_positions(&mut self, rows: &[ReadPositionRow]) -> QueryResult<()> {
        advance!(rows).execute(self).await.map(drop)
    }

    async fn link_attachments(&mut self, rows: &[MessageAttachmentRow]) -> QueryResult<()> {
        diesel::insert_into(message_attachments::table).values(rows).execute(self).await.map(drop)
    }
}

impl InsertRows for SqliteConn {
    async fn insert_messages(&mut self, rows: &[MessageRow]) -> QueryResult<()> {
        for row in rows {
            diesel::insert_into(messages::table).values(row).execute(self).await?;
        }
        Ok(())
    }

    async fn insert_events(&mut self, rows: &[ChatEventRow]) -> QueryResult<()> {
        for row in rows {
            diesel::insert_into(chat_events::table).values(row).execute(self).await?;
        }
        Ok(())
    }

    async fn advance_positions(&mut self, rows: &[ReadPositionRow]) -> QueryResult<()> {
        for row in rows {
            advance!(row).execute(self).await?;
        }
        Ok(())
    }

    async fn link_attachments(&mut self, rows: &[MessageAttachmentRow]) -> QueryResult<()> {
        for row in rows {
            diesel::insert_into(message_attachments::table).values(row).execute(self).await?;
        }
        Ok(())
    }
}
