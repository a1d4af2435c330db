//! Web Push subscriptions and the outbox.

use crate::error::StoreError;
use crate::run::DbConn;
use crate::schema::{push_outbox, push_subscriptions, sessions};
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::ports::PushRepo;
use chitchat_domain::push::{ClaimedPush, OutboxEntry, PushSubscription, Urgency};
use chitchat_domain::{DomainResult, SessionId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use std::time::Duration;

const POSTGRES_CLAIM_SQL: &str = include_str!("../../sql/push_claim_postgres.sql");
const SQLITE_CLAIM_SQL: &str = include_str!("../../sql/push_claim_sqlite.sql");

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = push_subscriptions)]
struct SubscriptionRow {
    endpoint: String,
    session_id: String,
    user_id: String,
    p256dh: String,
    auth: String,
    created_at: i64,
}

impl SubscriptionRow {
    fn into_domain(self) -> Result<PushSubscription, StoreError> {
        Ok(PushSubscription {
            user_id: crate::models::parse_id(&self.user_id)?,
            session_id: crate::models::parse_id(&self.session_id)?,
            endpoint: self.endpoint,
            p256dh: self.p256dh,
            auth: self.auth,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = push_outbox, treat_none_as_default_value = false)]
struct NewOutboxRow<'a> {
    endpoint: &'a str,
    payload: &'a str,
    urgency: &'a str,
    topic: Option<&'a str>,
    created_at: i64,
    expires_at: i64,
    next_attempt_at: i64,
    attempts: i32,
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    endpoint: String,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Text)]
    urgency: String,
    #[diesel(sql_type = Nullable<Text>)]
    topic: Option<String>,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    expires_at: i64,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

