//! One file per repository port.

/// Appends a message inside an open transaction `$tx`: bumps the chat's `last_seq`
/// and `last_event_seq` (the row lock orders concurrent writers), then stores the
/// message under the new seq and its log entry under the new event_seq. The one
/// append path, for user and system messages alike. `$row` is a `&mut MessageRow`
/// whose `seq` it sets. Evaluates to the event_seq; a failed query returns its
/// error from the enclosing transaction body.
macro_rules! append_in_tx {
    ($tx:ident, $row:expr) => {{
        use $crate::schema::{chat_events, chats, messages, read_positions};
        let row: &mut $crate::models::MessageRow = $row;
        let (seq, event_seq): (i64, i64) = diesel::update(chats::table.find(&row.chat_id))
            .set((
                chats::last_seq.eq(chats::last_seq + 1),
                chats::last_event_seq.eq(chats::last_event_seq + 1),
                chats::last_activity_at.eq(row.created_at),
            ))
            .returning((chats::last_seq, chats::last_event_seq))
            .get_result($tx)
            .await?;
        row.seq = seq;
        diesel::insert_into(messages::table).values(&*row).execute($tx).await?;
        let event = $crate::models::ChatEventRow {
            chat_id: row.chat_id.clone(),
            event_seq,
            kind: $crate::models::EVENT_MESSAGE.to_owned(),
            actor_id: row.sender_id.clone(),
            message_id: Some(row.id.clone()),
            created_at: row.created_at,
            payload: None,
        };
        diesel::insert_into(chat_events::table).values(&event).execute($tx).await?;
        // The sender has (and has read) everything up to their own message.
        diesel::insert_into(read_positions::table)
            .values($crate::models::ReadPositionRow {
                chat_id: row.chat_id.clone(),
                user_id: row.sender_id.clone(),
                delivered_seq: 0,
                read_seq: 0,
                delivered_at: None,
                read_at: None,
            })
            .on_conflict((read_positions::chat_id, read_positions::user_id))
            .do_nothing()
            .execute($tx)
            .await?;
        let own = read_positions::table.find((&row.chat_id, &row.sender_id));
        diesel::update(own.filter(read_positions::delivered_seq.lt(seq)))
            .set(read_positions::delivered_seq.eq(seq))
            .execute($tx)
            .await?;
        diesel::update(own.filter(read_positions::read_seq.lt(seq)))
            .set(read_positions::read_seq.eq(seq))
            .execute($tx)
            .await?;
        event_seq
    }};
}

mod chat_settings;
mod chats;
mod contacts;
mod groups;
mod health;
mod messages;
mod otps;
mod receipts;
mod search;
mod sessions;
mod users;
