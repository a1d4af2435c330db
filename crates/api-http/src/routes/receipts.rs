use super::{parse_chat_id, parse_message_id};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{web, HttpResponse};
use chitchat_domain::receipt::{Receipt, ReceiptKind};
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub(crate) struct StatusBody {
    message_id: String,
    status: String,
}

/// `POST /api/messages/status {"message_id","status":"delivered"|"read"}` (seed):
/// the caller has that message and every earlier one.
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

#[derive(Deserialize)]
pub(crate) struct ReadBody {
    seq: i64,
}

/// `POST /api/chats/{id}/read {"seq"}`: the caller read everything up to `seq`.
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

#[derive(Serialize)]
struct ReceiptList {
    receipts: Vec<Receipt>,
}

/// `GET /api/messages/{id}/receipts`: who received and read it, and when (sender only).
pub(crate) async fn list(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let message = parse_message_id(&path)?;
    let receipts = services.receipts.receipts(caller.0, message).await?;
    Ok(HttpResponse::Ok().json(ReceiptList { receipts }))
}
