//! The search indexer's step. Triggers on `messages` note in `search_pending` each
//! text message stored and each message whose text changed or that was removed;
//! a step takes a batch of notes and brings `message_search` in line with the
//! messages as they are now, in one transaction. Edits and deletions take the same
//! way as sends rather than touching the index themselves: one path keeps the index,
//! and until it has run a deleted message is still kept out by the search's own
//! `deleted_at IS NULL`.

use crate::error::StoreError;
use crate::run::{AsDbConn, DbConn};
use crate::store::Store;
use diesel::sql_types::{Array, BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, RunQueryDsl};

/// Takes up to `$1` notes, skipping those another indexer (another instance) or an
/// edit still holds.
const POSTGRES_TAKE: &str = "\
DELETE FROM search_pending WHERE message_id IN (
    SELECT message_id FROM search_pending LIMIT $1 FOR UPDATE SKIP LOCKED
) RETURNING message_id";

const POSTGRES_FORGET: &str = "DELETE FROM message_search WHERE message_id = ANY($1)";

const POSTGRES_INDEX: &str = "\
INSERT INTO message_search (message_id, content)
SELECT id, content FROM messages WHERE id = ANY($1) AND content_type = 'text' AND deleted_at IS NULL";

/// The batch on SQLite: its one writer keeps the first `?` notes the same through
/// the transaction.
macro_rules! sqlite_batch {
    () => {
        "SELECT message_rowid FROM search_pending ORDER BY message_rowid LIMIT ?"
    };
}

const SQLITE_FORGET: &str = concat!("DELETE FROM message_search WHERE rowid IN (", sqlite_batch!(), ")");

const SQLITE_INDEX: &str = concat!(
    "INSERT INTO message_search (rowid, content) SELECT rowid, content FROM messages WHERE rowid IN (",
    sqlite_batch!(),
    ") AND content_type = 'text' AND deleted_at IS NULL"
);

const SQLITE_TAKE: &str = concat!("DELETE FROM search_pending WHERE message_rowid IN (", sqlite_batch!(), ")");

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Text)]
    message_id: String,
}

/// One batch, on an open transaction: how many notes it took.
async fn index_batch(conn: &mut DbConn<'_>, max: i64) -> Result<usize, StoreError> {
    match conn {
        DbConn::Postgres(conn) => {
            let conn = &mut **conn;
            let taken: Vec<Taken> = diesel::sql_query(POSTGRES_TAKE).bind::<BigInt, _>(max).load(conn).await?;
            let ids: Vec<String> = taken.into_iter().map(|t| t.message_id).collect();
            if !ids.is_empty() {
                diesel::sql_query(POSTGRES_FORGET).bind::<Array<Text>, _>(&ids).execute(conn).await?;
                diesel::sql_query(POSTGRES_INDEX).bind::<Array<Text>, _>(&ids).execute(conn).await?;
            }
            Ok(ids.len())
        }
        DbConn::Sqlite(conn) => {
            let conn = &mut **conn;
            diesel::sql_query(SQLITE_FORGET).bind::<BigInt, _>(max).execute(conn).await?;
            diesel::sql_query(SQLITE_INDEX).bind::<BigInt, _>(max).execute(conn).await?;
            Ok(diesel::sql_query(SQLITE_TAKE).bind::<BigInt, _>(max).execute(conn).await?)
        }
    }
}

impl Store {
    pub(crate) async fn index_pending_messages(&self, max: i64) -> Result<usize, StoreError> {
        let taken = db_run!(self, |conn| conn.transaction(async |tx| index_batch(&mut tx.db(), max).await).await?);
        if taken > 0 {
            tracing::debug!(taken, "messages indexed for search");
        }
        Ok(taken)
    }
}
