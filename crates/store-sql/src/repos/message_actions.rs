//! Changes to stored messages: each is logged as a `message_update` in the
//! transaction that makes it (`MessageChange`), and the event carries the message
//! as it is once changed.

use crate::error::StoreError;
use crate::models::{convert_all, HiddenRow, MessageEditRow, MessageRow, ReactionRow, UpdatePayload};
use crate::repos::chat_log::MessageChange;
use crate::repos::hydrate::hydrate;
use crate::run::{AsDbConn, DbConn};
use crate::schema::{hidden_messages, message_attachments, message_edits, message_reactions, messages};
use crate::store::Store;
use crate::time::to_micros;
use chitchat_domain::event::{ChatEvent, EventKind, MessageUpdate};
use chitchat_domain::message::{Emoji, Message, MessageBody, MessageEdit, ReactionChange, UpdateAction};
use chitchat_domain::{MessageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::HashSet;

/// The stored message `id`, as it is when read, on `conn`.
async fn reload(conn: &mut DbConn<'_>, id: &str) -> Result<Message, StoreError> {
    let rows: Vec<MessageRow> =
        on_conn!(conn, |c| messages::table.find(id).select(MessageRow::as_select()).load(c).await)?;
    hydrate(conn, rows, None, &HashSet::new())
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("a changed message vanished".into()))
}

/// The logged event of a change to `message`.
fn update_event(message: Message, actor: UserId, event_seq: i64, payload: UpdatePayload) -> ChatEvent {
    ChatEvent {
        room_id: message.chat_id,
        event_seq,
        actor,
        kind: EventKind::MessageUpdate(MessageUpdate { action: payload.action, message, reaction: payload.reaction }),
    }
}

/// Ok(None) for a change that changed nothing.
fn unless_unchanged<T>(result: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(done) => Ok(Some(done)),
        Err(StoreError::Unchanged) => Ok(None),
        Err(error) => Err(error),
    }
}

