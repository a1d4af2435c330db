use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chitchat_domain::auth::DeviceSession;
use chitchat_domain::services::LoginRequest;
use chitchat_domain::user::User;
use chitchat_domain::ErrorCode;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct OtpRequest {
    pub(crate) phone: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct OtpResponse {
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/auth/otp`: sends a login code.
#[utoipa::path(
    tag = "auth",
    request_body = OtpRequest,
    responses(
        (status = 202, description = "A code is on its way", body = OtpResponse),
    ),
)]
#[post("/auth/otp")]
pub(crate) async fn request_code(services: web::Data<Services>, body: JsonBody<OtpRequest>) -> ApiResult<HttpResponse> {
    let expires_at = services.auth.request_code(&body.phone).await?;
    Ok(HttpResponse::Accepted().json(OtpResponse { expires_at }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RegisterRequest {
    pub(crate) phone: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) code: String,
}

/// `POST /api/auth/register`: checks the code, creates the user on first login,
/// and opens a device session.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "Logged in: a token for this device", body = chitchat_domain::auth::LoginOutcome),
        (status = 401, description = "Wrong, used or expired code", body = crate::error::ErrorBody),
    ),
)]
#[post("/auth/register")]
pub(crate) async fn register(
    services: web::Data<Services>,
    req: HttpRequest,
    body: JsonBody<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let device = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let outcome = services
        .auth
        .login(LoginRequest { phone: &body.phone, name: body.name.as_deref(), code: &body.code, device })
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[derive(Serialize, utoipa::ToSchema)]
struct VerifyResponse {
    user: User,
}

/// `GET /api/auth/verify`: who the token belongs to.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The token's user", body = VerifyResponse),
    ),
    security(("bearer" = [])),
)]
#[get("/auth/verify")]
pub(crate) async fn verify(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    let user = services.auth.me(caller.0).await?;
    Ok(HttpResponse::Ok().json(VerifyResponse { user }))
}

/// `POST /api/auth/logout`: revokes this device's token.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "This device is logged out")),
    security(("bearer" = [])),
)]
#[post("/auth/logout")]
pub(crate) async fn logout(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    services.auth.logout(caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
struct DeviceList {
    sessions: Vec<DeviceSession>,
}

/// `GET /api/auth/sessions`: the caller's logged-in devices.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller's devices", body = DeviceList),
    ),
    security(("bearer" = [])),
)]
#[get("/auth/sessions")]
pub(crate) async fn devices(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    let sessions = services.auth.devices(caller.0).await?;
    Ok(HttpResponse::Ok().json(DeviceList { sessions }))
}

/// `DELETE /api/auth/sessions/{id}`: logs that device out; its socket closes at once.
#[utoipa::path(
    tag = "auth",
    params(("id" = String, Path, format = Uuid, description = "Device session id")),
    responses(
        (status = 204, description = "That device is logged out and its socket closed"),
        (status = 404, description = "No such device of the caller", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/auth/sessions/{id}")]
pub(crate) async fn revoke_device(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let not_found = || chitchat_domain::DomainError::not_found(ErrorCode::SessionNotFound, "no such device session");
    let session_id = path.trim().parse().map_err(|_| not_found())?;
    services.auth.revoke_device(caller.0, session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
