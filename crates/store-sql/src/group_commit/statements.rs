//! The statements of a batch: the lock, then the reads and the writes, each group
//! of statements that do not depend on each other. On PostgreSQL each group is sent
//! at once (pipelined: one wait for the database per group rather than per
//! statement, which matters most when the machine is busy and every wait is a
//! wake-up), and every statement has a fixed shape so that it stays prepared
//! (`unnest`). SQLite runs them one after the other, in process, and inserts
//! row by row (diesel-async's SQLite wrapper has no multi-row insert).

use super::unnest;
use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{ChatEventRow, MessageAttachmentRow, MessageRow, ReadPositionRow};
use crate::run::DbConn;
use crate::schema::{
    blocks, chat_events, chat_members, chat_settings, chats, message_attachments, messages, read_positions,
};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::{join3, try_join3, try_join4};

/// A chat's row as its lock found it: (id, kind, last_seq, last_event_seq).
pub(super) type LockedChat = (String, String, i64, i64);

/// What the reads of a batch look up.
pub(super) struct Lookups<'a> {
    pub chat_ids: Vec<&'a str>,
    /// Senders in direct chats (whose blocks matter).
    pub direct_senders: Vec<&'a str>,
    /// Senders and keys of the messages with a `client_msg_id`, pair by pair (the
    /// key at an index is its sender's at the same index).
    pub keyed_senders: Vec<&'a str>,
    pub keys: Vec<&'a str>,
}

/// What the reads found.
pub(super) struct Facts {
    /// (chat, user) of active members, longest-standing first.
    pub members: Vec<(String, String)>,
    /// (blocked, blocker).
    pub blocks: Vec<(String, String)>,
    /// Messages stored before with one of the senders and keys.
    pub earlier: Vec<MessageRow>,
}

/// What the writes of a batch store.
pub(super) struct Writes<'a> {
    pub messages: &'a [MessageRow],
    pub events: &'a [ChatEventRow],
    /// (chat, last_seq, last_event_seq, last_activity_at) of each chat written to.
    pub counters: &'a [(String, i64, i64, i64)],
    pub positions: &'a [ReadPositionRow],
    /// Chats to bring back from archives, and the time of the newest message.
    pub unarchive: Option<(Vec<&'a str>, i64)>,
}

/// A position moves forward only: the greater of the stored and the new one.
const DELIVERED_FORWARD: &str = "CASE WHEN excluded.delivered_seq > read_positions.delivered_seq \
                                 THEN excluded.delivered_seq ELSE read_positions.delivered_seq END";
const READ_FORWARD: &str =
    "CASE WHEN excluded.read_seq > read_positions.read_seq THEN excluded.read_seq ELSE read_positions.read_seq END";

macro_rules! members {
    ($l:expr) => {
        chat_members::table
            .filter(chat_members::chat_id.eq_any(&$l.chat_ids))
            .filter(chat_members::left_at_seq.is_null())
            .order((chat_members::chat_id, chat_members::joined_at, chat_members::user_id))
            .select((chat_members::chat_id, chat_members::user_id))
    };
}

macro_rules! blocks_of {
    ($l:expr) => {
        blocks::table
            .filter(blocks::blocked_id.eq_any(&$l.direct_senders))
            .select((blocks::blocked_id, blocks::blocker_id))
    };
}

/// The messages stored before under the exact (sender, key) pairs of the batch:
/// one probe of the `(sender_id, client_msg_id)` key per pair. Filtering by "any of
/// the senders" and "any of the keys" instead made PostgreSQL walk every message of
/// every sender in the batch, which took more time than all of the batch's inserts
/// together and grew with each sender's history (`pg_stat_statements`, section 1 of
/// docs/benchmarks.md). On SQLite, an `OR` of the pairs; PostgreSQL's is
/// `earlier_postgres`.
macro_rules! earlier {
    ($l:expr) => {{
        let mut query = messages::table.select(MessageRow::as_select()).into_boxed();
        for (sender, key) in $l.keyed_senders.iter().zip(&$l.keys) {
            query = query.or_filter(messages::sender_id.eq(*sender).and(messages::client_msg_id.eq(*key)));
        }
        query
    }};
}

