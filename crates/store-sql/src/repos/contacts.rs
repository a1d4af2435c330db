use crate::error::StoreError;
use crate::schema::{blocks, contacts, pending_contacts};
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::contact::{ContactEntry, PendingContact};
use chitchat_domain::ports::ContactRepo;
use chitchat_domain::user::Phone;
use chitchat_domain::{DomainResult, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
struct ContactRow {
    owner_id: String,
    contact_id: String,
    alias: Option<String>,
    added_at: i64,
}

impl TryFrom<ContactRow> for ContactEntry {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        let id = |raw: &str| raw.parse().map_err(|_| StoreError::Corrupt(format!("user id {raw:?}")));
        Ok(Self {
            owner: id(&r.owner_id)?,
            contact: id(&r.contact_id)?,
            alias: r.alias,
            added_at: from_micros(r.added_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_contacts)]
struct PendingRow {
    owner_id: String,
    phone: String,
    alias: Option<String>,
    added_at: i64,
}

impl TryFrom<PendingRow> for PendingContact {
    type Error = StoreError;
    fn try_from(r: PendingRow) -> Result<Self, StoreError> {
        Ok(Self {
            owner: crate::models::parse_id(&r.owner_id)?,
            phone: Phone::from_trusted(r.phone),
            alias: r.alias,
            added_at: from_micros(r.added_at)?,
        })
    }
}

#[async_trait]
impl ContactRepo for Store {
    async fn put_contact(&self, entry: &ContactEntry) -> DomainResult<bool> {
        let row = ContactRow {
            owner_id: entry.owner.to_string(),
            contact_id: entry.contact.to_string(),
            alias: entry.alias.clone(),
            added_at: to_micros(entry.added_at),
        };
        let existed: bool = db_run!(self, |conn| {
            let existing = contacts::table
                .find((&row.owner_id, &row.contact_id))
                .select(contacts::owner_id)
                .first::<String>(conn)
                .await
                .optional()
                .map_err(StoreError::from)?;
            diesel::insert_into(contacts::table)
                .values(&row)
                .on_conflict((contacts::owner_id, contacts::contact_id))
                .do_update()
                .set(contacts::alias.eq(excluded(contacts::alias)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?;
            existing.is_some()
        });
        Ok(!existed)
    }

    async fn remove_contact(&self, owner: UserId, contact: UserId) -> DomainResult<bool> {
        let key = (owner.to_string(), contact.to_string());
        let removed = db_run!(self, |conn| {
            diesel::delete(contacts::table.find((&key.0, &key.1))).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(removed > 0)
    }

    async fn contacts(&self, owner: UserId) -> DomainResult<Vec<ContactEntry>> {
        let owner = owner.to_string();
        let rows: Vec<ContactRow> = db_run!(self, |conn| {
            contacts::table
                .filter(contacts::owner_id.eq(&owner))
                .order((contacts::added_at.asc(), contacts::contact_id.asc()))
                .select(ContactRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(crate::models::convert_all(rows)?)
    }

    async fn block(&self, blocker: UserId, blocked: UserId, at: DateTime<Utc>) -> DomainResult<()> {
        let (blocker, blocked, at) = (blocker.to_string(), blocked.to_string(), to_micros(at));
        db_run!(self, |conn| {
            diesel::insert_into(blocks::table)
                .values((blocks::blocker_id.eq(&blocker), blocks::blocked_id.eq(&blocked), blocks::blocked_at.eq(at)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> DomainResult<()> {
        let key = (blocker.to_string(), blocked.to_string());
        db_run!(self, |conn| {
            diesel::delete(blocks::table.find((&key.0, &key.1))).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn saved_by(&self, contact: UserId) -> DomainResult<Vec<UserId>> {
        let contact = contact.to_string();
        let owners: Vec<String> = db_run!(self, |conn| {
            contacts::table
                .filter(contacts::contact_id.eq(&contact))
                .select(contacts::owner_id)
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(owners.iter().map(|id| crate::models::parse_id(id)).collect::<Result<_, _>>()?)
    }

    async fn put_pending(&self, entry: &PendingContact) -> DomainResult<bool> {
        let row = PendingRow {
            owner_id: entry.owner.to_string(),
            phone: entry.phone.as_str().to_owned(),
            alias: entry.alias.clone(),
            added_at: to_micros(entry.added_at),
        };
        let existed: bool = db_run!(self, |conn| {
            let existing = pending_contacts::table
                .find((&row.owner_id, &row.phone))
                .select(pending_contacts::owner_id)
                .first::<String>(conn)
                .await
                .optional()
                .map_err(StoreError::from)?;
            diesel::insert_into(pending_contacts::table)
                .values(&row)
                .on_conflict((pending_contacts::owner_id, pending_contacts::phone))
                .do_update()
                .set(pending_contacts::alias.eq(excluded(pending_contacts::alias)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?;
            existing.is_some()
        });
        Ok(!existed)
    }

    async fn pending(&self, owner: UserId) -> DomainResult<Vec<PendingContact>> {
        let owner = owner.to_string();
        let rows: Vec<PendingRow> = db_run!(self, |conn| {
            pending_contacts::table
                .filter(pending_contacts::owner_id.eq(&owner))
                .order((pending_contacts::added_at.asc(), pending_contacts::phone.asc()))
                .select(PendingRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(crate::models::convert_all(rows)?)
    }

    async fn remove_pending(&self, owner: UserId, phone: &Phone) -> DomainResult<bool> {
        let key = (owner.to_string(), phone.as_str().to_owned());
        let removed = db_run!(self, |conn| {
            diesel::delete(pending_contacts::table.find((&key.0, &key.1)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(removed > 0)
    }

    async fn claim_pending(&self, phone: &Phone, user: UserId) -> DomainResult<()> {
        let (phone, user) = (phone.as_str().to_owned(), user.to_string());
        db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let rows: Vec<PendingRow> = pending_contacts::table
                    .filter(pending_contacts::phone.eq(&phone))
                    .select(PendingRow::as_select())
                    .load(tx)
                    .await?;
                for row in rows.into_iter().filter(|row| row.owner_id != user) {
                    let contact = ContactRow {
                        owner_id: row.owner_id,
                        contact_id: user.clone(),
                        alias: row.alias,
                        added_at: row.added_at,
                    };
                    diesel::insert_into(contacts::table).values(&contact).on_conflict_do_nothing().execute(tx).await?;
                }
                diesel::delete(pending_contacts::table.filter(pending_contacts::phone.eq(&phone))).execute(tx).await?;
                Ok::<_, diesel::result::Error>(())
            })
            .await
            .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn is_blocked(&self, blocker: UserId, blocked: UserId) -> DomainResult<bool> {
        let key = (blocker.to_string(), blocked.to_string());
        let found: Option<String> = db_run!(self, |conn| {
            blocks::table
                .find((&key.0, &key.1))
                .select(blocks::blocker_id)
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(found.is_some())
    }

    async fn blockers_among(&self, blocked: UserId, among: &[UserId]) -> DomainResult<Vec<UserId>> {
        if among.is_empty() {
            return Ok(Vec::new());
        }
        let blocked = blocked.to_string();
        let among: Vec<String> = among.iter().map(ToString::to_string).collect();
        let blockers: Vec<String> = db_run!(self, |conn| {
            blocks::table
                .filter(blocks::blocked_id.eq(&blocked))
                .filter(blocks::blocker_id.eq_any(&among))
                .select(blocks::blocker_id)
                .distinct()
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(blockers.iter().map(|id| crate::models::parse_id(id)).collect::<Result<_, _>>()?)
    }
}
