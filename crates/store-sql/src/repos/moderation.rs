use super::lower;
use super::users::contains_pattern;
use crate::error::StoreError;
use crate::models::{convert_all, parse_id, AttachmentRow, SessionRow, UserRow};
use crate::schema::{attachments, audit_log, contacts, messages, pending_contacts, reports, sessions, users};
use crate::store::Store;
use crate::time::{from_micros, to_micros};
use async_trait::async_trait;
use chitchat_domain::attachment::Attachment;
use chitchat_domain::auth::Session;
use chitchat_domain::moderation::{AuditEntry, Report, ReportStatus, ReportedMessage, StoredFigures};
use chitchat_domain::ports::ModerationRepo;
use chitchat_domain::user::User;
use chitchat_domain::{DomainResult, ReportId, SessionId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: String,
    reporter_id: String,
    subject_id: String,
    message_id: Option<String>,
    message_copy: Option<String>,
    reason: String,
    created_at: i64,
    status: String,
    resolved_at: Option<i64>,
    resolved_by: Option<String>,
}

impl ReportRow {
    fn of(report: &Report) -> Result<Self, StoreError> {
        Ok(Self {
            id: report.id.to_string(),
            reporter_id: report.reporter_id.to_string(),
            subject_id: report.subject_id.to_string(),
            message_id: report.message.as_ref().map(|m| m.id.to_string()),
            message_copy: report.message.as_ref().map(serde_json::to_string).transpose()?,
            reason: report.reason.clone(),
            created_at: to_micros(report.created_at),
            status: report.status.as_str().to_owned(),
            resolved_at: report.resolved_at.map(to_micros),
            resolved_by: report.resolved_by.clone(),
        })
    }
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self, StoreError> {
        let message: Option<ReportedMessage> = r
            .message_copy
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("reports.message_copy: {e}")))?;
        Ok(Self {
            id: parse_id(&r.id)?,
            reporter_id: parse_id(&r.reporter_id)?,
            subject_id: parse_id(&r.subject_id)?,
            message,
            reason: r.reason,
            created_at: from_micros(r.created_at)?,
            status: ReportStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("reports.status: {}", r.status)))?,
            resolved_at: r.resolved_at.map(from_micros).transpose()?,
            resolved_by: r.resolved_by,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    details: String,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow {
    at: i64,
    actor: String,
    action: String,
    target: String,
    details: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            at: from_micros(r.at)?,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
        })
    }
}

/// Bytes of originals and thumbnails, summed the same way on both backends.
const STORED_BYTES: &str = "CAST(COALESCE(SUM(size), 0) + COALESCE(SUM(thumbnail_size), 0) AS BIGINT)";

