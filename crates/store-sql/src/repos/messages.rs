use crate::error::StoreError;
use crate::models::{convert_all, MessageRow};
use crate::pool::SqlStore;
use crate::schema::{chats, messages};
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::message::{Appended, ClientMsgId, Message, NewMessage, Page};
use chitchat_domain::ports::MessageRepo;
use chitchat_domain::{ChatId, DomainError, DomainResult, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

impl SqlStore {
    /// Bumps the chat's `last_seq` and stores the message under it, in one
    /// transaction: the row lock on the chat orders concurrent senders.
    async fn insert_with_next_seq(&self, message: &NewMessage) -> Result<Message, StoreError> {
        let chat_id = message.chat_id.to_string();
        let now = to_micros(message.created_at);
        let row: MessageRow = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let seq: i64 = diesel::update(chats::table.find(&chat_id))
                    .set((chats::last_seq.eq(chats::last_seq + 1), chats::last_activity_at.eq(now)))
                    .returning(chats::last_seq)
                    .get_result(tx)
                    .await?;
                let row = MessageRow::new(message, seq);
                diesel::insert_into(messages::table).values(&row).execute(tx).await?;
                Ok::<_, diesel::result::Error>(row)
            })
            .await?
        });
        Message::try_from(row)
    }
}

#[async_trait]
impl MessageRepo for SqlStore {
    async fn append(&self, message: &NewMessage) -> DomainResult<Appended> {
        match self.insert_with_next_seq(message).await {
            Ok(stored) => Ok(Appended { message: stored, created: true }),
            // A concurrent retry with the same client_msg_id won the race: return its message.
            Err(error) if error.is_unique_violation() => {
                let key = message.client_msg_id.as_ref().ok_or_else(|| DomainError::from(error))?;
                let first = self.find_by_client_id(message.sender_id, key).await?;
                let first = first.ok_or_else(|| DomainError::unavailable("duplicate message vanished"))?;
                Ok(Appended { message: first, created: false })
            }
            Err(error) => Err(error.into()),
        }
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
        let rows: Vec<MessageRow> = db_run!(self, |conn| {
            messages::table
                .filter(messages::chat_id.eq(&chat))
                .order(messages::seq.desc())
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
}
