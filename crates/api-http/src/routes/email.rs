//! The caller's email address, where login codes go once it is verified.

use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{delete, post, put, web, HttpResponse};
use chitchat_domain::user::UserEmail;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

/// The caller's address as `GET /api/users/me` shows it too.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EmailView {
    /// The address; null when none was given.
    email: Option<String>,
    /// Whether its owner typed the code mailed to it; only a verified address receives login codes.
    email_verified: bool,
}

impl EmailView {
    pub(crate) fn of(email: Option<&UserEmail>) -> Self {
        Self {
            email: email.map(|e| e.address.as_str().to_owned()),
            email_verified: email.is_some_and(UserEmail::is_verified),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailBody {
    pub(crate) email: String,
}

/// `PUT /api/users/me/email {"email"}`: gives the caller's address (replacing theirs)
/// and mails it a six-digit code; the address is unverified until the code comes back.
#[utoipa::path(
    tag = "users",
    request_body = EmailBody,
    responses(
        (status = 200, description = "The address, unverified (or unchanged when it was the verified one); its code is on its way", body = EmailView),
        (status = 403, description = "The server sends no email", body = crate::error::ErrorBody),
        (status = 422, description = "Not an email address", body = crate::error::ErrorBody),
        (status = 429, description = "A code was mailed moments ago", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[put("/users/me/email")]
pub(crate) async fn set(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<EmailBody>,
) -> ApiResult<HttpResponse> {
    let email = services.auth.set_email(caller.0, &body.email).await?;
    Ok(HttpResponse::Ok().json(EmailView::of(Some(&email))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailCodeBody {
    pub(crate) code: String,
}

/// `POST /api/users/me/email/verify {"code"}`: the code mailed to the address marks it verified.
#[utoipa::path(
    tag = "users",
    request_body = EmailCodeBody,
    responses(
        (status = 200, description = "The address is verified", body = EmailView),
        (status = 409, description = "No address waits for verification", body = crate::error::ErrorBody),
        (status = 422, description = "The code is wrong or expired", body = crate::error::ErrorBody),
        (status = 429, description = "Too many wrong codes: give the address again", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/users/me/email/verify")]
pub(crate) async fn verify(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<EmailCodeBody>,
) -> ApiResult<HttpResponse> {
    let email = services.auth.verify_email(caller.0, &body.code).await?;
    Ok(HttpResponse::Ok().json(EmailView::of(Some(&email))))
}

/// `DELETE /api/users/me/email`: forgets the caller's address; no more codes go there.
#[utoipa::path(
    tag = "users",
    responses((status = 204, description = "The caller has no address (any more)")),
    security(("bearer" = [])),
)]
#[delete("/users/me/email")]
pub(crate) async fn remove(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    services.auth.remove_email(caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
