use super::{parse_chat_id, parse_message_id};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{get, post, web, HttpResponse};
use chitchat_domain::receipt::{Receipt, ReceiptKind};
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct StatusBody {
    #[schema(format = Uuid)]
    pub(crate) message_id: String,
    #[schema(value_type = chitchat_domain::receipt::ReceiptKind)]
    pub(crate) status: String,
}

/// `POST /api/messages/status {"message_id","status":"delivered"|"read"}` (seed):
/// the caller has that message and every earlier one.
#[utoipa::path(
    tag = "receipts",
    request_body = StatusBody,
    responses(
        (status = 204, description = "Recorded (a status never moves back)"),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/messages/status")]
pub(crate) async fn message_status(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<StatusBody>,
) -> ApiResult<HttpResponse> {
    let kind = ReceiptKind::parse(&body.status)?;
    let message = parse_message_id(&body.message_id)?;
    services.receipts.mark_message(caller.0, message, kind).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReadBody {
    pub(crate) seq: i64,
}

/// `POST /api/chats/{id}/read {"seq"}`: the caller read everything up to `seq`.
#[utoipa::path(
    tag = "receipts",
    params(("id" = String, Path, format = Uuid, description = "Chat id")),
    request_body = ReadBody,
    responses(
        (status = 204, description = "Recorded (a position never moves back)"),
        (status = 404, description = "No such chat, or not a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/chats/{id}/read")]
pub(crate) async fn read_up_to(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<ReadBody>,
) -> ApiResult<HttpResponse> {
    let chat = parse_chat_id(&path)?;
    services.receipts.mark(caller.0, chat, ReceiptKind::Read, body.seq).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReceiptList {
    receipts: Vec<Receipt>,
}

/// `GET /api/messages/{id}/receipts`: who received and read it, and when (sender only).
#[utoipa::path(
    tag = "receipts",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    responses(
        (status = 200, description = "Who received and read it, and when", body = ReceiptList),
        (status = 403, description = "Only the sender sees receipts", body = crate::error::ErrorBody),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/messages/{id}/receipts")]
pub(crate) async fn list(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let message = parse_message_id(&path)?;
    let receipts = services.receipts.receipts(caller.0, message).await?;
    Ok(HttpResponse::Ok().json(ReceiptList { receipts }))
}