/// The SQL types of a `messages` row, all columns in order (`MessageRow`).
type MessageColumns = <<messages::table as diesel::Table>::AllColumns as diesel::Expression>::SqlType;

/// `earlier!` on PostgreSQL: the pairs as two arrays, each probing the key, so that
/// the statement has one text for any number of pairs and stays prepared. An `OR`
/// per pair has a text per number of pairs, which diesel does not cache:
/// diesel-async prepared it in a wait of its own in every batch with keys. It must
/// not run on a generic plan: one made while `messages` was nearly empty (a new
/// server) hashes the whole table for every batch ever after (1.2 to 1.9 ms a
/// batch at 60,000 messages in `pg_stat_statements`, against 0.1 ms for the
/// probes), so `read` has it planned for each batch.
fn earlier_postgres<'a>(lookups: &Lookups<'a>) -> FixedShape<'a, MessageColumns> {
    FixedShape::new(
        "SELECT m.id, m.chat_id, m.sender_id, m.seq, m.content, m.content_type, m.client_msg_id, \
             m.created_at, m.system_info, m.reply_to_id, m.forwarded, m.edited_at, m.deleted_at \
             FROM unnest(?, ?) AS k(sender_id, client_msg_id), LATERAL (SELECT * FROM messages \
             WHERE sender_id = k.sender_id AND client_msg_id = k.client_msg_id) AS m",
        vec![Bind::Texts(lookups.keyed_senders.clone()), Bind::Texts(lookups.keys.clone())],
    )
    .returning()
}

/// The lock of `DbConn::lock` on PostgreSQL, on a shared connection so that
/// `begin::begin_and_lock` can send BEGIN beside it.
pub(super) async fn lock_postgres(conn: &AsyncPgConnection, chat_ids: &[&str]) -> QueryResult<Vec<LockedChat>> {
    // The lock an UPDATE takes (not `FOR UPDATE`, which would also hold off
    // inserts that merely refer to the chat), from a statement that stays prepared.
    chats::table
        .filter(chats::id.eq_any(chat_ids))
        .order(chats::id)
        .select((chats::id, chats::kind, chats::last_seq, chats::last_event_seq))
        .for_no_key_update()
        .load(&mut &*conn)
        .await
}

