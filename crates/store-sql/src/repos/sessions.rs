use crate::error::StoreError;
use crate::models::SessionRow;
use crate::pool::SqlStore;
use crate::schema::sessions;
use crate::time::to_micros;
use async_trait::async_trait;
use chitchat_domain::auth::Session;
use chitchat_domain::ports::SessionRepo;
use chitchat_domain::{DomainResult, SessionId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[async_trait]
impl SessionRepo for SqlStore {
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
