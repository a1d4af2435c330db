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

/// Turns message rows into messages as they are when read, on `$conn` (a pooled
/// connection or an open transaction): each with its reply preview, its reaction
/// counts and, when `$viewer` (an `Option<&str>` user id) is given, the viewer's
/// own reaction. Evaluates to `Result<Vec<Message>, StoreError>`, in the rows' order.
/// With `new: $new` (a set of ids), those rows are messages stored in the open
/// transaction, which nobody can have reacted to yet: their reactions are not read.
macro_rules! hydrate {
    ($conn:ident, $rows:expr, $viewer:expr) => {
        hydrate!($conn, $rows, $viewer, new: &std::collections::HashSet::<&str>::new())
    };
    ($conn:ident, $rows:expr, $viewer:expr, new: $new:expr) => {{
        use $crate::schema::{attachments, message_attachments, message_reactions, messages};
        let rows: Vec<$crate::models::MessageRow> = $rows;
        let viewer: Option<&str> = $viewer;
        let new: &std::collections::HashSet<&str> = $new;
        async {
            let ids: Vec<String> = rows.iter().filter(|r| !new.contains(r.id.as_str())).map(|r| r.id.clone()).collect();
            let reply_ids: Vec<String> = rows.iter().filter_map(|r| r.reply_to_id.clone()).collect();
            let mut extras = $crate::models::MessageExtras {
                originals: Vec::new(),
                counts: Vec::new(),
                mine: Vec::new(),
                attachments: Vec::new(),
            };
            if !reply_ids.is_empty() {
                extras.originals = messages::table
                    .filter(messages::id.eq_any(&reply_ids))
                    .select($crate::models::MessageRow::as_select())
                    .load($conn)
                    .await?;
            }
            if !ids.is_empty() {
                // Each emoji's count and whether the viewer is among its senders, in
                // one query: `count(CASE ...)` is portable where `bool_or` is not, and
                // built from the DSL rather than SQL text so its statement is cached.
                let viewer_reacted = diesel::dsl::count(diesel::dsl::case_when(
                    message_reactions::user_id.eq(viewer.unwrap_or_default()),
                    message_reactions::user_id,
                ));
                let reactions: Vec<(String, String, i64, i64)> = message_reactions::table
                    .filter(message_reactions::message_id.eq_any(&ids))
                    .group_by((message_reactions::message_id, message_reactions::emoji))
                    .select((
                        message_reactions::message_id,
                        message_reactions::emoji,
                        diesel::dsl::count_star(),
                        viewer_reacted,
                    ))
                    .load($conn)
                    .await?;
                for (message_id, emoji, count, by_viewer) in reactions {
                    if viewer.is_some() && by_viewer > 0 {
                        extras.mine.push((message_id.clone(), emoji.clone()));
                    }
                    extras.counts.push((message_id, emoji, count));
                }
            }
            // Only messages of a file-carrying type have attachments: text costs no query.
            let carriers: Vec<&String> =
                rows.iter().filter(|r| !matches!(r.content_type.as_str(), "text" | "system")).map(|r| &r.id).collect();
            if !carriers.is_empty() {
                extras.attachments = message_attachments::table
                    .inner_join(attachments::table)
                    .filter(message_attachments::message_id.eq_any(carriers))
                    .order((message_attachments::message_id, message_attachments::position))
                    .select((message_attachments::message_id, $crate::models::AttachmentRow::as_select()))
                    .load($conn)
                    .await?;
            }
            $crate::models::assemble(rows, extras)
        }
        .await
    }};
}

/// Logs a change to message `$message_id` of chat `$chat_id` (ids as `&str`) by
/// `$actor` inside an open transaction `$tx`: bumps the chat's `last_event_seq`
/// first (the row lock orders every writer of the chat's log), refuses an actor who
/// is no longer an active member (`StoreError::NotAMember`), runs `$change`, which
/// makes the change and evaluates to its `UpdatePayload` (or returns an error from
/// the transaction body, rolling everything back), and logs the `message_update`
/// at `$at` (microseconds). Evaluates to `(event_seq, payload)`.
macro_rules! update_in_tx {
    ($tx:ident, $chat_id:expr, $message_id:expr, $actor:expr, $at:expr, $change:block) => {{
        use $crate::schema::{chat_events, chat_members};
        let (chat_id, message_id, actor): (&str, &str, &str) = ($chat_id, $message_id, $actor);
        let event_seq: i64 = $crate::repos::next_event_seq(chat_id).get_result($tx).await?;
        let active: i64 = chat_members::table
            .filter(chat_members::chat_id.eq(chat_id))
            .filter(chat_members::user_id.eq(actor))
            .filter(chat_members::left_at_seq.is_null())
            .count()
            .get_result($tx)
            .await?;
        if active == 0 {
            return Err($crate::error::StoreError::NotAMember);
        }
        let payload: $crate::models::UpdatePayload = $change;
        let json = serde_json::to_string(&payload).map_err(|e| $crate::error::StoreError::Corrupt(e.to_string()))?;
        diesel::insert_into(chat_events::table)
            .values($crate::models::ChatEventRow {
                chat_id: chat_id.to_owned(),
                event_seq,
                kind: $crate::models::EVENT_MESSAGE_UPDATE.to_owned(),
                actor_id: actor.to_owned(),
                message_id: Some(message_id.to_owned()),
                created_at: $at,
                payload: Some(json),
            })
            .execute($tx)
            .await?;
        (event_seq, payload)
    }};
}

/// Takes chat `chat_id`'s next `event_seq`; its row stays locked until the
/// transaction ends. A statement of fixed shape, so it stays prepared.
pub(crate) fn next_event_seq(chat_id: &str) -> crate::fixed_shape::FixedShape<'_, diesel::sql_types::BigInt> {
    crate::fixed_shape::FixedShape::new(
        "UPDATE chats SET last_event_seq = last_event_seq + 1 WHERE id = ? RETURNING last_event_seq",
        vec![crate::fixed_shape::Bind::Text(chat_id)],
    )
    .returning()
}

mod attachments;
mod chat_settings;
mod chats;
mod contacts;
mod groups;
mod health;
mod message_actions;
mod messages;
mod otps;
mod receipts;
pub(crate) mod search;
mod sessions;
mod users;
