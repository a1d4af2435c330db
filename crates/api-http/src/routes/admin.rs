//! The admins' endpoints (`/api/admin/...`, for the phones of `ADMIN_PHONES`) and
//! reports, which anyone logged in may file.

use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{get, post, web, HttpResponse};
use chitchat_domain::moderation::{AuditEntry, Report, ReportAction, ReportTarget, ServerFigures, UserSummary};
use chitchat_domain::services::{MAX_AUDIT_PAGE, MAX_LISTED_USERS};
use chitchat_domain::{DomainError, ErrorCode, ReportId, Services};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsersQuery {
    /// Part of a name or phone number; every user without it.
    #[serde(default)]
    search: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct UserList {
    users: Vec<UserSummary>,
}

/// `GET /api/admin/users?search=`: users by name or phone, oldest account first (at most 200).
#[utoipa::path(
    tag = "admin",
    params(UsersQuery),
    responses(
        (status = 200, description = "Matching users, with whether each is disabled", body = UserList),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/users")]
pub(crate) async fn users(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<UsersQuery>,
) -> ApiResult<HttpResponse> {
    services.moderation.admin(caller.0).await?;
    let users = services.moderation.list_users(query.search.as_deref(), MAX_LISTED_USERS).await?;
    Ok(HttpResponse::Ok().json(UserList { users }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Disabled {
    user: UserSummary,
    /// How many of their sessions ended.
    sessions_ended: usize,
}

/// `POST /api/admin/users/{id}/disable`: ends every session of the user at once and refuses their logins.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, format = Uuid, description = "User id")),
    responses(
        (status = 200, description = "Disabled", body = Disabled),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/users/{id}/disable")]
pub(crate) async fn disable(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = services.moderation.admin(caller.0).await?;
    let id = super::contacts::user_id(&path)?;
    let (user, sessions_ended) = services.moderation.disable(actor, id).await?;
    Ok(HttpResponse::Ok().json(Disabled { user: user.into(), sessions_ended }))
}

/// `POST /api/admin/users/{id}/enable`: lets a disabled user log in again.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, format = Uuid, description = "User id")),
    responses(
        (status = 200, description = "Enabled", body = UserSummary),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/users/{id}/enable")]
pub(crate) async fn enable(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let actor = services.moderation.admin(caller.0).await?;
    let id = super::contacts::user_id(&path)?;
    let user = services.moderation.enable(actor, id).await?;
    Ok(HttpResponse::Ok().json(UserSummary::from(user)))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReportList {
    reports: Vec<Report>,
}

/// `GET /api/admin/reports`: the open reports, oldest first.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Open reports, each with its copy of the reported message", body = ReportList),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/reports")]
pub(crate) async fn reports(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    services.moderation.admin(caller.0).await?;
    let reports = services.moderation.open_reports().await?;
    Ok(HttpResponse::Ok().json(ReportList { reports }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ActionBody {
    pub(crate) action: ReportAction,
}

/// `POST /api/admin/reports/{id}/actions {"action": "dismiss" | "delete_message" | "disable_sender"}`.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, format = Uuid, description = "Report id")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Done; the report is closed", body = Report),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
        (status = 404, description = "No such report", body = crate::error::ErrorBody),
        (status = 409, description = "Already closed", body = crate::error::ErrorBody),
        (status = 422, description = "`delete_message` on a report about a person", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/admin/reports/{id}/actions")]
pub(crate) async fn act(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<ActionBody>,
) -> ApiResult<HttpResponse> {
    let actor = services.moderation.admin(caller.0).await?;
    let id: ReportId =
        path.trim().parse().map_err(|_| DomainError::not_found(ErrorCode::ReportNotFound, "no such report"))?;
    let report = services.moderation.act_on_report(actor, id, body.action).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Entries older than this id (the last one of the previous page).
    before: Option<i64>,
    /// At most this many (default and maximum 200).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct AuditPage {
    entries: Vec<AuditEntry>,
}

/// `GET /api/admin/audit?before=&limit=`: the audit log, newest first.
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "Administrative actions, newest first", body = AuditPage),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/audit")]
pub(crate) async fn audit(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    services.moderation.admin(caller.0).await?;
    let entries = services.moderation.audit(query.before, query.limit.unwrap_or(MAX_AUDIT_PAGE)).await?;
    Ok(HttpResponse::Ok().json(AuditPage { entries }))
}

/// `GET /api/admin/stats`: users, messages a day, connected devices, storage used.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "The server's figures", body = ServerFigures),
        (status = 403, description = "Not an admin", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/admin/stats")]
pub(crate) async fn stats(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    services.moderation.admin(caller.0).await?;
    Ok(HttpResponse::Ok().json(services.moderation.figures().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReportBody {
    /// The message reported (one the caller can read); or `user_id`.
    message_id: Option<String>,
    /// The person reported; or `message_id`.
    user_id: Option<String>,
    /// Why, 1 to 500 characters.
    pub(crate) reason: String,
}

impl ReportBody {
    /// What the report is about: exactly one of the two ids.
    pub(crate) fn target(&self) -> Result<ReportTarget, DomainError> {
        match (&self.message_id, &self.user_id) {
            (Some(message), None) => Ok(ReportTarget::Message(super::parse_message_id(message)?)),
            (None, Some(user)) => Ok(ReportTarget::User(super::contacts::user_id(user)?)),
            _ => Err(DomainError::invalid(ErrorCode::InvalidReport, "name exactly one of message_id and user_id")),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Filed {
    id: ReportId,
}

/// `POST /api/reports {"message_id" | "user_id", "reason"}`: tells the admins.
#[utoipa::path(
    tag = "admin",
    request_body = ReportBody,
    responses(
        (status = 201, description = "Filed", body = Filed),
        (status = 404, description = "No such message the caller can read, or no such user", body = crate::error::ErrorBody),
        (status = 422, description = "Not exactly one target, or a bad reason", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/reports")]
pub(crate) async fn file(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<ReportBody>,
) -> ApiResult<HttpResponse> {
    let target = match (&body.message_id, &body.user_id) {
        (Some(message), None) => ReportTarget::Message(super::parse_message_id(message)?),
        (None, Some(user)) => ReportTarget::User(super::contacts::user_id(user)?),
        _ => {
            return Err(
                DomainError::invalid(ErrorCode::InvalidReport, "name exactly one of message_id and user_id").into()
            )
        }
    };
    let report = services.moderation.report(caller.0, target, &body.reason).await?;
    Ok(HttpResponse::Created().json(Filed { id: report.id }))
}
