use super::parse_chat_id;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{get, post, web, HttpResponse};
use chitchat_domain::message::{Cursor, Message, Page, SendCommand, SendRequest};
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, Services};
use serde::{Deserialize, Serialize};

/// The body of `POST /api/messages`: the chat, and the fields every channel sends.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SendBody {
    #[schema(format = Uuid)]
    pub(crate) chat_id: String,
    #[serde(flatten)]
    pub(crate) message: SendRequest,
}

impl SendBody {
    /// The send this body asks for, checked by every rule that needs no storage.
    pub(crate) fn into_command(self) -> Result<SendCommand, DomainError> {
        let chat_id = parse_chat_id(&self.chat_id)?;
        self.message
            .into_command(chat_id)
            .map_err(|refused| refused.into_error(ErrorCode::InvalidBody, "invalid request body"))
    }
}

/// `POST /api/messages`: 201 with the stored message; 200 with the first one
/// when the `client_msg_id` was used before.
#[utoipa::path(
    tag = "messages",
    request_body = SendBody,
    responses(
        (status = 201, description = "Stored; the message with its seq", body = chitchat_domain::message::Message),
        (status = 200, description = "This client_msg_id was sent before: the stored message", body = chitchat_domain::message::Message),
        (status = 403, description = "Left the chat, or blocked", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat, or not a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/messages")]
pub(crate) async fn send(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<SendBody>,
) -> ApiResult<HttpResponse> {
    let appended = services.messages.send(caller.0, body.into_inner().into_command()?).await?;
    metrics::counter!("chitchat_messages_sent_total", "via" => "rest").increment(1);
    Ok(if appended.created {
        HttpResponse::Created().json(appended.message)
    } else {
        HttpResponse::Ok().json(appended.message)
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    #[param(format = Uuid)]
    chat_id: String,
    offset: Option<i64>,
    limit: Option<i64>,
    before_seq: Option<i64>,
    after_seq: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct HistoryResponse {
    messages: Vec<Message>,
}

/// `GET /api/messages?chat_id=&offset=&limit=&before_seq=&after_seq=`: newest
/// first (oldest first with `after_seq`), at most 100.
#[utoipa::path(
    tag = "messages",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of history", body = HistoryResponse),
        (status = 404, description = "No such chat, or never a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/messages")]
pub(crate) async fn history(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&query.chat_id)?;
    let cursor = Cursor { before_seq: query.before_seq, after_seq: query.after_seq };
    let page = Page::new(query.offset, query.limit)?.with_cursor(cursor)?;
    let messages = services.messages.history(caller.0, chat_id, page).await?;
    Ok(HttpResponse::Ok().json(HistoryResponse { messages }))
}
