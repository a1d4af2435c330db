use crate::error::StoreError;
use crate::models::{convert_all, ChatEventRow, MessageRow, EVENT_MESSAGE, EVENT_STATUS_UPDATE};
use crate::pool::SqlStore;
use crate::schema::{chat_events, chat_members, chats, messages};
use async_trait::async_trait;
use chitchat_domain::event::{ChatEvent, EventKind};
use chitchat_domain::message::{Appended, ClientMsgId, Message, NewMessage, Page};
use chitchat_domain::ports::MessageRepo;
use chitchat_domain::{ChatId, DomainError, DomainResult, MessageId, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

impl SqlStore {
    /// Stores the message with the chat's next `seq` and `event_seq`, in one
    /// transaction, provided its sender is still an active member once the chat
    /// is locked: a removal stored meanwhile wins. Returns the message and its
    /// event_seq.
    async fn insert_with_next_seq(&self, message: &NewMessage) -> Result<(Message, i64), StoreError> {
        let row = MessageRow::new(message)?;
        let (row, event_seq): (MessageRow, i64) = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let mut row = row.clone();
                let event_seq = append_in_tx!(tx, &mut row);
                let sender_is_member: i64 = chat_members::table
                    .filter(chat_members::chat_id.eq(&row.chat_id))
                    .filter(chat_members::user_id.eq(&row.sender_id))
                    .filter(chat_members::left_at_seq.is_null())
                    .count()
                    .get_result(tx)
                    .await?;
                if sender_is_member == 0 {
                    return Err(StoreError::NotAMember);
                }
                Ok((row, event_seq))
            })
            .await?
        });
        Ok((Message::try_from(row)?, event_seq))
    }
}

pub(crate) fn chat_event(event: ChatEventRow, message: Option<MessageRow>) -> Result<ChatEvent, StoreError> {
    let kind = match (event.kind.as_str(), message) {
        (EVENT_MESSAGE, Some(row)) => EventKind::Message(Message::try_from(row)?),
        (EVENT_STATUS_UPDATE, _) => EventKind::StatusUpdate(
            serde_json::from_str(event.payload.as_deref().unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("status_update payload: {e}")))?,
        ),
        (kind, _) => return Err(StoreError::Corrupt(format!("chat event {kind:?} without its data"))),
    };
    Ok(ChatEvent {
        room_id: event.chat_id.parse().map_err(|_| StoreError::Corrupt(format!("chat id {:?}", event.chat_id)))?,
        event_seq: event.event_seq,
        actor: event.actor_id.parse().map_err(|_| StoreError::Corrupt(format!("actor id {:?}", event.actor_id)))?,
        kind,
    })
}

#[async_trait]
impl MessageRepo for SqlStore {
    async fn append(&self, message: &NewMessage) -> DomainResult<Appended> {
        match self.insert_with_next_seq(message).await {
            Ok((stored, event_seq)) => Ok(Appended { message: stored, created: true, event_seq: Some(event_seq) }),
            // A concurrent retry with the same client_msg_id won the race: return its message.
            Err(error) if error.is_unique_violation() => {
                let key = message.client_msg_id.as_ref().ok_or_else(|| DomainError::from(error))?;
                let first = self.find_by_client_id(message.sender_id, key).await?;
                let first = first.ok_or_else(|| DomainError::unavailable("duplicate message vanished"))?;
                Ok(Appended { message: first, created: false, event_seq: None })
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn get(&self, id: MessageId) -> DomainResult<Option<Message>> {
        let id = id.to_string();
        let row: Option<MessageRow> = db_run!(self, |conn| {
            messages::table
                .find(&id)
                .select(MessageRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Message::try_from).transpose()?)
    }

    async fn find_by_client_id(&self, sender: UserId, client_msg_id: &ClientMsgId) -> DomainResult<Option<Message>> {
        let sender = sender.to_string();
        let row: Option<MessageRow> = db_run!(self, |conn| {
            messages::table
                .filter(messages::sender_id.eq(&sender))
                .filter(messages::client_msg_id.eq(client_msg_id.as_str()))
                .select(MessageRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Message::try_from).transpose()?)
    }

    async fn list(&self, chat: ChatId, page: Page) -> DomainResult<Vec<Message>> {
        let chat = chat.to_string();
        let max_seq = page.max_seq.unwrap_or(i64::MAX);
        let after_seq = page.after_seq.unwrap_or(0);
        let rows: Vec<MessageRow> = db_run!(self, |conn| {
            let query = messages::table
                .filter(messages::chat_id.eq(&chat))
                .filter(messages::seq.le(max_seq))
                .filter(messages::seq.gt(after_seq))
                .into_boxed();
            let query =
                if page.ascending() { query.order(messages::seq.asc()) } else { query.order(messages::seq.desc()) };
            query
                .offset(page.offset)
                .limit(page.limit)
                .select(MessageRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn last_messages(&self, chat_ids: &[ChatId]) -> DomainResult<Vec<Message>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = chat_ids.iter().map(ToString::to_string).collect();
        let rows: Vec<MessageRow> = db_run!(self, |conn| {
            messages::table
                .inner_join(chats::table.on(chats::id.eq(messages::chat_id).and(chats::last_seq.eq(messages::seq))))
                .filter(chats::id.eq_any(&ids))
                .select(MessageRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn events_after(&self, chat: ChatId, after: i64, limit: i64) -> DomainResult<Vec<ChatEvent>> {
        let chat = chat.to_string();
        let rows: Vec<(ChatEventRow, Option<MessageRow>)> = db_run!(self, |conn| {
            chat_events::table
                .left_join(messages::table)
                .filter(chat_events::chat_id.eq(&chat))
                .filter(chat_events::event_seq.gt(after))
                .order(chat_events::event_seq.asc())
                .limit(limit)
                .select((ChatEventRow::as_select(), Option::<MessageRow>::as_select()))
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(rows.into_iter().map(|(event, message)| chat_event(event, message)).collect::<Result<_, _>>()?)
    }
}