impl Store {
    pub(crate) async fn edit_message(
        &self,
        message: &Message,
        editor: UserId,
        content: &MessageBody,
        at: DateTime<Utc>,
    ) -> Result<ChatEvent, StoreError> {
        let (chat_id, id, actor) = (message.chat_id.to_string(), message.id.to_string(), editor.to_string());
        let at = to_micros(at);
        let content = content.as_str().to_owned();
        let (event_seq, payload, edited) = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let change = MessageChange { chat_id: &chat_id, message_id: &id, actor: &actor, at, member_only: true };
                let event_seq = change.begin(&mut tx.db()).await?;
                let payload = {
                    let (old, deleted_at): (String, Option<i64>) =
                        messages::table.find(&id).select((messages::content, messages::deleted_at)).first(tx).await?;
                    if deleted_at.is_some() {
                        return Err(StoreError::MessageDeleted);
                    }
                    let versions: i64 =
                        message_edits::table.filter(message_edits::message_id.eq(&id)).count().get_result(tx).await?;
                    diesel::insert_into(message_edits::table)
                        .values(MessageEditRow {
                            message_id: id.clone(),
                            version: versions + 1,
                            content: old,
                            edited_at: at,
                        })
                        .execute(tx)
                        .await?;
                    diesel::update(messages::table.find(&id))
                        .set((messages::content.eq(&content), messages::edited_at.eq(Some(at))))
                        .execute(tx)
                        .await?;
                    UpdatePayload { action: UpdateAction::Edited, reaction: None }
                };
                change.log(&mut tx.db(), event_seq, &payload).await?;
                Ok::<_, StoreError>((event_seq, payload, reload(&mut tx.db(), &id).await?))
            })
            .await?
        });
        Ok(update_event(edited, editor, event_seq, payload))
    }

    pub(crate) async fn delete_message_for_everyone(
        &self,
        message: &Message,
        actor: UserId,
        at: DateTime<Utc>,
        member_only: bool,
    ) -> Result<Option<ChatEvent>, StoreError> {
        let (chat_id, id, actor_id) = (message.chat_id.to_string(), message.id.to_string(), actor.to_string());
        let at = to_micros(at);
        let done = db_run!(self, |conn| {
            unless_unchanged(
                conn.transaction(async |tx| {
                    let change =
                        MessageChange { chat_id: &chat_id, message_id: &id, actor: &actor_id, at, member_only };
                    let event_seq = change.begin(&mut tx.db()).await?;
                    let payload = {
                        let emptied = diesel::update(messages::table.find(&id).filter(messages::deleted_at.is_null()))
                            .set((
                                messages::content.eq(""),
                                messages::deleted_at.eq(Some(at)),
                                messages::edited_at.eq(None::<i64>),
                            ))
                            .execute(tx)
                            .await?;
                        if emptied == 0 {
                            return Err(StoreError::Unchanged);
                        }
                        diesel::delete(message_edits::table.filter(message_edits::message_id.eq(&id)))
                            .execute(tx)
                            .await?;
                        diesel::delete(message_reactions::table.filter(message_reactions::message_id.eq(&id)))
                            .execute(tx)
                            .await?;
                        // Its files are no longer carried by it; the service removes
                        // those nothing else carries.
                        diesel::delete(message_attachments::table.filter(message_attachments::message_id.eq(&id)))
                            .execute(tx)
                            .await?;
                        UpdatePayload { action: UpdateAction::Deleted, reaction: None }
                    };
                    change.log(&mut tx.db(), event_seq, &payload).await?;
                    Ok::<_, StoreError>((event_seq, payload, reload(&mut tx.db(), &id).await?))
                })
                .await,
            )?
        });
        Ok(done.map(|(event_seq, payload, deleted)| update_event(deleted, actor, event_seq, payload)))
    }

    pub(crate) async fn set_message_reaction(
        &self,
        message: &Message,
        user: UserId,
        emoji: Option<Emoji>,
        at: DateTime<Utc>,
    ) -> Result<Option<ChatEvent>, StoreError> {
        let (chat_id, id, user_id) = (message.chat_id.to_string(), message.id.to_string(), user.to_string());
        let at = to_micros(at);
        let emoji = emoji.map(Emoji::into_inner);
        let done = db_run!(self, |conn| {
            unless_unchanged(
                conn.transaction(async |tx| {
                    let change =
                        MessageChange { chat_id: &chat_id, message_id: &id, actor: &user_id, at, member_only: true };
                    let event_seq = change.begin(&mut tx.db()).await?;
                    let payload = {
                        let mine = message_reactions::table.find((&id, &user_id));
                        let had: Option<String> = mine.select(message_reactions::emoji).first(tx).await.optional()?;
                        let reaction = match (&emoji, had) {
                            (Some(new), had) => {
                                let deleted_at: Option<i64> =
                                    messages::table.find(&id).select(messages::deleted_at).first(tx).await?;
                                if deleted_at.is_some() {
                                    return Err(StoreError::MessageDeleted);
                                }
                                if had.as_ref() == Some(new) {
                                    return Err(StoreError::Unchanged);
                                }
                                diesel::insert_into(message_reactions::table)
                                    .values(ReactionRow {
                                        message_id: id.clone(),
                                        user_id: user_id.clone(),
                                        emoji: new.clone(),
                                        reacted_at: at,
                                    })
                                    .on_conflict((message_reactions::message_id, message_reactions::user_id))
                                    .do_update()
                                    .set((message_reactions::emoji.eq(new), message_reactions::reacted_at.eq(at)))
                                    .execute(tx)
                                    .await?;
                                ReactionChange { emoji: new.clone(), user_id: user, removed: false }
                            }
                            (None, Some(old)) => {
                                diesel::delete(mine).execute(tx).await?;
                                ReactionChange { emoji: old, user_id: user, removed: true }
                            }
                            (None, None) => return Err(StoreError::Unchanged),
                        };
                        UpdatePayload { action: UpdateAction::Reaction, reaction: Some(reaction) }
                    };
                    change.log(&mut tx.db(), event_seq, &payload).await?;
                    Ok::<_, StoreError>((event_seq, payload, reload(&mut tx.db(), &id).await?))
                })
                .await,
            )?
        });
        Ok(done.map(|(event_seq, payload, reacted)| update_event(reacted, user, event_seq, payload)))
    }

    pub(crate) async fn message_edits(&self, message: MessageId) -> Result<Vec<MessageEdit>, StoreError> {
        let id = message.to_string();
        let rows: Vec<MessageEditRow> = db_run!(self, |conn| {
            message_edits::table
                .filter(message_edits::message_id.eq(&id))
                .order(message_edits::version.asc())
                .select(MessageEditRow::as_select())
                .load(conn)
                .await?
        });
        convert_all(rows)
    }

    pub(crate) async fn hide_message(
        &self,
        user: UserId,
        message: &Message,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row = HiddenRow {
            user_id: user.to_string(),
            message_id: message.id.to_string(),
            chat_id: message.chat_id.to_string(),
            hidden_at: to_micros(at),
        };
        let inserted = db_run!(self, |conn| {
            diesel::insert_into(hidden_messages::table).values(&row).on_conflict_do_nothing().execute(conn).await?
        });
        Ok(inserted == 1)
    }

    pub(crate) async fn is_message_hidden(&self, user: UserId, message: MessageId) -> Result<bool, StoreError> {
        let key = (user.to_string(), message.to_string());
        let found: i64 = db_run!(self, |conn| {
            let found = hidden_messages::table.find((&key.0, &key.1)).count().get_result(conn).await?;
            found
        });
        Ok(found > 0)
    }
}
