use crate::error::StoreError;
use crate::models::{convert_all, ChatRow, MemberRow};
use crate::schema::{chat_members, chats, messages};
use crate::store::Store;
use async_trait::async_trait;
use chitchat_domain::chat::{Chat, GroupChange, GroupStep, Member};
use chitchat_domain::message::{Appended, ContentType};
use chitchat_domain::ports::{ChatRepo, GROUP_CHANGED};
use chitchat_domain::{ChatId, DomainError, DomainResult, UserId};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[async_trait]
impl ChatRepo for Store {
    async fn create_direct(&self, chat: &Chat, members: &[Member], direct_key: &str) -> DomainResult<Chat> {
        let chat_row = ChatRow::new(chat, Some(direct_key));
        let member_rows: Vec<MemberRow> = members.iter().map(MemberRow::from).collect();
        let direct_key = direct_key.to_owned();
        let stored: ChatRow = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                // The unique direct_key makes a concurrent second creation a no-op.
                let inserted = diesel::insert_into(chats::table)
                    .values(&chat_row)
                    .on_conflict(chats::direct_key)
                    .do_nothing()
                    .execute(tx)
                    .await?;
                if inserted == 1 {
                    // Row by row: diesel-async cannot batch-insert on SQLite.
                    for member in &member_rows {
                        diesel::insert_into(chat_members::table).values(member).execute(tx).await?;
                    }
                }
                chats::table.filter(chats::direct_key.eq(&direct_key)).select(ChatRow::as_select()).first(tx).await
            })
            .await
            .map_err(StoreError::from)?
        });
        Ok(Chat::try_from(stored)?)
    }

    async fn get(&self, id: ChatId) -> DomainResult<Option<Chat>> {
        let id = id.to_string();
        let row: Option<ChatRow> = db_run!(self, |conn| {
            chats::table
                .find(&id)
                .select(ChatRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Chat::try_from).transpose()?)
    }

    async fn list_for_user(&self, user: UserId) -> DomainResult<Vec<(Chat, Member)>> {
        let user = user.to_string();
        let rows: Vec<(ChatRow, MemberRow)> = db_run!(self, |conn| {
            chats::table
                .inner_join(chat_members::table)
                .filter(chat_members::user_id.eq(&user))
                .order((chats::last_activity_at.desc(), chats::id.desc()))
                .select((ChatRow::as_select(), MemberRow::as_select()))
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        let pairs = rows.into_iter().map(|(chat, member)| Ok((Chat::try_from(chat)?, Member::try_from(member)?)));
        Ok(pairs.collect::<Result<_, StoreError>>()?)
    }

    async fn members(&self, chat: ChatId) -> DomainResult<Vec<Member>> {
        let chat = chat.to_string();
        let rows: Vec<MemberRow> = db_run!(self, |conn| {
            chat_members::table
                .filter(chat_members::chat_id.eq(&chat))
                .filter(chat_members::left_at_seq.is_null())
                .order((chat_members::joined_at.asc(), chat_members::user_id.asc()))
                .select(MemberRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn member(&self, chat: ChatId, user: UserId) -> DomainResult<Option<Member>> {
        let key = (chat.to_string(), user.to_string());
        let row: Option<MemberRow> = db_run!(self, |conn| {
            chat_members::table
                .find((&key.0, &key.1))
                .select(MemberRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Member::try_from).transpose()?)
    }

    async fn correspondents(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.co_members(user, CoMembers::WhoWrote).await
    }

    async fn partners(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.co_members(user, CoMembers::All).await
    }

    async fn create_group(&self, chat: &Chat, steps: &[GroupStep]) -> DomainResult<Vec<Appended>> {
        self.apply_group_steps(Some(chat), chat.id, chat.group_version, steps)
            .await?
            .ok_or_else(|| DomainError::unavailable("a new group was claimed before it was stored"))
    }

    async fn change_group(&self, change: &GroupChange) -> DomainResult<Vec<Appended>> {
        self.apply_group_steps(None, change.chat_id, change.expected_version, &change.steps).await?.ok_or_else(|| {
            DomainError::conflict(GROUP_CHANGED, "the group was changed by someone else meanwhile; try again")
        })
    }
}

/// Which of the people sharing chats with a user `Store::co_members` lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CoMembers {
    /// Every active member of a chat the user is an active member of.
    All,
    /// Only where both the user and they wrote (not system messages) in that chat.
    WhoWrote,
}

impl Store {
    async fn co_members(&self, user: UserId, which: CoMembers) -> DomainResult<Vec<UserId>> {
        let user = user.to_string();
        let system = ContentType::System.as_str();
        let wrote = which == CoMembers::WhoWrote;
        let ids: Vec<String> = db_run!(self, |conn| {
            // Whether the member of the row has written in its chat: one probe of
            // the (chat_id, sender_id) index, EXISTS stopping at the first message.
            let wrote_there = || {
                diesel::dsl::exists(
                    messages::table
                        .filter(messages::chat_id.eq(chat_members::chat_id))
                        .filter(messages::sender_id.eq(chat_members::user_id))
                        .filter(messages::content_type.ne(system)),
                )
            };
            let mut mine = chat_members::table
                .filter(chat_members::user_id.eq(&user))
                .filter(chat_members::left_at_seq.is_null())
                .select(chat_members::chat_id)
                .into_boxed();
            if wrote {
                mine = mine.filter(wrote_there());
            }
            let my_chats: Vec<String> = mine.load(conn).await.map_err(StoreError::from)?;
            if my_chats.is_empty() {
                Vec::new()
            } else {
                let mut others = chat_members::table
                    .filter(chat_members::chat_id.eq_any(&my_chats))
                    .filter(chat_members::user_id.ne(&user))
                    .filter(chat_members::left_at_seq.is_null())
                    .select(chat_members::user_id)
                    .distinct()
                    .into_boxed();
                if wrote {
                    others = others.filter(wrote_there());
                }
                others.load(conn).await.map_err(StoreError::from)?
            }
        });
        Ok(ids.iter().map(|id| crate::models::parse_id(id)).collect::<Result<_, _>>()?)
    }
}
