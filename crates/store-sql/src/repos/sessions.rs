use crate::error::StoreError;
use crate::models::{convert_all, SessionRow};
use crate::schema::sessions;
use crate::store::Store;
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::auth::Session;
use chitchat_domain::ports::SessionRepo;
use chitchat_domain::{DomainResult, SessionId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[async_trait]
impl SessionRepo for Store {
    async fn create(&self, session: &Session) -> DomainResult<()> {
        let row = SessionRow::from(session);
        db_run!(self, |conn| {
            diesel::insert_into(sessions::table).values(&row).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn get(&self, id: SessionId) -> DomainResult<Option<Session>> {
        let id = id.to_string();
        let row: Option<SessionRow> = db_run!(self, |conn| {
            sessions::table
                .find(&id)
                .select(SessionRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Session::try_from).transpose()?)
    }

    async fn list_active(&self, user: UserId, now: DateTime<Utc>) -> DomainResult<Vec<Session>> {
        let (user, now) = (user.to_string(), to_micros(now));
        let rows: Vec<SessionRow> = db_run!(self, |conn| {
            sessions::table
                .filter(sessions::user_id.eq(&user))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .order((sessions::created_at.desc(), sessions::id.desc()))
                .select(SessionRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> DomainResult<()> {
        let id = id.to_string();
        db_run!(self, |conn| {
            diesel::update(sessions::table.find(&id).filter(sessions::revoked_at.is_null()))
                .set(sessions::revoked_at.eq(Some(to_micros(at))))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }
}