/// The reads and writes of a batch, on its open transaction: each with an arm per
/// backend.
impl DbConn<'_> {
    /// Locks the rows of `chat_ids` (sorted) until the transaction ends, as every
    /// writer of a chat's log does first, and returns them as they are then.
    pub(super) async fn lock(&mut self, chat_ids: &[&str]) -> QueryResult<Vec<LockedChat>> {
        match self {
            DbConn::Postgres(conn) => lock_postgres(conn, chat_ids).await,
            DbConn::Sqlite(conn) => {
                diesel::update(chats::table.filter(chats::id.eq_any(chat_ids)))
                    .set(chats::last_seq.eq(chats::last_seq))
                    .returning((chats::id, chats::kind, chats::last_seq, chats::last_event_seq))
                    .load(&mut **conn)
                    .await
            }
        }
    }

    pub(super) async fn read(&mut self, lookups: &Lookups<'_>) -> QueryResult<Facts> {
        match self {
            DbConn::Postgres(conn) => {
                let conn: &AsyncPgConnection = conn;
                let members = members!(lookups).load(&mut &*conn);
                let blocks = async {
                    if lookups.direct_senders.is_empty() {
                        return Ok(Vec::new());
                    }
                    blocks_of!(lookups).load(&mut &*conn).await
                };
                let earlier = async {
                    if lookups.keys.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Planned anew for each batch (see `earlier_postgres`), with the
                    // settings sent beside it: no wait of their own.
                    let (mut before, mut after) = (conn, conn);
                    let (custom, found, generic) = join3(
                        before.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan"),
                        earlier_postgres(lookups).load(&mut &*conn),
                        after.batch_execute("SET LOCAL plan_cache_mode = DEFAULT"),
                    )
                    .await;
                    custom.and(generic).and(found)
                };
                let (members, blocks, earlier) = try_join3(members, blocks, earlier).await?;
                Ok(Facts { members, blocks, earlier })
            }
            DbConn::Sqlite(conn) => {
                let conn = &mut **conn;
                let members = members!(lookups).load(conn).await?;
                let blocks =
                    if lookups.direct_senders.is_empty() { Vec::new() } else { blocks_of!(lookups).load(conn).await? };
                let earlier = if lookups.keys.is_empty() { Vec::new() } else { earlier!(lookups).load(conn).await? };
                Ok(Facts { members, blocks, earlier })
            }
        }
    }

    /// Stores what `writes` holds (nothing when it has no messages).
    pub(super) async fn write(&mut self, writes: &Writes<'_>) -> QueryResult<()> {
        if writes.messages.is_empty() {
            return Ok(());
        }
        match self {
            DbConn::Postgres(conn) => {
                let conn: &AsyncPgConnection = conn;
                let messages = unnest::insert_messages_and_events(writes.messages, writes.events).execute(&mut &*conn);
                let counters = unnest::set_counters(writes.counters).execute(&mut &*conn);
                let positions = unnest::advance_positions(writes.positions).execute(&mut &*conn);
                let unarchive = async {
                    match &writes.unarchive {
                        Some((chats, now)) => unnest::unarchive(chats, *now).execute(&mut &*conn).await,
                        None => Ok(0),
                    }
                };
                try_join4(messages, counters, positions, unarchive).await?;
                Ok(())
            }
            DbConn::Sqlite(conn) => {
                let conn = &mut **conn;
                for row in writes.messages {
                    diesel::insert_into(messages::table).values(row).execute(conn).await?;
                }
                for row in writes.events {
                    diesel::insert_into(chat_events::table).values(row).execute(conn).await?;
                }
                // The chats' counters in one statement: each statement is a hop to the
                // connection's thread.
                let values = vec!["(?, ?, ?, ?)"; writes.counters.len()].join(", ");
                let sql = format!(
                    "WITH v(id, seq, event_seq, at) AS (VALUES {values}) \
                     UPDATE chats SET last_seq = v.seq, last_event_seq = v.event_seq, last_activity_at = v.at \
                     FROM v WHERE chats.id = v.id"
                );
                let mut counters = diesel::sql_query(sql).into_boxed();
                for (id, seq, event_seq, at) in writes.counters {
                    counters = counters
                        .bind::<Text, _>(id)
                        .bind::<BigInt, _>(*seq)
                        .bind::<BigInt, _>(*event_seq)
                        .bind::<BigInt, _>(*at);
                }
                counters.execute(conn).await?;
                for row in writes.positions {
                    diesel::insert_into(read_positions::table)
                        .values(row)
                        .on_conflict((read_positions::chat_id, read_positions::user_id))
                        .do_update()
                        .set((
                            read_positions::delivered_seq.eq(diesel::dsl::sql::<BigInt>(DELIVERED_FORWARD)),
                            read_positions::read_seq.eq(diesel::dsl::sql::<BigInt>(READ_FORWARD)),
                        ))
                        .execute(conn)
                        .await?;
                }
                if let Some((chats, now)) = &writes.unarchive {
                    diesel::update(
                        chat_settings::table
                            .filter(chat_settings::chat_id.eq_any(chats))
                            .filter(chat_settings::archived.eq(true))
                            .filter(chat_settings::muted_until.is_null().or(chat_settings::muted_until.le(*now))),
                    )
                    .set(chat_settings::archived.eq(false))
                    .execute(conn)
                    .await?;
                }
                Ok(())
            }
        }
    }

    /// Links stored messages to the files they carry (after `write`); a file that
    /// no longer exists breaks a foreign key.
    pub(super) async fn link_attachments(&mut self, links: &[MessageAttachmentRow]) -> QueryResult<()> {
        match self {
            DbConn::Postgres(conn) => {
                diesel::insert_into(message_attachments::table).values(links).execute(&mut **conn).await.map(drop)
            }
            DbConn::Sqlite(conn) => {
                for row in links {
                    diesel::insert_into(message_attachments::table).values(row).execute(&mut **conn).await?;
                }
                Ok(())
            }
        }
    }
}
