//! Group changes: a step's system message is appended (`append_in_tx`), then the
//! step's effects are applied, all in the transaction that claims the group's version.

use crate::error::StoreError;
use crate::models::{ChatRow, MemberRow, MessageRow};
use crate::repos::chat_log::append_in_tx;
use crate::run::AsDbConn;
use crate::schema::{chat_members, chats};
use crate::store::Store;
use chitchat_domain::chat::{Chat, GroupEffect, GroupStep};
use chitchat_domain::message::{Appended, Message};
use chitchat_domain::ChatId;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};

impl Store {
    /// In one transaction: stores `new_chat` when given, claims the group by moving
    /// its `group_version` from `expected_version` to the next, and applies `steps`.
    /// None, with nothing changed, when the group is not at `expected_version`.
    pub(crate) async fn apply_group_steps(
        &self,
        new_chat: Option<&Chat>,
        chat_id: ChatId,
        expected_version: i64,
        steps: &[GroupStep],
    ) -> Result<Option<Vec<Appended>>, StoreError> {
        let chat_id = chat_id.to_string();
        let chat_row = new_chat.map(|chat| ChatRow::new(chat, None));
        let message_rows: Vec<MessageRow> =
            steps.iter().map(|step| MessageRow::new(&step.message)).collect::<Result<_, _>>()?;
        let effects: Vec<Vec<GroupEffect>> = steps.iter().map(|step| step.effects.clone()).collect();
        let applied: Option<Vec<(MessageRow, i64)>> = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                if let Some(chat_row) = &chat_row {
                    diesel::insert_into(chats::table).values(chat_row).execute(tx).await?;
                }
                let claimed = diesel::update(
                    chats::table.filter(chats::id.eq(&chat_id)).filter(chats::group_version.eq(expected_version)),
                )
                .set(chats::group_version.eq(chats::group_version + 1))
                .execute(tx)
                .await?;
                if claimed == 0 {
                    return Ok(None);
                }
                let mut applied = Vec::with_capacity(message_rows.len());
                for (step_effects, row) in effects.iter().zip(&message_rows) {
                    let mut row = row.clone();
                    let event_seq = append_in_tx(&mut tx.db(), &mut row).await?;
                    let member = |user: String| {
                        chat_members::table
                            .filter(chat_members::chat_id.eq(&chat_id))
                            .filter(chat_members::user_id.eq(user))
                    };
                    for effect in step_effects {
                        match effect {
                            GroupEffect::Details { name, description } => {
                                if let Some(name) = name {
                                    diesel::update(chats::table.find(&chat_id))
                                        .set(chats::name.eq(name))
                                        .execute(tx)
                                        .await?;
                                }
                                if let Some(description) = description {
                                    diesel::update(chats::table.find(&chat_id))
                                        .set(chats::description.eq(description))
                                        .execute(tx)
                                        .await?;
                                }
                            }
                            GroupEffect::Join(joining) => {
                                diesel::insert_into(chat_members::table)
                                    .values(MemberRow::from(joining))
                                    .on_conflict((chat_members::chat_id, chat_members::user_id))
                                    .do_update()
                                    .set((
                                        chat_members::role.eq(excluded(chat_members::role)),
                                        chat_members::joined_at.eq(excluded(chat_members::joined_at)),
                                        chat_members::left_at_seq.eq(None::<i64>),
                                        chat_members::left_at_event_seq.eq(None::<i64>),
                                    ))
                                    .execute(tx)
                                    .await?;
                            }
                            GroupEffect::Leave(user) => {
                                diesel::update(member(user.to_string()))
                                    .set((
                                        chat_members::left_at_seq.eq(row.seq),
                                        chat_members::left_at_event_seq.eq(event_seq),
                                    ))
                                    .execute(tx)
                                    .await?;
                            }
                            GroupEffect::SetRole { user_id, role } => {
                                diesel::update(member(user_id.to_string()))
                                    .set(chat_members::role.eq(role.as_str()))
                                    .execute(tx)
                                    .await?;
                            }
                        }
                    }
                    applied.push((row, event_seq));
                }
                Ok::<_, StoreError>(Some(applied))
            })
            .await?
        });
        let Some(applied) = applied else { return Ok(None) };
        let appended = applied
            .into_iter()
            .map(|(row, event_seq)| {
                Ok(Appended { message: Message::try_from(row)?, created: true, event_seq: Some(event_seq) })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(appended))
    }
}
