//! Device links. A confirmation and a claim are each one conditional `UPDATE`: the
//! database decides which of racing calls, on any instance, wins.

use crate::error::StoreError;
use crate::models::{parse_id, SessionRow};
use crate::schema::{device_links as links, sessions};
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::auth::link::{DeviceLink, LinkConfirmation};
use chitchat_domain::auth::Session;
use chitchat_domain::ports::DeviceLinkRepo;
use chitchat_domain::user::Phone;
use chitchat_domain::{DomainResult, LinkId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = links)]
struct LinkRow {
    id: String,
    phone: String,
    code_hash: String,
    claim_hash: String,
    device: String,
    created_at: i64,
    expires_at: i64,
    confirmed_by: Option<String>,
    session_id: Option<String>,
    confirmed_at: Option<i64>,
    claimed_at: Option<i64>,
}

impl From<&DeviceLink> for LinkRow {
    fn from(link: &DeviceLink) -> Self {
        Self {
            id: link.id.to_string(),
            phone: link.phone.as_str().to_owned(),
            code_hash: link.code_hash.clone(),
            claim_hash: link.claim_hash.clone(),
            device: link.device.clone(),
            created_at: to_micros(link.created_at),
            expires_at: to_micros(link.expires_at),
            confirmed_by: link.confirmed.as_ref().map(|c| c.user_id.to_string()),
            session_id: link.confirmed.as_ref().map(|c| c.session_id.to_string()),
            confirmed_at: link.confirmed.as_ref().map(|c| to_micros(c.at)),
            claimed_at: link.claimed_at.map(to_micros),
        }
    }
}

impl LinkRow {
    fn into_domain(self) -> Result<DeviceLink, StoreError> {
        let confirmed = match (self.confirmed_by, self.session_id, self.confirmed_at) {
            (Some(user), Some(session), Some(at)) => Some(LinkConfirmation {
                user_id: parse_id(&user)?,
                session_id: parse_id(&session)?,
                at: from_micros(at)?,
            }),
            _ => None,
        };
        Ok(DeviceLink {
            id: parse_id(&self.id)?,
            phone: Phone::from_trusted(self.phone),
            code_hash: self.code_hash,
            claim_hash: self.claim_hash,
            device: self.device,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            confirmed,
            claimed_at: self.claimed_at.map(from_micros).transpose()?,
        })
    }
}

#[async_trait]
impl DeviceLinkRepo for Store {
    async fn insert(&self, link: &DeviceLink) -> DomainResult<bool> {
        let row = LinkRow::from(link);
        // A taken code hash inserts nothing; the same statement on both backends.
        let inserted = db_run!(self, |conn| {
            diesel::insert_into(links::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(inserted == 1)
    }

    async fn get(&self, id: LinkId) -> DomainResult<Option<DeviceLink>> {
        let id = id.to_string();
        let row: Option<LinkRow> = db_run!(self, |conn| {
            links::table
                .find(&id)
                .select(LinkRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(LinkRow::into_domain).transpose()?)
    }

    async fn find_by_code(&self, code_hash: &str) -> DomainResult<Option<DeviceLink>> {
        let code_hash = code_hash.to_owned();
        let row: Option<LinkRow> = db_run!(self, |conn| {
            links::table
                .filter(links::code_hash.eq(&code_hash))
                .select(LinkRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(LinkRow::into_domain).transpose()?)
    }

    async fn confirm(&self, id: LinkId, session: &Session, now: DateTime<Utc>) -> DomainResult<bool> {
        let (id, now, session) = (id.to_string(), to_micros(now), SessionRow::from(session));
        let confirmed = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                // The session row first, since the link refers to it; it is rolled
                // back with the transaction when the link is not confirmable.
                diesel::insert_into(sessions::table).values(&session).execute(tx).await?;
                let updated = diesel::update(
                    links::table.find(&id).filter(links::confirmed_at.is_null()).filter(links::expires_at.gt(now)),
                )
                .set((
                    links::confirmed_by.eq(Some(&session.user_id)),
                    links::session_id.eq(Some(&session.id)),
                    links::confirmed_at.eq(Some(now)),
                ))
                .execute(tx)
                .await?;
                if updated == 1 {
                    Ok(true)
                } else {
                    Err(StoreError::Unchanged)
                }
            })
            .await
        });
        match confirmed {
            Ok(done) => Ok(done),
            Err(StoreError::Unchanged) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    async fn claim(&self, id: LinkId, now: DateTime<Utc>) -> DomainResult<bool> {
        let (id, now) = (id.to_string(), to_micros(now));
        let updated = db_run!(self, |conn| {
            diesel::update(
                links::table.find(&id).filter(links::confirmed_at.is_not_null()).filter(links::claimed_at.is_null()),
            )
            .set(links::claimed_at.eq(Some(now)))
            .execute(conn)
            .await
            .map_err(StoreError::from)?
        });
        Ok(updated == 1)
    }

    async fn remove_expired(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let before = to_micros(before);
        let removed = db_run!(self, |conn| {
            diesel::delete(links::table.filter(links::expires_at.lt(before)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(u64::try_from(removed).unwrap_or_default())
    }
}
