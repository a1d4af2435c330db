use crate::error::StoreError;
use crate::models::{convert_all, UserRow};
use crate::schema::users;
use crate::store::Store;
use async_trait::async_trait;
use chitchat_domain::ports::UserRepo;
use chitchat_domain::user::User;
use chitchat_domain::{DomainResult, UserId};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::lower;

/// `%text%` for LIKE, with LIKE's wildcards in `text` taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[async_trait]
impl UserRepo for Store {
    async fn insert_or_get_by_phone(&self, user: &User) -> DomainResult<User> {
        let row = UserRow::from(user);
        let stored: UserRow = db_run!(self, |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .on_conflict(users::phone)
                .do_nothing()
                .execute(conn)
                .await
                .map_err(StoreError::from)?;
            users::table
                .filter(users::phone.eq(&row.phone))
                .select(UserRow::as_select())
                .first(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(User::try_from(stored)?)
    }

    async fn get(&self, id: UserId) -> DomainResult<Option<User>> {
        let id = id.to_string();
        let row: Option<UserRow> = db_run!(self, |conn| {
            users::table
                .find(&id)
                .select(UserRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }

    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows: Vec<UserRow> = db_run!(self, |conn| {
            users::table
                .filter(users::id.eq_any(&ids))
                .select(UserRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn search(&self, query: &str, exclude: UserId, limit: i64) -> DomainResult<Vec<User>> {
        let name_pattern = contains_pattern(&query.to_lowercase());
        let exclude = exclude.to_string();
        let rows: Vec<UserRow> = db_run!(self, |conn| {
            users::table
                .filter(users::id.ne(&exclude))
                .filter(lower(users::name).like(&name_pattern).escape('\\'))
                .order((users::name.asc(), users::id.asc()))
                .limit(limit)
                .select(UserRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn touch_last_seen(&self, id: UserId, at: chrono::DateTime<chrono::Utc>) -> DomainResult<()> {
        let (id, at) = (id.to_string(), crate::time::to_micros(at));
        db_run!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set(users::last_seen.eq(at))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn get_by_phone(&self, phone: &chitchat_domain::user::Phone) -> DomainResult<Option<User>> {
        let phone = phone.as_str().to_owned();
        let row: Option<UserRow> = db_run!(self, |conn| {
            users::table
                .filter(users::phone.eq(phone.as_str()))
                .select(UserRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }

    async fn set_last_seen_visibility(
        &self,
        id: UserId,
        visibility: chitchat_domain::user::LastSeenVisibility,
    ) -> DomainResult<Option<User>> {
        let id = id.to_string();
        let row: Option<UserRow> = db_run!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set(users::last_seen_visibility.eq(visibility.as_str()))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }

    async fn set_notification_previews(&self, id: UserId, previews: bool) -> DomainResult<Option<User>> {
        let id = id.to_string();
        let row: Option<UserRow> = db_run!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set(users::notification_previews.eq(previews))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }

    async fn update_profile(
        &self,
        id: UserId,
        name: Option<String>,
        status: Option<String>,
    ) -> DomainResult<Option<User>> {
        let id = id.to_string();
        let row: Option<UserRow> = db_run!(self, |conn| {
            if let Some(name) = &name {
                diesel::update(users::table.find(&id))
                    .set(users::name.eq(name))
                    .execute(conn)
                    .await
                    .map_err(StoreError::from)?;
            }
            if let Some(status) = &status {
                diesel::update(users::table.find(&id))
                    .set(users::status.eq(status))
                    .execute(conn)
                    .await
                    .map_err(StoreError::from)?;
            }
            users::table
                .find(&id)
                .select(UserRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }
}
