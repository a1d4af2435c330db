//! The writes of a batch on PostgreSQL as statements of fixed shape (`FixedShape`):
//! each takes its rows as one array per column (`unnest`), so its SQL text is the
//! same whatever the batch's size and it stays prepared on the connection. A batch
//! spent half its round trips, and PostgreSQL much of its CPU, on preparing the
//! statements these replace (item 12 in docs/benchmarks.md).

use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{ChatEventRow, MessageRow, ReadPositionRow};

/// The batch's messages and their entries in the chats' logs, in one statement.
/// The log's rows refer to the messages' rows; PostgreSQL checks those references at
/// the end of the statement, when both are stored.
pub(super) fn insert_messages_and_events<'a>(messages: &'a [MessageRow], events: &'a [ChatEventRow]) -> FixedShape<'a> {
    let texts = |f: fn(&MessageRow) -> &str| Bind::Texts(messages.iter().map(f).collect());
    let optional = |f: fn(&MessageRow) -> Option<&str>| Bind::OptionalTexts(messages.iter().map(f).collect());
    FixedShape::new(
        "WITH stored AS (INSERT INTO messages (id, chat_id, sender_id, seq, content, content_type, \
             client_msg_id, created_at, system_info, reply_to_id, forwarded, edited_at, deleted_at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) \
             INSERT INTO chat_events (chat_id, event_seq, kind, actor_id, message_id, created_at, payload) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?, ?)",
        vec![
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
        ]
        .into_iter()
        .chain(event_columns(events))
        .collect(),
    )
}

/// Entries of the chats' logs that refer to no new message.
pub(super) fn insert_events(events: &[ChatEventRow]) -> FixedShape<'_> {
    FixedShape::new(
        "INSERT INTO chat_events (chat_id, event_seq, kind, actor_id, message_id, created_at, payload) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?, ?)",
        event_columns(events).collect(),
    )
}

/// The columns of `chat_events`, in the order the inserts above name them.
fn event_columns(events: &[ChatEventRow]) -> impl Iterator<Item = Bind<'_>> {
    let texts = |f: fn(&ChatEventRow) -> &str| Bind::Texts(events.iter().map(f).collect());
    [
        texts(|e| &e.chat_id),
        Bind::BigInts(events.iter().map(|e| e.event_seq).collect()),
        texts(|e| &e.kind),
        texts(|e| &e.actor_id),
        Bind::OptionalTexts(events.iter().map(|e| e.message_id.as_deref()).collect()),
        Bind::BigInts(events.iter().map(|e| e.created_at).collect()),
        Bind::OptionalTexts(events.iter().map(|e| e.payload.as_deref()).collect()),
    ]
    .into_iter()
}

/// Sets each chat's last event: (chat, last_event_seq).
pub(super) fn set_last_events<'a>(counters: &[(&'a str, i64)]) -> FixedShape<'a> {
    FixedShape::new(
        "UPDATE chats SET last_event_seq = v.event_seq \
             FROM unnest(?, ?) AS v(id, event_seq) WHERE chats.id = v.id",
        vec![
            Bind::Texts(counters.iter().map(|c| c.0).collect()),
            Bind::BigInts(counters.iter().map(|c| c.1).collect()),
        ],
    )
}

/// Sets read positions to what a batch of receipts decided under the chats'
/// locks, creating those that do not exist. One row per (chat, user).
pub(super) fn set_positions(positions: &[ReadPositionRow]) -> FixedShape<'_> {
    FixedShape::new(
        "INSERT INTO read_positions (chat_id, user_id, delivered_seq, read_seq, delivered_at, read_at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET \
             delivered_seq = excluded.delivered_seq, read_seq = excluded.read_seq, \
             delivered_at = excluded.delivered_at, read_at = excluded.read_at",
        position_columns(positions),
    )
}

