use crate::error::StoreError;
use crate::group_commit::{Mode, Request};
use crate::models::{
    ChatEventRow, MessageRow, UpdatePayload, EVENT_MESSAGE, EVENT_MESSAGE_UPDATE, EVENT_STATUS_UPDATE,
};
use crate::repos::hydrate::hydrate;
use crate::run::AsDbConn;
use crate::schema::{chat_events, chats, hidden_messages, messages};
use crate::store::Store;
use async_trait::async_trait;
use chitchat_domain::event::{ChatEvent, EventKind, MessageUpdate};
use chitchat_domain::message::{
    Appended, ClientMsgId, Emoji, LoggedUpdate, Message, MessageBody, MessageEdit, NewMessage, Page, SendOutcome,
};
use chitchat_domain::ports::MessageRepo;
use chitchat_domain::{ChatId, DomainResult, MessageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::{HashMap, HashSet};

/// `message` as the group commit takes it.
fn request(message: &NewMessage, mode: Mode) -> Result<Request, StoreError> {
    Ok(Request { row: MessageRow::new(message)?, mode, attachments: message.attachments.clone() })
}

impl Store {
    /// Checks and stores the message with the next group commit of its chat's
    /// writer; see `group_commit`.
    async fn store_new(&self, message: &NewMessage, mode: Mode) -> Result<SendOutcome, StoreError> {
        self.appends.submit(request(message, mode)?).await
    }

    /// One message, as it is when read.
    async fn find_one(&self, lookup: Lookup) -> Result<Option<Message>, StoreError> {
        let found: Vec<Message> = db_run!(self, |conn| {
            let rows: Vec<MessageRow> = match &lookup {
                Lookup::Id(id) => messages::table.find(id).select(MessageRow::as_select()).load(conn).await?,
                Lookup::ClientKey { sender, key } => {
                    messages::table
                        .filter(messages::sender_id.eq(sender))
                        .filter(messages::client_msg_id.eq(key))
                        .select(MessageRow::as_select())
                        .load(conn)
                        .await?
                }
            };
            hydrate(&mut conn.db(), rows, None, &HashSet::new()).await?
        });
        Ok(found.into_iter().next())
    }
}

/// How `find_one` finds its message.
enum Lookup {
    Id(String),
    ClientKey { sender: String, key: String },
}

/// Parses a logged event's payload.
fn payload<T: serde::de::DeserializeOwned>(event: &ChatEventRow) -> Result<T, StoreError> {
    serde_json::from_str(event.payload.as_deref().unwrap_or_default())
        .map_err(|e| StoreError::Corrupt(format!("{} payload: {e}", event.kind)))
}

/// A logged event as devices receive it; `message` is the event's message (for
/// message events) as it is now.
pub(crate) fn chat_event(event: ChatEventRow, message: Option<Message>) -> Result<ChatEvent, StoreError> {
    let kind = match (event.kind.as_str(), message) {
        (EVENT_MESSAGE, Some(message)) => EventKind::Message(message),
        (EVENT_STATUS_UPDATE, _) => EventKind::StatusUpdate(payload(&event)?),
        (EVENT_MESSAGE_UPDATE, Some(message)) => {
            let UpdatePayload { action, reaction } = payload(&event)?;
            EventKind::MessageUpdate(MessageUpdate { action, message, reaction })
        }
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
impl MessageRepo for Store {
    async fn append(&self, message: &NewMessage) -> DomainResult<Appended> {
        match self.store_new(message, Mode::Append).await? {
            SendOutcome::Stored { message, event_seq, .. } => {
                Ok(Appended { message, created: true, event_seq: Some(event_seq) })
            }
            SendOutcome::Duplicate(first) => Ok(Appended { message: first, created: false, event_seq: None }),
            SendOutcome::NotAMember | SendOutcome::Blocked => Err(StoreError::NotAMember.into()),
        }
    }

    async fn send(&self, message: &NewMessage) -> DomainResult<SendOutcome> {
        Ok(self.store_new(message, Mode::Send).await?)
    }

    async fn send_all(&self, messages: &[NewMessage]) -> Vec<DomainResult<SendOutcome>> {
        // Handed over one after the other, so that each chat's writer has them in
        // this order, before any outcome is awaited: they can share a batch.
        let mut handed = Vec::with_capacity(messages.len());
        for message in messages {
            handed.push(match request(message, Mode::Send) {
                Ok(request) => self.appends.hand_over(request).await,
                Err(error) => Err(error),
            });
        }
        let mut outcomes = Vec::with_capacity(handed.len());
        for handed in handed {
            let outcome = match handed {
                Ok(handed) => handed.outcome().await,
                Err(error) => Err(error),
            };
            outcomes.push(outcome.map_err(Into::into));
        }
        outcomes
    }

    async fn get(&self, id: MessageId) -> DomainResult<Option<Message>> {
        Ok(self.find_one(Lookup::Id(id.to_string())).await?)
    }

    async fn find_by_client_id(&self, sender: UserId, client_msg_id: &ClientMsgId) -> DomainResult<Option<Message>> {
        let lookup = Lookup::ClientKey { sender: sender.to_string(), key: client_msg_id.as_str().to_owned() };
        Ok(self.find_one(lookup).await?)
    }

    async fn list(&self, chat: ChatId, page: Page) -> DomainResult<Vec<Message>> {
        let chat = chat.to_string();
        let max_seq = page.max_seq.unwrap_or(i64::MAX);
        let after_seq = page.after_seq.unwrap_or(0);
        let viewer = page.viewer.map(|v| v.to_string());
        // Without a viewer, nobody's hidden messages are left out (no user has the id "").
        let hidden_by = viewer.clone().unwrap_or_default();
        let messages: Vec<Message> = db_run!(self, |conn| {
            async {
                let hidden = hidden_messages::table
                    .filter(hidden_messages::user_id.eq(&hidden_by))
                    .filter(hidden_messages::message_id.eq(messages::id));
                let query = messages::table
                    .filter(messages::chat_id.eq(&chat))
                    .filter(messages::seq.le(max_seq))
                    .filter(messages::seq.gt(after_seq))
                    .filter(diesel::dsl::not(diesel::dsl::exists(hidden)))
                    .into_boxed();
                let query =
                    if page.ascending() { query.order(messages::seq.asc()) } else { query.order(messages::seq.desc()) };
                let rows: Vec<MessageRow> =
                    query.offset(page.offset).limit(page.limit).select(MessageRow::as_select()).load(conn).await?;
                hydrate(&mut conn.db(), rows, viewer.as_deref(), &HashSet::new()).await
            }
            .await?
        });
        Ok(messages)
    }

    async fn last_messages(&self, chat_ids: &[ChatId]) -> DomainResult<Vec<Message>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = chat_ids.iter().map(ToString::to_string).collect();
        let messages: Vec<Message> = db_run!(self, |conn| {
            let rows: Vec<MessageRow> = messages::table
                .inner_join(chats::table.on(chats::id.eq(messages::chat_id).and(chats::last_seq.eq(messages::seq))))
                .filter(chats::id.eq_any(&ids))
                .select(MessageRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?;
            hydrate(&mut conn.db(), rows, None, &HashSet::new()).await?
        });
        Ok(messages)
    }

    async fn events_after(&self, chat: ChatId, after: i64, limit: i64) -> DomainResult<Vec<ChatEvent>> {
        let chat = chat.to_string();
        let (events, messages): (Vec<ChatEventRow>, Vec<Message>) = db_run!(self, |conn| {
            let rows: Vec<(ChatEventRow, Option<MessageRow>)> = chat_events::table
                .left_join(messages::table)
                .filter(chat_events::chat_id.eq(&chat))
                .filter(chat_events::event_seq.gt(after))
                .order(chat_events::event_seq.asc())
                .limit(limit)
                .select((ChatEventRow::as_select(), Option::<MessageRow>::as_select()))
                .load(conn)
                .await
                .map_err(StoreError::from)?;
            // A message and its updates share one row: read each message once.
            let mut events = Vec::with_capacity(rows.len());
            let mut message_rows: HashMap<String, MessageRow> = HashMap::new();
            for (event, message) in rows {
                if let Some(row) = message {
                    message_rows.entry(row.id.clone()).or_insert(row);
                }
                events.push(event);
            }
            (events, hydrate(&mut conn.db(), message_rows.into_values().collect(), None, &HashSet::new()).await?)
        });
        let messages: HashMap<MessageId, Message> = messages.into_iter().map(|m| (m.id, m)).collect();
        let mut logged = Vec::with_capacity(events.len());
        for event in events {
            let message = match event.message_id.as_deref().map(str::parse::<MessageId>) {
                Some(Ok(id)) => messages.get(&id).cloned(),
                Some(Err(_)) => return Err(StoreError::Corrupt(format!("message id {:?}", event.message_id)).into()),
                None => None,
            };
            logged.push(chat_event(event, message)?);
        }
        Ok(logged)
    }

    async fn sent_event_seq(&self, chat: ChatId, message: MessageId) -> DomainResult<Option<i64>> {
        let (chat, message) = (chat.to_string(), message.to_string());
        let found: Option<i64> = db_run!(self, |conn| {
            chat_events::table
                .filter(chat_events::chat_id.eq(&chat))
                .filter(chat_events::message_id.eq(&message))
                .filter(chat_events::kind.eq(crate::models::EVENT_MESSAGE))
                .order(chat_events::event_seq.desc())
                .select(chat_events::event_seq)
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(found)
    }

    async fn edit(
        &self,
        message: &Message,
        editor: UserId,
        content: &MessageBody,
        at: DateTime<Utc>,
    ) -> DomainResult<ChatEvent> {
        Ok(self.edit_message(message, editor, content, at).await?)
    }

    async fn delete_for_everyone(
        &self,
        message: &Message,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ChatEvent>> {
        Ok(self.delete_message_for_everyone(message, actor, at, true).await?)
    }

    async fn delete_by_moderator(
        &self,
        message: &Message,
        moderator: UserId,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ChatEvent>> {
        Ok(self.delete_message_for_everyone(message, moderator, at, false).await?)
    }

    async fn set_reaction(
        &self,
        message: &Message,
        user: UserId,
        emoji: Option<Emoji>,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ChatEvent>> {
        Ok(self.set_message_reaction(message, user, emoji, at).await?)
    }

    async fn edits(&self, message: MessageId) -> DomainResult<Vec<MessageEdit>> {
        Ok(self.message_edits(message).await?)
    }

    async fn updates_of(&self, chat: ChatId, ids: &[MessageId]) -> DomainResult<Vec<LoggedUpdate>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let chat = chat.to_string();
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<ChatEventRow> = db_run!(self, |conn| {
            chat_events::table
                .filter(chat_events::chat_id.eq(&chat))
                .filter(chat_events::message_id.eq_any(&ids))
                .filter(chat_events::kind.eq(EVENT_MESSAGE_UPDATE))
                .order(chat_events::event_seq.asc())
                .select(ChatEventRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        let mut updates = Vec::with_capacity(rows.len());
        for row in rows {
            let UpdatePayload { action, reaction } = payload(&row)?;
            let message_id = crate::models::parse_id(row.message_id.as_deref().unwrap_or_default())?;
            updates.push(LoggedUpdate { message_id, event_seq: row.event_seq, action, reaction });
        }
        Ok(updates)
    }

    async fn hide(&self, user: UserId, message: &Message, at: DateTime<Utc>) -> DomainResult<bool> {
        Ok(self.hide_message(user, message, at).await?)
    }

    async fn is_hidden(&self, user: UserId, message: MessageId) -> DomainResult<bool> {
        Ok(self.is_message_hidden(user, message).await?)
    }
}