#[async_trait]
impl PushRepo for Store {
    async fn put_subscription(&self, subscription: &PushSubscription, at: DateTime<Utc>) -> DomainResult<()> {
        let row = SubscriptionRow {
            endpoint: subscription.endpoint.clone(),
            session_id: subscription.session_id.to_string(),
            user_id: subscription.user_id.to_string(),
            p256dh: subscription.p256dh.clone(),
            auth: subscription.auth.clone(),
            created_at: to_micros(at),
        };
        db_run!(self, |conn| {
            diesel::insert_into(push_subscriptions::table)
                .values(&row)
                .on_conflict(push_subscriptions::endpoint)
                .do_update()
                .set((
                    push_subscriptions::session_id.eq(excluded(push_subscriptions::session_id)),
                    push_subscriptions::user_id.eq(excluded(push_subscriptions::user_id)),
                    push_subscriptions::p256dh.eq(excluded(push_subscriptions::p256dh)),
                    push_subscriptions::auth.eq(excluded(push_subscriptions::auth)),
                    push_subscriptions::created_at.eq(excluded(push_subscriptions::created_at)),
                ))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn delete_subscriptions(&self, session: SessionId, endpoint: Option<String>) -> DomainResult<u64> {
        let session = session.to_string();
        let deleted = db_run!(self, |conn| {
            let mine = push_subscriptions::table.filter(push_subscriptions::session_id.eq(&session));
            match &endpoint {
                Some(endpoint) => diesel::delete(mine.filter(push_subscriptions::endpoint.eq(endpoint)))
                    .execute(conn)
                    .await
                    .map_err(StoreError::from)?,
                None => diesel::delete(mine).execute(conn).await.map_err(StoreError::from)?,
            }
        });
        Ok(u64::try_from(deleted).unwrap_or_default())
    }

    async fn delete_endpoint(&self, endpoint: &str) -> DomainResult<()> {
        let endpoint = endpoint.to_owned();
        db_run!(self, |conn| {
            diesel::delete(push_subscriptions::table.find(&endpoint)).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn subscriptions_of(&self, users: &[UserId], now: DateTime<Utc>) -> DomainResult<Vec<PushSubscription>> {
        let (users, now): (Vec<String>, i64) = (users.iter().map(ToString::to_string).collect(), to_micros(now));
        let rows: Vec<SubscriptionRow> = db_run!(self, |conn| {
            push_subscriptions::table
                .inner_join(sessions::table.on(sessions::id.eq(push_subscriptions::session_id)))
                .filter(push_subscriptions::user_id.eq_any(&users))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .select(SubscriptionRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(rows.into_iter().map(SubscriptionRow::into_domain).collect::<Result<_, _>>()?)
    }

    async fn enqueue(&self, entries: &[OutboxEntry]) -> DomainResult<()> {
        let entries = entries.to_vec();
        db_run!(self, |conn| {
            let rows: Vec<NewOutboxRow<'_>> = entries
                .iter()
                .map(|e| NewOutboxRow {
                    endpoint: &e.endpoint,
                    payload: &e.payload,
                    urgency: e.urgency.as_str(),
                    topic: e.topic.as_deref(),
                    created_at: to_micros(e.created_at),
                    expires_at: to_micros(e.expires_at),
                    next_attempt_at: to_micros(e.created_at),
                    attempts: 0,
                })
                .collect();
            // One row per device of the event's audience: a handful.
            for row in &rows {
                diesel::insert_into(push_outbox::table).values(row).execute(conn).await.map_err(StoreError::from)?;
            }
        });
        Ok(())
    }

    async fn claim_due(&self, now: DateTime<Utc>, lease: Duration, limit: i64) -> DomainResult<Vec<ClaimedPush>> {
        let now_micros = to_micros(now);
        let lease_end = to_micros(now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX));
        let (claimed, subscriptions) = db_run!(self, |conn: DbConn| {
            let mut conn = conn;
            let claimed: Vec<ClaimedRow> = match &mut conn {
                DbConn::Postgres(conn) => {
                    diesel::sql_query(POSTGRES_CLAIM_SQL)
                        .bind::<BigInt, _>(now_micros)
                        .bind::<BigInt, _>(lease_end)
                        .bind::<BigInt, _>(limit)
                        .load(&mut **conn)
                        .await?
                }
                DbConn::Sqlite(conn) => {
                    diesel::sql_query(SQLITE_CLAIM_SQL)
                        .bind::<BigInt, _>(now_micros)
                        .bind::<BigInt, _>(lease_end)
                        .bind::<BigInt, _>(limit)
                        .load(&mut **conn)
                        .await?
                }
            };
            let endpoints: Vec<&str> = claimed.iter().map(|c| c.endpoint.as_str()).collect();
            let subscriptions: Vec<SubscriptionRow> = on_conn!(&mut conn, |c| {
                push_subscriptions::table
                    .filter(push_subscriptions::endpoint.eq_any(&endpoints))
                    .select(SubscriptionRow::as_select())
                    .load(c)
                    .await?
            });
            (claimed, subscriptions)
        });
        let mut pushes = Vec::with_capacity(claimed.len());
        for row in claimed {
            // A subscription deleted since the push was claimed took its pushes along.
            let Some(subscription) = subscriptions.iter().find(|s| s.endpoint == row.endpoint) else { continue };
            pushes.push(ClaimedPush {
                id: row.id,
                subscription: SubscriptionRow {
                    endpoint: subscription.endpoint.clone(),
                    session_id: subscription.session_id.clone(),
                    user_id: subscription.user_id.clone(),
                    p256dh: subscription.p256dh.clone(),
                    auth: subscription.auth.clone(),
                    created_at: subscription.created_at,
                }
                .into_domain()?,
                payload: row.payload,
                urgency: Urgency::parse(&row.urgency),
                topic: row.topic,
                created_at: from_micros(row.created_at)?,
                expires_at: from_micros(row.expires_at)?,
                attempts: u32::try_from(row.attempts).unwrap_or_default(),
            });
        }
        Ok(pushes)
    }

    async fn complete(&self, id: i64) -> DomainResult<()> {
        db_run!(self, |conn| {
            diesel::delete(push_outbox::table.find(id)).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn retry_at(&self, id: i64, at: DateTime<Utc>, attempts: u32) -> DomainResult<()> {
        let (at, attempts) = (to_micros(at), i32::try_from(attempts).unwrap_or(i32::MAX));
        db_run!(self, |conn| {
            diesel::update(push_outbox::table.find(id))
                .set((push_outbox::next_attempt_at.eq(at), push_outbox::attempts.eq(attempts)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }
}
