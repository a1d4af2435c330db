//! The statements of a batch of receipts, with an arm per backend: on PostgreSQL
//! the lock and the read of the positions go out with BEGIN, and the four writes
//! together (`unnest`, fixed shape); SQLite runs them one after the other.

use super::statements::{lock_postgres, LockedChat};
use super::unnest;
use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{ChatEventRow, ReadPositionRow};
use crate::run::DbConn;
use crate::schema::{chat_events, read_positions};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::{try_join, try_join4};

/// A mark of one move: (chat, user, kind, seq, at).
pub(super) type Mark<'a> = (&'a str, &'a str, &'a str, i64, i64);

/// What the lock found: the chats' rows, and every position in those chats.
pub(super) struct Found {
    pub chats: Vec<LockedChat>,
    pub positions: Vec<ReadPositionRow>,
}

/// What a batch of receipts writes.
pub(super) struct Moves<'a> {
    /// The moved positions, one row per (chat, user), as they now are.
    pub positions: &'a [ReadPositionRow],
    pub marks: &'a [Mark<'a>],
    /// The `status_update` entries of the chats' logs.
    pub events: &'a [ChatEventRow],
    /// (chat, last_event_seq) of each chat written to.
    pub counters: &'a [(&'a str, i64)],
}

macro_rules! positions_in {
    ($chat_ids:expr) => {
        read_positions::table.filter(read_positions::chat_id.eq_any($chat_ids)).select(ReadPositionRow::as_select())
    };
}

/// On PostgreSQL, the lock of `chat_ids` (sorted) and the read of their positions,
/// sent at once: the read runs after the lock is held, so it sees every position
/// committed before.
pub(super) async fn lock_and_read_postgres(conn: &AsyncPgConnection, chat_ids: &[&str]) -> QueryResult<Found> {
    let (chats, positions) = try_join(lock_postgres(conn, chat_ids), positions_in!(chat_ids).load(&mut &*conn)).await?;
    Ok(Found { chats, positions })
}

/// A mark, once: the first time a position got somewhere is the one kept.
const MARK: &str = "INSERT INTO receipt_marks (chat_id, user_id, kind, seq, at) VALUES (?, ?, ?, ?, ?) \
                    ON CONFLICT DO NOTHING";

/// A chat's last event, on SQLite.
const SET_LAST_EVENT: &str = "UPDATE chats SET last_event_seq = ? WHERE id = ?";

impl DbConn<'_> {
    /// Locks the rows of `chat_ids` (sorted) until the transaction ends, as every
    /// writer of a chat's log does first, and reads the positions in them.
    pub(super) async fn lock_and_read(&mut self, chat_ids: &[&str]) -> QueryResult<Found> {
        match self {
            DbConn::Postgres(conn) => lock_and_read_postgres(conn, chat_ids).await,
            DbConn::Sqlite(_) => {
                let chats = self.lock(chat_ids).await?;
                let positions = on_conn!(self, |c| positions_in!(chat_ids).load(c).await)?;
                Ok(Found { chats, positions })
            }
        }
    }

    /// Stores what `moves` holds.
    pub(super) async fn write_moves(&mut self, moves: &Moves<'_>) -> QueryResult<()> {
        match self {
            DbConn::Postgres(conn) => {
                let conn: &AsyncPgConnection = conn;
                let positions = unnest::set_positions(moves.positions).execute(&mut &*conn);
                let marks = unnest::insert_marks(moves.marks).execute(&mut &*conn);
                let events = unnest::insert_events(moves.events).execute(&mut &*conn);
                let counters = unnest::set_last_events(moves.counters).execute(&mut &*conn);
                try_join4(positions, marks, events, counters).await?;
                Ok(())
            }
            DbConn::Sqlite(conn) => {
                let conn = &mut **conn;
                for row in moves.positions {
                    diesel::insert_into(read_positions::table)
                        .values(row)
                        .on_conflict((read_positions::chat_id, read_positions::user_id))
                        .do_update()
                        .set((
                            read_positions::delivered_seq.eq(excluded(read_positions::delivered_seq)),
                            read_positions::read_seq.eq(excluded(read_positions::read_seq)),
                            read_positions::delivered_at.eq(excluded(read_positions::delivered_at)),
                            read_positions::read_at.eq(excluded(read_positions::read_at)),
                        ))
                        .execute(conn)
                        .await?;
                }
                for &(chat, user, kind, seq, at) in moves.marks {
                    let binds =
                        vec![Bind::Text(chat), Bind::Text(user), Bind::Text(kind), Bind::BigInt(seq), Bind::BigInt(at)];
                    FixedShape::new(MARK, binds).execute(conn).await?;
                }
                for row in moves.events {
                    diesel::insert_into(chat_events::table).values(row).execute(conn).await?;
                }
                for &(chat, last_event_seq) in moves.counters {
                    FixedShape::new(SET_LAST_EVENT, vec![Bind::BigInt(last_event_seq), Bind::Text(chat)])
                        .execute(conn)
                        .await?;
                }
                Ok(())
            }
        }
    }
}