/// The marks of a batch of receipts' moves: (chat, user, kind, seq, at). A mark
/// that exists stays as it is.
pub(super) fn insert_marks<'a>(marks: &[(&'a str, &'a str, &'a str, i64, i64)]) -> FixedShape<'a> {
    FixedShape::new(
        "INSERT INTO receipt_marks (chat_id, user_id, kind, seq, at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        vec![
            Bind::Texts(marks.iter().map(|m| m.0).collect()),
            Bind::Texts(marks.iter().map(|m| m.1).collect()),
            Bind::Texts(marks.iter().map(|m| m.2).collect()),
            Bind::BigInts(marks.iter().map(|m| m.3).collect()),
            Bind::BigInts(marks.iter().map(|m| m.4).collect()),
        ],
    )
}

/// The columns of `read_positions`, in the order the upserts name them.
fn position_columns(positions: &[ReadPositionRow]) -> Vec<Bind<'_>> {
    vec![
        Bind::Texts(positions.iter().map(|p| p.chat_id.as_str()).collect()),
        Bind::Texts(positions.iter().map(|p| p.user_id.as_str()).collect()),
        Bind::BigInts(positions.iter().map(|p| p.delivered_seq).collect()),
        Bind::BigInts(positions.iter().map(|p| p.read_seq).collect()),
        Bind::OptionalBigInts(positions.iter().map(|p| p.delivered_at).collect()),
        Bind::OptionalBigInts(positions.iter().map(|p| p.read_at).collect()),
    ]
}

/// Sets the counters and last activity of each chat written to:
/// (chat, last_seq, last_event_seq, last_activity_at).
pub(super) fn set_counters(counters: &[(String, i64, i64, i64)]) -> FixedShape<'_> {
    FixedShape::new(
        "UPDATE chats SET last_seq = v.seq, last_event_seq = v.event_seq, last_activity_at = v.at \
             FROM unnest(?, ?, ?, ?) AS v(id, seq, event_seq, at) WHERE chats.id = v.id",
        vec![
            Bind::Texts(counters.iter().map(|c| c.0.as_str()).collect()),
            Bind::BigInts(counters.iter().map(|c| c.1).collect()),
            Bind::BigInts(counters.iter().map(|c| c.2).collect()),
            Bind::BigInts(counters.iter().map(|c| c.3).collect()),
        ],
    )
}

/// Moves read positions forward (never back), creating those that do not exist.
/// `positions` holds at most one row per (chat, user), as one statement may not
/// update a row twice.
pub(super) fn advance_positions(positions: &[ReadPositionRow]) -> FixedShape<'_> {
    FixedShape::new(
        "INSERT INTO read_positions (chat_id, user_id, delivered_seq, read_seq, delivered_at, read_at) \
             SELECT * FROM unnest(?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET \
             delivered_seq = GREATEST(read_positions.delivered_seq, excluded.delivered_seq), \
             read_seq = GREATEST(read_positions.read_seq, excluded.read_seq)",
        position_columns(positions),
    )
}

/// Brings chats back from their members' archives, unless muted past `now`.
pub(super) fn unarchive<'a>(chats: &[&'a str], now: i64) -> FixedShape<'a> {
    FixedShape::new(
        "UPDATE chat_settings SET archived = false \
              WHERE chat_id = ANY(?) AND archived AND (muted_until IS NULL OR muted_until <= ?)",
        vec![Bind::Texts(chats.to_vec()), Bind::BigInt(now)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::pg::Pg;

    #[test]
    fn a_batch_statements_text_does_not_depend_on_its_rows() {
        let one = [("a".to_owned(), 1, 2, 3)];
        let three = [("a".to_owned(), 1, 2, 3), ("b".to_owned(), 4, 5, 6), ("c".to_owned(), 7, 8, 9)];
        let sql = |counters| diesel::debug_query::<Pg, _>(&set_counters(counters)).to_string();
        let (sql_one, sql_three) = (sql(&one), sql(&three));
        let text = |s: &str| s.split(" -- binds").next().unwrap_or_default().to_owned();
        assert_eq!(text(&sql_one), text(&sql_three), "the statement's text must not depend on the rows");
        assert!(text(&sql_one).contains("unnest($1, $2, $3, $4)"), "{sql_one}");
        assert!(sql_three.contains(r#"["a", "b", "c"]"#), "{sql_three}");
    }
}
