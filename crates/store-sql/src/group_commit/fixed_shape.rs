//! The writes of a batch on PostgreSQL as statements of fixed shape: each takes its
//! rows as one array per column (`unnest`), so its SQL text is the same whatever the
//! batch's size and it stays prepared on the connection.
//!
//! Why not the DSL: diesel never caches a multi-row insert, an `UPDATE` or an
//! `ON CONFLICT DO UPDATE`, and diesel-async prepares every uncached statement in a
//! round trip of its own before running it, one at a time even when the statements
//! are pipelined. A batch spent half its round trips, and PostgreSQL much of its CPU,
//! on parsing and planning (section 1 of docs/benchmarks.md).

use crate::models::{ChatEventRow, MessageRow, ReadPositionRow};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel::QueryResult;

/// One bind parameter: a column of the rows, or a single value.
enum Bind<'a> {
    Texts(Vec<&'a str>),
    OptionalTexts(Vec<Option<&'a str>>),
    BigInts(Vec<i64>),
    OptionalBigInts(Vec<Option<i64>>),
    Bools(Vec<bool>),
    BigInt(i64),
}

/// SQL text that never changes, with `?` where each bind goes in turn. diesel caches
/// the statement by its text, as nothing in it says otherwise.
pub(super) struct FixedShape<'a> {
    sql: &'static str,
    binds: Vec<Bind<'a>>,
}

impl QueryId for FixedShape<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for FixedShape<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mismatch = || Error::QueryBuilderError("placeholders and binds differ in number".into());
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        let mut binds = self.binds.iter();
        for part in parts {
            match binds.next().ok_or_else(mismatch)? {
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::OptionalTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v)?,
                Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Bind::OptionalBigInts(v) => out.push_bind_param::<Array<Nullable<BigInt>>, _>(v)?,
                Bind::Bools(v) => out.push_bind_param::<Array<Bool>, _>(v)?,
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
            }
            out.push_sql(part);
        }
        match binds.next() {
            Some(_) => Err(mismatch()),
            None => Ok(()),
        }
    }
}

/// The batch's messages and their entries in the chats' logs, in one statement.
/// The log's rows refer to the messages' rows; PostgreSQL checks those references at
/// the end of the statement, when both are stored.
pub(super) fn insert_messages_and_events<'a>(messages: &'a [MessageRow], events: &'a [ChatEventRow]) -> FixedShape<'a> {
    let texts = |f: fn(&MessageRow) -> &str| Bind::Texts(messages.iter().map(f).collect());
    let optional = |f: fn(&MessageRow) -> Option<&str>| Bind::OptionalTexts(messages.iter().map(f).collect());
    let event_texts = |f: fn(&ChatEventRow) -> &str| Bind::Texts(events.iter().map(f).collect());
    FixedShape {
        sql: "WITH stored AS (INSERT INTO messages (id, chat_id, sender_id, seq, content, content_type, \
             client_msg_id, created_at, system_info, reply_to_id, forwarded, edited_at, deleted_at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) \
             INSERT INTO chat_events (chat_id, event_seq, kind, actor_id, message_id, created_at, payload) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?, ?)",
        binds: vec![
            texts(|m| &m.id),
            texts(|m| &m.chat_id),
            texts(|m| &m.sender_id),
            Bind::BigInts(messages.iter().map(|m| m.seq).collect()),
            texts(|m| &m.content),
            texts(|m| &m.content_type),
            optional(|m| m.client_msg_id.as_deref()),
            Bind::BigInts(messages.iter().map(|m| m.created_at).collect()),
            optional(|m| m.system_info.as_deref()),
            optional(|m| m.reply_to_id.as_deref()),
            Bind::Bools(messages.iter().map(|m| m.forwarded).collect()),
            Bind::OptionalBigInts(messages.iter().map(|m| m.edited_at).collect()),
            Bind::OptionalBigInts(messages.iter().map(|m| m.deleted_at).collect()),
            event_texts(|e| &e.chat_id),
            Bind::BigInts(events.iter().map(|e| e.event_seq).collect()),
            event_texts(|e| &e.kind),
            event_texts(|e| &e.actor_id),
            Bind::OptionalTexts(events.iter().map(|e| e.message_id.as_deref()).collect()),
            Bind::BigInts(events.iter().map(|e| e.created_at).collect()),
            Bind::OptionalTexts(events.iter().map(|e| e.payload.as_deref()).collect()),
        ],
    }
}