#[async_trait]
impl ModerationRepo for Store {
    async fn list_users(&self, search: Option<String>, limit: i64) -> DomainResult<Vec<User>> {
        let pattern = search.map(|s| contains_pattern(&s.to_lowercase()));
        let rows: Vec<UserRow> = db_run!(self, |conn| {
            let mut query = users::table.into_boxed();
            if let Some(pattern) = &pattern {
                query = query.filter(
                    lower(users::name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::phone.like(pattern.clone()).escape('\\')),
                );
            }
            query
                .order((users::created_at.asc(), users::id.asc()))
                .limit(limit)
                .select(UserRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn set_disabled(&self, user: UserId, at: Option<DateTime<Utc>>) -> DomainResult<Option<User>> {
        let (id, at) = (user.to_string(), at.map(to_micros));
        let row: Option<UserRow> = db_run!(self, |conn| {
            match at {
                // Disabling twice keeps the first time.
                Some(at) => {
                    diesel::update(users::table.find(&id).filter(users::disabled_at.is_null()))
                        .set(users::disabled_at.eq(Some(at)))
                        .execute(conn)
                        .await
                        .map_err(StoreError::from)?;
                }
                None => {
                    diesel::update(users::table.find(&id))
                        .set(users::disabled_at.eq(None::<i64>))
                        .execute(conn)
                        .await
                        .map_err(StoreError::from)?;
                }
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

    async fn erase_user(
        &self,
        user: UserId,
        name: String,
        placeholder_phone: String,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<User>> {
        let (id, at) = (user.to_string(), to_micros(at));
        let row: Option<UserRow> = db_run!(self, |conn| {
            conn.transaction(async |tx| {
                let changed = diesel::update(users::table.find(&id))
                    .set((users::name.eq(&name), users::status.eq(""), users::phone.eq(&placeholder_phone)))
                    .execute(tx)
                    .await?;
                if changed == 0 {
                    return Ok(None);
                }
                diesel::update(users::table.find(&id).filter(users::disabled_at.is_null()))
                    .set(users::disabled_at.eq(Some(at)))
                    .execute(tx)
                    .await?;
                diesel::delete(contacts::table.filter(contacts::owner_id.eq(&id).or(contacts::contact_id.eq(&id))))
                    .execute(tx)
                    .await?;
                diesel::delete(pending_contacts::table.filter(pending_contacts::owner_id.eq(&id))).execute(tx).await?;
                users::table.find(&id).select(UserRow::as_select()).first(tx).await.optional()
            })
            .await
            .map_err(StoreError::from)?
        });
        Ok(row.map(User::try_from).transpose()?)
    }

    async fn session_with_owner_state(&self, session: SessionId) -> DomainResult<Option<(Session, bool)>> {
        let id = session.to_string();
        let row: Option<(SessionRow, Option<i64>)> = db_run!(self, |conn| {
            sessions::table
                .inner_join(users::table)
                .filter(sessions::id.eq(&id))
                .select((SessionRow::as_select(), users::disabled_at))
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(|(session, disabled)| Session::try_from(session).map(|s| (s, disabled.is_some()))).transpose()?)
    }

    async fn active_session_ids(&self, now: DateTime<Utc>) -> DomainResult<Vec<SessionId>> {
        let now = to_micros(now);
        let ids: Vec<String> = db_run!(self, |conn| {
            sessions::table
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now))
                .select(sessions::id)
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(ids.iter().map(|id| parse_id(id)).collect::<Result<_, _>>()?)
    }

    async fn uploads_of(&self, user: UserId) -> DomainResult<Vec<Attachment>> {
        let user = user.to_string();
        let rows: Vec<AttachmentRow> = db_run!(self, |conn| {
            attachments::table
                .filter(attachments::uploader_id.eq(&user))
                .order((attachments::created_at.asc(), attachments::id.asc()))
                .select(AttachmentRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn figures(&self, days: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> DomainResult<StoredFigures> {
        let days: Vec<(i64, i64)> = days.into_iter().map(|(a, b)| (to_micros(a), to_micros(b))).collect();
        let figures = db_run!(self, |conn| {
            let users: i64 = users::table.count().get_result(conn).await.map_err(StoreError::from)?;
            let disabled_users: i64 = users::table
                .filter(users::disabled_at.is_not_null())
                .count()
                .get_result(conn)
                .await
                .map_err(StoreError::from)?;
            let attachments: i64 = attachments::table.count().get_result(conn).await.map_err(StoreError::from)?;
            let attachment_bytes: i64 = attachments::table
                .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(STORED_BYTES))
                .get_result(conn)
                .await
                .map_err(StoreError::from)?;
            let mut messages_per_day = Vec::with_capacity(days.len());
            for (start, end) in &days {
                let count: i64 = messages::table
                    .filter(messages::created_at.ge(*start))
                    .filter(messages::created_at.lt(*end))
                    .filter(messages::content_type.ne("system"))
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(StoreError::from)?;
                messages_per_day.push(count);
            }
            StoredFigures { users, disabled_users, messages_per_day, attachment_bytes, attachments }
        });
        Ok(figures)
    }

    async fn insert_report(&self, report: &Report) -> DomainResult<()> {
        let row = ReportRow::of(report)?;
        db_run!(self, |conn| {
            diesel::insert_into(reports::table).values(&row).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn get_report(&self, id: ReportId) -> DomainResult<Option<Report>> {
        let id = id.to_string();
        let row: Option<ReportRow> = db_run!(self, |conn| {
            reports::table
                .find(&id)
                .select(ReportRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(Report::try_from).transpose()?)
    }

    async fn open_reports(&self, limit: i64) -> DomainResult<Vec<Report>> {
        let rows: Vec<ReportRow> = db_run!(self, |conn| {
            reports::table
                .filter(reports::status.eq(ReportStatus::Open.as_str()))
                .order((reports::created_at.asc(), reports::id.asc()))
                .limit(limit)
                .select(ReportRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }

    async fn close_report(
        &self,
        id: ReportId,
        status: ReportStatus,
        by: String,
        at: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let (id, at) = (id.to_string(), to_micros(at));
        let changed = db_run!(self, |conn| {
            diesel::update(reports::table.find(&id).filter(reports::status.eq(ReportStatus::Open.as_str())))
                .set((
                    reports::status.eq(status.as_str()),
                    reports::resolved_at.eq(Some(at)),
                    reports::resolved_by.eq(Some(&by)),
                ))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(changed == 1)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> DomainResult<()> {
        let row = NewAuditRow {
            at: to_micros(entry.at),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
            details: entry.details.clone(),
        };
        db_run!(self, |conn| {
            diesel::insert_into(audit_log::table).values(&row).execute(conn).await.map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn audit(&self, before: Option<i64>, limit: i64) -> DomainResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = db_run!(self, |conn| {
            let mut query = audit_log::table.into_boxed();
            if let Some(before) = before {
                query = query.filter(audit_log::id.lt(before));
            }
            query
                .order(audit_log::id.desc())
                .limit(limit)
                .select(AuditRow::as_select())
                .load(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(convert_all(rows)?)
    }
}
