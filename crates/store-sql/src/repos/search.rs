//! Message search, with SQL of each backend's own (PostgreSQL full-text plus
//! trigram matching; SQLite FTS5 with the trigram tokenizer). Each backend finds
//! the ids, newest first; the messages are then loaded with the shared query.
//! Words are matched in `message_search`, which the indexer keeps
//! (`search_index.rs`); who may read what is checked on `messages` itself.

use crate::error::StoreError;
use crate::models::MessageRow;
use crate::repos::hydrate::hydrate;
use crate::run::DbConn;
use crate::schema::messages;
use crate::store::Store;
use async_trait::async_trait;
use chitchat_domain::message::Message;
use chitchat_domain::ports::MessageSearch;
use chitchat_domain::search::SearchQuery;
use chitchat_domain::{ChatId, DomainResult, UserId};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use std::collections::HashSet;

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Text)]
    id: String,
}

/// How many of the searcher's newest messages the first PostgreSQL step looks
/// through before it falls back to the index of every match.
const POSTGRES_SEARCH_RECENT_WINDOW: i64 = 5_000;

/// Step one on PostgreSQL: walks the searcher's messages from the newest
/// (`messages_created_at`) and checks each one indexed, up to `$7` of them. Cheap
/// however common the word, because it stops at the page; a page it fills is
/// exactly the page over all indexed messages, as every message newer than its last
/// was looked at. Parameters: searcher, chat or NULL, query, LIKE pattern, limit,
/// offset, window.
/// In a file of its own, like the step after it, which the benchmarks time as the
/// bare queries (docs/benchmarks.md, section 6).
const POSTGRES_SEARCH_RECENT_SQL: &str = include_str!("../../sql/postgres_search_recent.sql");

/// Step two on PostgreSQL, when step one did not fill the page: every match, found
/// through the full-text and trigram indexes, newest first. Cheap when matches are
/// few, which is when step one comes up short. `created_at + 0` keeps the planner off
/// the `created_at` index: its guess at a rare word's matches can be a hundred times
/// too high, and walking that index until 20 rare matches turn up read 190,000 rows
/// (174 ms) where the match indexes need a millisecond. Only what the searcher may
/// read: chats they are an active member of, text messages.
const POSTGRES_SEARCH_ALL_SQL: &str = include_str!("../../sql/postgres_search_all.sql");

/// The trigram tokenizer needs three characters; shorter queries use LIKE on
/// `messages` itself, so they do not wait for the indexer.
const SQLITE_FTS: &str = "\
SELECT m.id FROM message_search f
JOIN messages m ON m.rowid = f.rowid
JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ? AND cm.left_at_seq IS NULL
WHERE message_search MATCH ?
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

/// The ids of the messages that match, newest first: the one query of the store
/// whose SQL differs by backend.
async fn matching_ids(
    conn: &mut DbConn<'_>,
    user: &str,
    query: &str,
    chat: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>, StoreError> {
    let hits: Vec<Hit> = match conn {
        DbConn::Postgres(conn) => {
            let conn = &mut **conn;
            let pattern = like_pattern(query);
            let step = |sql: &'static str| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(user)
                    .bind::<Nullable<Text>, _>(chat)
                    .bind::<Text, _>(query)
                    .bind::<Text, _>(&pattern)
                    .bind::<BigInt, _>(limit)
                    .bind::<BigInt, _>(offset)
            };
            let recent: Vec<Hit> =
                step(POSTGRES_SEARCH_RECENT_SQL).bind::<BigInt, _>(POSTGRES_SEARCH_RECENT_WINDOW).load(conn).await?;
            if i64::try_from(recent.len()).unwrap_or(i64::MAX) >= limit {
                recent
            } else {
                step(POSTGRES_SEARCH_ALL_SQL).load(conn).await?
            }
        }
        DbConn::Sqlite(conn) => {
            let conn = &mut **conn;
            let (sql, needle) = if query.chars().count() >= 3 {
                (SQLITE_FTS, fts_phrase(query))
            } else {
                (SQLITE_SHORT, like_pattern(query))
            };
            diesel::sql_query(sql)
                .bind::<Text, _>(user)
                .bind::<Text, _>(needle)
                .bind::<Nullable<Text>, _>(chat)
                .bind::<Nullable<Text>, _>(chat)
                .bind::<Text, _>(user)
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .load(conn)
                .await?
        }
    };
    Ok(hits.into_iter().map(|h| h.id).collect())
}

#[async_trait]
impl MessageSearch for Store {
    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        chat: Option<ChatId>,
        limit: i64,
        offset: i64,
    ) -> DomainResult<Vec<Message>> {
        let (user, query) = (user.to_string(), query.as_str().to_owned());
        let chat = chat.map(|c| c.to_string());
        let found: Vec<Message> = db_run!(self, |conn: DbConn| {
            let mut conn = conn;
            let ids = matching_ids(&mut conn, &user, &query, chat.as_deref(), limit, offset).await?;
            if ids.is_empty() {
                Vec::new()
            } else {
                let rows: Vec<MessageRow> = on_conn!(&mut conn, |c| {
                    messages::table.filter(messages::id.eq_any(&ids)).select(MessageRow::as_select()).load(c).await
                })?;
                let mut found = hydrate(&mut conn, rows, Some(user.as_str()), &HashSet::new()).await?;
                // Back into the order the search gave.
                found.sort_by_key(|m| ids.iter().position(|id| *id == m.id.to_string()));
                found
            }
        });
        Ok(found)
    }

    async fn index_pending(&self, max: i64) -> DomainResult<usize> {
        Ok(self.index_pending_messages(max).await?)
    }
}