/// Sets the counters and last activity of each chat written to:
/// (chat, last_seq, last_event_seq, last_activity_at).
pub(super) fn set_counters(counters: &[(String, i64, i64, i64)]) -> FixedShape<'_> {
    FixedShape {
        sql: "UPDATE chats SET last_seq = v.seq, last_event_seq = v.event_seq, last_activity_at = v.at \
             FROM unnest(?, ?, ?, ?) AS v(id, seq, event_seq, at) WHERE chats.id = v.id",
        binds: vec![
            Bind::Texts(counters.iter().map(|c| c.0.as_str()).collect()),
            Bind::BigInts(counters.iter().map(|c| c.1).collect()),
            Bind::BigInts(counters.iter().map(|c| c.2).collect()),
            Bind::BigInts(counters.iter().map(|c| c.3).collect()),
        ],
    }
}

/// Moves read positions forward (never back), creating those that do not exist.
/// `positions` holds at most one row per (chat, user), as one statement may not
/// update a row twice.
pub(super) fn advance_positions(positions: &[ReadPositionRow]) -> FixedShape<'_> {
    FixedShape {
        sql: "INSERT INTO read_positions (chat_id, user_id, delivered_seq, read_seq, delivered_at, read_at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET \
             delivered_seq = GREATEST(read_positions.delivered_seq, excluded.delivered_seq), \
             read_seq = GREATEST(read_positions.read_seq, excluded.read_seq)",
        binds: vec![
            Bind::Texts(positions.iter().map(|p| p.chat_id.as_str()).collect()),
            Bind::Texts(positions.iter().map(|p| p.user_id.as_str()).collect()),
            Bind::BigInts(positions.iter().map(|p| p.delivered_seq).collect()),
            Bind::BigInts(positions.iter().map(|p| p.read_seq).collect()),
            Bind::OptionalBigInts(positions.iter().map(|p| p.delivered_at).collect()),
            Bind::OptionalBigInts(positions.iter().map(|p| p.read_at).collect()),
        ],
    }
}

/// Brings chats back from their members' archives, unless muted past `now`.
pub(super) fn unarchive<'a>(chats: &[&'a str], now: i64) -> FixedShape<'a> {
    FixedShape {
        sql: "UPDATE chat_settings SET archived = false \
              WHERE chat_id = ANY(?) AND archived AND (muted_until IS NULL OR muted_until <= ?)",
        binds: vec![Bind::Texts(chats.to_vec()), Bind::BigInt(now)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_placeholder_takes_the_next_bind_whatever_the_rows() {
        let one = [("a".to_owned(), 1, 2, 3)];
        let three = [("a".to_owned(), 1, 2, 3), ("b".to_owned(), 4, 5, 6), ("c".to_owned(), 7, 8, 9)];
        let sql = |counters| diesel::debug_query::<Pg, _>(&set_counters(counters)).to_string();
        let (sql_one, sql_three) = (sql(&one), sql(&three));
        let text = |s: &str| s.split(" -- binds").next().unwrap_or_default().to_owned();
        assert_eq!(text(&sql_one), text(&sql_three), "the statement's text must not depend on the rows");
        assert!(text(&sql_one).contains("unnest($1, $2, $3, $4)"), "{sql_one}");
        assert!(sql_three.contains(r#"["a", "b", "c"]"#), "{sql_three}");
    }

    #[test]
    fn placeholders_and_binds_that_differ_in_number_are_an_error_not_a_wrong_statement() {
        let too_few = FixedShape { sql: "SELECT ?, ?", binds: vec![Bind::BigInt(1)] };
        let too_many = FixedShape { sql: "SELECT ?", binds: vec![Bind::BigInt(1), Bind::BigInt(2)] };
        for statement in [too_few, too_many] {
            let mut builder = diesel::pg::PgQueryBuilder::default();
            let built = statement.to_sql(&mut builder, &Pg);
            assert!(built.is_err(), "built {:?}", diesel::query_builder::QueryBuilder::finish(builder));
        }
    }
}
