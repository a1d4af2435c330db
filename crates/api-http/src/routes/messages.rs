use super::parse_chat_id;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{web, HttpResponse};
use chitchat_domain::message::{Cursor, Message, Page};
use chitchat_domain::services::SendMessage;
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, Services};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SendBody {
    #[schema(format = Uuid)]
    pub(crate) chat_id: String,
    /// Required for text; the optional caption of a file message.
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default = "text")]
    pub(crate) content_type: String,
    #[serde(default)]
    pub(crate) client_msg_id: Option<String>,
    /// A message of the same chat that this one answers.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub(crate) reply_to_id: Option<String>,
    /// The uploads an image, video, audio or document message carries.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub(crate) attachment_ids: Vec<String>,
}

fn text() -> String {
    "text".to_owned()
}

impl SendBody {
    pub(crate) fn try_into_domain(self) -> Result<SendMessage, DomainError> {
        let content = match (self.content, self.content_type.as_str()) {
            (Some(content), _) => content,
            (None, "text") => {
                return Err(DomainError::invalid(
                    ErrorCode::InvalidBody,
                    "invalid request body: missing field `content`",
                ))
            }
            (None, _) => String::new(),
        };
        Ok(SendMessage {
            chat_id: parse_chat_id(&self.chat_id)?,
            content,
            content_type: self.content_type,
            client_msg_id: self.client_msg_id,
            reply_to_id: self.reply_to_id,
            attachment_ids: self.attachment_ids,
        })
    }
}

/// `POST /api/messages`: 201 with the stored message; 200 with the first one
/// when the `client_msg_id` was used before.
#[utoipa::path(
    post,
    path = "/api/messages",
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
pub(crate) async fn send(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<SendBody>,
) -> ApiResult<HttpResponse> {
    let appended = services.messages.send(caller.0, body.into_inner().try_into_domain()?).await?;
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
    get,
    path = "/api/messages",
    tag = "messages",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of history", body = HistoryResponse),
        (status = 404, description = "No such chat, or never a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
