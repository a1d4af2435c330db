use crate::error::StoreError;
use crate::schema::chat_settings;
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::ports::ChatSettingsRepo;
use chitchat_domain::{ChatId, DomainResult, UserId};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chat_settings)]
struct SettingsRow {
    chat_id: String,
    user_id: String,
    archived: bool,
    muted_until: Option<i64>,
    pinned: bool,
}

#[async_trait]
impl ChatSettingsRepo for Store {
    async fn put_settings(&self, chat: ChatId, user: UserId, settings: &ChatSettings) -> DomainResult<()> {
        let row = SettingsRow {
            chat_id: chat.to_string(),
            user_id: user.to_string(),
            archived: settings.archived,
            muted_until: settings.muted_until.map(to_micros),
            pinned: settings.pinned,
        };
        db_run!(self, |conn| {
            diesel::insert_into(chat_settings::table)
                .values(&row)
                .on_conflict((chat_settings::chat_id, chat_settings::user_id))
                .do_update()
                .set((
                    chat_settings::archived.eq(excluded(chat_settings::archived)),
                    chat_settings::muted_until.eq(excluded(chat_settings::muted_until)),
                    chat_settings::pinned.eq(excluded(chat_settings::pinned)),
                ))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn settings(&self, user: UserId, chats: &[ChatId]) -> DomainResult<Vec<(ChatId, ChatSettings)>> {
        let user = user.to_string();
        let ids: Vec<String> = chats.iter().map(ToString::to_string).collect();
        let rows: Vec<SettingsRow> = db_run!(self, |conn| {
            chat_settings::table
                .filter(chat_settings::user_id.eq(&user))
                .filter(chat_settings::chat_id.eq_any(&ids))
                .select(SettingsRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        let convert = |r: SettingsRow| -> Result<(ChatId, ChatSettings), StoreError> {
            let chat = r.chat_id.parse().map_err(|_| StoreError::Corrupt(format!("chat id {:?}", r.chat_id)))?;
            let muted_until = r.muted_until.map(from_micros).transpose()?;
            Ok((chat, ChatSettings { archived: r.archived, muted_until, pinned: r.pinned }))
        };
        Ok(rows.into_iter().map(convert).collect::<Result<_, _>>()?)
    }
}
