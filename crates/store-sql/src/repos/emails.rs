use crate::error::StoreError;
use crate::models::UserEmailRow;
use crate::schema::{user_emails as emails, users};
use crate::store::Store;
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::ports::UserEmailRepo;
use chitchat_domain::user::{EmailAddress, Phone, UserEmail};
use chitchat_domain::{DomainResult, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

#[async_trait]
impl UserEmailRepo for Store {
    async fn email_of(&self, user: UserId) -> DomainResult<Option<UserEmail>> {
        let user = user.to_string();
        let row: Option<UserEmailRow> = db_run!(self, |conn| {
            emails::table
                .find(user.as_str())
                .select(UserEmailRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(UserEmail::try_from).transpose()?)
    }

    async fn put_email(&self, email: &UserEmail) -> DomainResult<()> {
        let row = UserEmailRow::from(email);
        db_run!(self, |conn| {
            diesel::insert_into(emails::table)
                .values(&row)
                .on_conflict(emails::user_id)
                .do_update()
                .set((
                    emails::address.eq(excluded(emails::address)),
                    emails::verified_at.eq(excluded(emails::verified_at)),
                    emails::code_hash.eq(excluded(emails::code_hash)),
                    emails::code_expires_at.eq(excluded(emails::code_expires_at)),
                    emails::attempts.eq(excluded(emails::attempts)),
                    emails::created_at.eq(excluded(emails::created_at)),
                ))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn reserve_email_attempt(&self, user: UserId, max_attempts: i32) -> DomainResult<Option<UserEmail>> {
        let user = user.to_string();
        let row: Option<UserEmailRow> = db_run!(self, |conn| {
            diesel::update(
                emails::table
                    .find(user.as_str())
                    .filter(emails::code_hash.is_not_null())
                    .filter(emails::attempts.lt(max_attempts)),
            )
            .set(emails::attempts.eq(emails::attempts + 1))
            .returning(UserEmailRow::as_returning())
            .get_result(conn)
            .await
            .optional()
            .map_err(StoreError::from)?
        });
        Ok(row.map(UserEmail::try_from).transpose()?)
    }

    async fn confirm_email(
        &self,
        user: UserId,
        code_hash: &str,
        max_attempts: i32,
        at: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let (user, code_hash, at) = (user.to_string(), code_hash.to_owned(), to_micros(at));
        let updated = db_run!(self, |conn| {
            diesel::update(
                emails::table
                    .find(user.as_str())
                    .filter(emails::code_hash.eq(&code_hash))
                    .filter(emails::attempts.le(max_attempts)),
            )
            .set((
                emails::verified_at.eq(Some(at)),
                emails::code_hash.eq(None::<String>),
                emails::code_expires_at.eq(None::<i64>),
                emails::attempts.eq(0),
            ))
            .execute(conn)
            .await
            .map_err(StoreError::from)?
        });
        Ok(updated == 1)
    }

    async fn delete_email(&self, user: UserId) -> DomainResult<bool> {
        let user = user.to_string();
        let deleted = db_run!(self, |conn| {
            diesel::delete(emails::table.find(user.as_str())).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(deleted == 1)
    }

    async fn verified_email_of_phone(&self, phone: &Phone) -> DomainResult<Option<EmailAddress>> {
        let phone = phone.as_str().to_owned();
        let address: Option<String> = db_run!(self, |conn| {
            emails::table
                .inner_join(users::table)
                .filter(users::phone.eq(phone.as_str()))
                .filter(emails::verified_at.is_not_null())
                .select(emails::address)
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(address.map(EmailAddress::from_trusted))
    }
}
