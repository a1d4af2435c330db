//! Message search: the one place with backend-specific SQL (PostgreSQL full-text
//! plus trigram matching; SQLite FTS5 with the trigram tokenizer). Each backend
//! finds the ids, best first; the messages are then loaded with the shared query.

use crate::error::StoreError;
use crate::models::MessageRow;
use crate::pool::{DbPool, SqlStore};
use crate::schema::messages;
use async_trait::async_trait;
use chitchat_domain::message::Message;
use chitchat_domain::ports::MessageSearch;
use chitchat_domain::search::SearchQuery;
use chitchat_domain::{ChatId, DomainResult, UserId};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Only what the searcher may read: chats they are an active member of, text messages.
/// Public so that the benchmarks can time the bare query against the server.
pub const POSTGRES_SEARCH_SQL: &str = "\
SELECT m.id FROM messages m
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $1 AND cm.left_at_seq IS NULL
WHERE ($2::text IS NULL OR m.chat_id = $2)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.message_id = m.id)
  AND (to_tsvector('simple', m.content) @@ plainto_tsquery('simple', $3) OR m.content ILIKE $4 ESCAPE '\\')
ORDER BY ts_rank(to_tsvector('simple', m.content), plainto_tsquery('simple', $3)) DESC,
         similarity(m.content, $3) DESC, m.seq DESC
LIMIT $5 OFFSET $6";

/// The trigram tokenizer needs three characters; shorter queries use LIKE.
const SQLITE_FTS: &str = "\
SELECT m.id FROM messages_fts f
JOIN messages m ON m.rowid = f.rowid
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ? AND cm.left_at_seq IS NULL
WHERE messages_fts MATCH ?
  AND (? IS NULL OR m.chat_id = ?)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.message_id = m.id)
ORDER BY bm25(messages_fts), m.seq DESC
LIMIT ? OFFSET ?";

const SQLITE_SHORT: &str = "\
SELECT m.id FROM messages m
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ? AND cm.left_at_seq IS NULL
WHERE m.content LIKE ? ESCAPE '\\'
  AND (? IS NULL OR m.chat_id = ?)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.message_id = m.id)
ORDER BY m.seq DESC
LIMIT ? OFFSET ?";

fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 phrase: the whole query, quotes doubled.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl SqlStore {
    async fn matching_ids(
        &self,
        user: String,
        query: &str,
        chat: Option<String>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<String>, StoreError> {
        let hits: Vec<Hit> = match &self.pool {
            DbPool::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(StoreError::pool)?;
                diesel::sql_query(POSTGRES_SEARCH_SQL)
                    .bind::<Text, _>(&user)
                    .bind::<Nullable<Text>, _>(&chat)
                    .bind::<Text, _>(query)
                    .bind::<Text, _>(like_pattern(query))
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(&mut *conn)
                    .await?
            }
            DbPool::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(StoreError::pool)?;
                let (sql, needle) = if query.chars().count() >= 3 {
                    (SQLITE_FTS, fts_phrase(query))
                } else {
                    (SQLITE_SHORT, like_pattern(query))
                };
                diesel::sql_query(sql)
                    .bind::<Text, _>(&user)
                    .bind::<Text, _>(needle)
                    .bind::<Nullable<Text>, _>(&chat)
                    .bind::<Nullable<Text>, _>(&chat)
                    .bind::<Text, _>(&user)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
                    .load(&mut *conn)
                    .await?
            }
        };
        Ok(hits.into_iter().map(|h| h.id).collect())
    }
}

#[async_trait]
impl MessageSearch for SqlStore {
    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        chat: Option<ChatId>,
        limit: i64,
        offset: i64,
    ) -> DomainResult<Vec<Message>> {
        let ids =
            self.matching_ids(user.to_string(), query.as_str(), chat.map(|c| c.to_string()), limit, offset).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let viewer = user.to_string();
        let mut found: Vec<Message> = db_run!(self, |conn| {
            async {
                let rows: Vec<MessageRow> = messages::table
                    .filter(messages::id.eq_any(&ids))
                    .select(MessageRow::as_select())
                    .load(conn)
                    .await?;
                hydrate!(conn, rows, Some(viewer.as_str()))
            }
            .await?
        });
        // Back into the order of relevance the search gave.
        found.sort_by_key(|m| ids.iter().position(|id| *id == m.id.to_string()));
        Ok(found)
    }
}
