//! Message rows as the messages people read.

use crate::error::StoreError;
use crate::models::{assemble, AttachmentRow, MessageExtras, MessageRow};
use crate::run::DbConn;
use crate::schema::{attachments, message_attachments, message_reactions, messages};
use chitchat_domain::message::Message;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashSet;

/// Turns message rows into messages as they are when read, on `conn` (a pooled
/// connection or an open transaction): each with its reply preview, its reaction
/// counts and, when `viewer` (a user id) is given, the viewer's own reaction. In
/// the rows' order. The rows whose ids are in `new` are messages stored in the
/// open transaction, which nobody can have reacted to yet: their reactions are not
/// read.
pub(crate) async fn hydrate(
    conn: &mut DbConn<'_>,
    rows: Vec<MessageRow>,
    viewer: Option<&str>,
    new: &HashSet<&str>,
) -> Result<Vec<Message>, StoreError> {
    let ids: Vec<String> = rows.iter().filter(|r| !new.contains(r.id.as_str())).map(|r| r.id.clone()).collect();
    let reply_ids: Vec<String> = rows.iter().filter_map(|r| r.reply_to_id.clone()).collect();
    let mut extras =
        MessageExtras { originals: Vec::new(), counts: Vec::new(), mine: Vec::new(), attachments: Vec::new() };
    if !reply_ids.is_empty() {
        // Built in each arm: `as_select` is typed for its backend.
        extras.originals = on_conn!(conn, |c| {
            messages::table.filter(messages::id.eq_any(&reply_ids)).select(MessageRow::as_select()).load(c).await
        })?;
    }
    if !ids.is_empty() {
        // Each emoji's count and whether the viewer is among its senders, in
        // one query: `count(CASE ...)` is portable where `bool_or` is not, and
        // built from the DSL rather than SQL text so its statement is cached.
        let viewer_reacted = diesel::dsl::count(diesel::dsl::case_when(
            message_reactions::user_id.eq(viewer.unwrap_or_default()),
            message_reactions::user_id,
        ));
        let query = message_reactions::table
            .filter(message_reactions::message_id.eq_any(&ids))
            .group_by((message_reactions::message_id, message_reactions::emoji))
            .select((
                message_reactions::message_id,
                message_reactions::emoji,
                diesel::dsl::count_star(),
                viewer_reacted,
            ));
        let reactions: Vec<(String, String, i64, i64)> = on_conn!(conn, |c| query.load(c).await)?;
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
        extras.attachments = on_conn!(conn, |c| {
            message_attachments::table
                .inner_join(attachments::table)
                .filter(message_attachments::message_id.eq_any(carriers))
                .order((message_attachments::message_id, message_attachments::position))
                .select((message_attachments::message_id, AttachmentRow::as_select()))
                .load(c)
                .await
        })?;
    }
    assemble(rows, extras)
}
