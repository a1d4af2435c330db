//! Message search: the one place with backend-specific SQL (PostgreSQL full-text
//! plus trigram matching; SQLite FTS5 with the trigram tokenizer). Each backend
//! finds the ids, newest first; the messages are then loaded with the shared query.

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

/// How many of the searcher's newest messages the first PostgreSQL step looks
/// through before it falls back to the index of every match.
pub const POSTGRES_SEARCH_RECENT_WINDOW: i64 = 5_000;

/// Step one on PostgreSQL: walks the searcher's messages from the newest
/// (`messages_created_at`) and checks each, up to `$7` of them. Cheap however common
/// the word, because it stops at the page; a page it fills is exactly the page over
/// all messages, as every message newer than its last was looked at. Parameters:
/// searcher, chat or NULL, query, LIKE pattern, limit, offset, window.
/// Public, like the step after it, so that the benchmarks can time the bare queries.
pub const POSTGRES_SEARCH_RECENT_SQL: &str = "\
SELECT r.id FROM (
    SELECT m.id, m.content, m.content_tsv, m.created_at FROM messages m
    JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $1 AND cm.left_at_seq IS NULL
    WHERE ($2::text IS NULL OR m.chat_id = $2)
      AND m.content_type = 'text'
      AND m.deleted_at IS NULL
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT $7
) r
WHERE NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.message_id = r.id)
  AND (r.content_tsv @@ plainto_tsquery('simple', $3) OR r.content ILIKE $4 ESCAPE '\\')
ORDER BY r.created_at DESC, r.id DESC
LIMIT $5 OFFSET $6";

/// Step two on PostgreSQL, when step one did not fill the page: every match, found
/// through the full-text and trigram indexes, newest first. Cheap when matches are
/// few, which is when step one comes up short. `created_at + 0` keeps the planner off
/// the `created_at` index: its guess at a rare word's matches can be a hundred times
/// too high, and walking that index until 20 rare matches turn up read 190,000 rows
/// (174 ms) where the match indexes need a millisecond. Only what the searcher may
/// read: chats they are an active member of, text messages.
pub const POSTGRES_SEARCH_ALL_SQL: &str = "\
SELECT m.id FROM messages m
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $1 AND cm.left_at_seq IS NULL
WHERE ($2::text IS NULL OR m.chat_id = $2)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $1 AND h.message_id = m.id)
  AND (m.content_tsv @@ plainto_tsquery('simple', $3) OR m.content ILIKE $4 ESCAPE '\\')
ORDER BY m.created_at + 0 DESC, m.id DESC
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
ORDER BY m.created_at DESC, m.id DESC
LIMIT ? OFFSET ?";

const SQLITE_SHORT: &str = "\
SELECT m.id FROM messages m
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ? AND cm.left_at_seq IS NULL
WHERE m.content LIKE ? ESCAPE '\\'
  AND (? IS NULL OR m.chat_id = ?)
  AND m.content_type = 'text'
  AND m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ? AND h.message_id = m.id)
ORDER BY m.created_at DESC, m.id DESC
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
                let pattern = like_pattern(query);
                let step = |sql: &'static str| {
                    diesel::sql_query(sql)
                        .bind::<Text, _>(&user)
                        .bind::<Nullable<Text>, _>(&chat)
                        .bind::<Text, _>(query)
                        .bind::<Text, _>(&pattern)
                        .bind::<BigInt, _>(limit)
                        .bind::<BigInt, _>(offset)
                };
                let recent: Vec<Hit> = step(POSTGRES_SEARCH_RECENT_SQL)
                    .bind::<BigInt, _>(POSTGRES_SEARCH_RECENT_WINDOW)
                    .load(&mut *conn)
                    .await?;
                if i64::try_from(recent.len()).unwrap_or(i64::MAX) >= limit {
                    recent
                } else {
                    step(POSTGRES_SEARCH_ALL_SQL).load(&mut *conn).await?
                }
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
        // Back into the order the search gave.
        found.sort_by_key(|m| ids.iter().position(|id| *id == m.id.to_string()));
        Ok(found)
    }
}
