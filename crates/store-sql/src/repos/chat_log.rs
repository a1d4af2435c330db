//! Steps that write a chat's log inside an open transaction, shared by the
//! repositories. Each takes the chat's row lock first, as every writer of a
//! chat's log does, so that concurrent writers are ordered and cannot deadlock.

use crate::error::StoreError;
use crate::fixed_shape::{Bind, FixedShape};
use crate::models::{ChatEventRow, MessageRow, ReadPositionRow, UpdatePayload, EVENT_MESSAGE_UPDATE};
use crate::run::DbConn;
use crate::schema::{chat_events, chat_members, chats, messages, read_positions};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Takes chat `chat_id`'s next `event_seq`; its row stays locked until the
/// transaction ends. A statement of fixed shape, so it stays prepared.
pub(crate) fn next_event_seq(chat_id: &str) -> FixedShape<'_, diesel::sql_types::BigInt> {
    FixedShape::new(
        "UPDATE chats SET last_event_seq = last_event_seq + 1 WHERE id = ? RETURNING last_event_seq",
        vec![Bind::Text(chat_id)],
    )
    .returning()
}

/// Appends a message one at a time: bumps the chat's `last_seq` and
/// `last_event_seq` (the row lock orders concurrent writers), then stores the
/// message under the new seq and its log entry under the new event_seq, and moves
/// the sender's read position to it. Used for the system messages of group
/// changes; the messages people send are stored by the group commit
/// (`group_commit::batch`), which writes the same rows for a batch at once. Sets
/// `row.seq` and returns the event_seq.
pub(crate) async fn append_in_tx(conn: &mut DbConn<'_>, row: &mut MessageRow) -> Result<i64, StoreError> {
    let bump = diesel::update(chats::table.find(&row.chat_id))
        .set((
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_event_seq.eq(chats::last_event_seq + 1),
            chats::last_activity_at.eq(row.created_at),
        ))
        .returning((chats::last_seq, chats::last_event_seq));
    let (seq, event_seq): (i64, i64) = on_conn!(conn, |c| bump.get_result(c).await)?;
    row.seq = seq;
    let row: &MessageRow = row;
    on_conn!(conn, |c| diesel::insert_into(messages::table).values(row).execute(c).await)?;
    let event = ChatEventRow::message(row, event_seq);
    on_conn!(conn, |c| diesel::insert_into(chat_events::table).values(&event).execute(c).await)?;
    // The sender has (and has read) everything up to their own message.
    let position = ReadPositionRow {
        chat_id: row.chat_id.clone(),
        user_id: row.sender_id.clone(),
        delivered_seq: 0,
        read_seq: 0,
        delivered_at: None,
        read_at: None,
    };
    on_conn!(conn, |c| {
        diesel::insert_into(read_positions::table)
            .values(&position)
            .on_conflict((read_positions::chat_id, read_positions::user_id))
            .do_nothing()
            .execute(c)
            .await
    })?;
    let own = read_positions::table.find((&row.chat_id, &row.sender_id));
    on_conn!(conn, |c| {
        diesel::update(own.filter(read_positions::delivered_seq.lt(seq)))
            .set(read_positions::delivered_seq.eq(seq))
            .execute(c)
            .await
    })?;
    on_conn!(conn, |c| {
        diesel::update(own.filter(read_positions::read_seq.lt(seq)))
            .set(read_positions::read_seq.eq(seq))
            .execute(c)
            .await
    })?;
    Ok(event_seq)
}

/// A change to a stored message, logged as a `message_update` in the transaction
/// that makes it: `begin` before the change, `log` after it.
pub(crate) struct MessageChange<'a> {
    pub chat_id: &'a str,
    pub message_id: &'a str,
    pub actor: &'a str,
    /// When, in microseconds.
    pub at: i64,
    /// Whether the actor must be an active member (false for a server admin's
    /// moderation, which the domain allows of anyone it names).
    pub member_only: bool,
}

impl MessageChange<'_> {
    /// Takes the chat's next `event_seq` first (the row lock orders every writer of
    /// the chat's log) and refuses an actor who is no longer an active member
    /// (`StoreError::NotAMember`). Returns the event_seq for `log`.
    pub(crate) async fn begin(&self, conn: &mut DbConn<'_>) -> Result<i64, StoreError> {
        let event_seq: i64 = on_conn!(conn, |c| next_event_seq(self.chat_id).get_result(c).await)?;
        let active = chat_members::table
            .filter(chat_members::chat_id.eq(self.chat_id))
            .filter(chat_members::user_id.eq(self.actor))
            .filter(chat_members::left_at_seq.is_null())
            .count();
        let active: i64 = on_conn!(conn, |c| active.get_result(c).await)?;
        if self.member_only && active == 0 {
            return Err(StoreError::NotAMember);
        }
        Ok(event_seq)
    }

    /// Logs the change made, `payload`, under the `event_seq` that `begin` took.
    pub(crate) async fn log(
        &self,
        conn: &mut DbConn<'_>,
        event_seq: i64,
        payload: &UpdatePayload,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(payload)?;
        let event = ChatEventRow {
            chat_id: self.chat_id.to_owned(),
            event_seq,
            kind: EVENT_MESSAGE_UPDATE.to_owned(),
            actor_id: self.actor.to_owned(),
            message_id: Some(self.message_id.to_owned()),
            created_at: self.at,
            payload: Some(json),
        };
        on_conn!(conn, |c| diesel::insert_into(chat_events::table).values(&event).execute(c).await)?;
        Ok(())
    }
}
