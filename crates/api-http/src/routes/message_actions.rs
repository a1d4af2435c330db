//! Edit, delete, forward and react to a message: `/api/messages/{id}/...`.

use super::{parse_chat_id, parse_message_id};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{web, HttpResponse};
use chitchat_domain::message::{DeleteScope, Message, MessageEdit};
use chitchat_domain::{ChatId, DomainError, Services};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub(crate) struct EditBody {
    content: String,
}

/// `PATCH /api/messages/{id} {"content"}`: the sender replaces the text within
/// `MESSAGE_EDIT_WINDOW`; 200 with the message as it now is.
pub(crate) async fn edit(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<EditBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    let message = services.messages.edit(caller.0, id, body.into_inner().content).await?;
    Ok(HttpResponse::Ok().json(message))
}

#[derive(Serialize)]
struct EditList {
    edits: Vec<MessageEdit>,
}

/// `GET /api/messages/{id}/edits`: the earlier versions, oldest first.
pub(crate) async fn edits(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    let edits = services.messages.edits(caller.0, id).await?;
    Ok(HttpResponse::Ok().json(EditList { edits }))
}

#[derive(Deserialize)]
pub(crate) struct DeleteQuery {
    #[serde(rename = "for", default)]
    scope: Option<String>,
}

/// `DELETE /api/messages/{id}?for=me|everyone`: 204.
pub(crate) async fn delete(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    query: web::Query<DeleteQuery>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    let scope = DeleteScope::parse(query.scope.as_deref().unwrap_or_default())?;
    services.messages.delete(caller.0, id, scope).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub(crate) struct ForwardBody {
    chat_ids: Vec<String>,
}

#[derive(Serialize)]
struct Forwarded {
    messages: Vec<Message>,
}

/// `POST /api/messages/{id}/forward {"chat_ids"}`: 201 with the copies, one per chat.
pub(crate) async fn forward(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<ForwardBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    let chat_ids = body.chat_ids.iter().map(|raw| parse_chat_id(raw)).collect::<Result<Vec<ChatId>, DomainError>>()?;
    let messages = services.messages.forward(caller.0, id, &chat_ids).await?;
    Ok(HttpResponse::Created().json(Forwarded { messages }))
}

#[derive(Deserialize)]
pub(crate) struct ReactionBody {
    emoji: String,
}

/// `PUT /api/messages/{id}/reactions {"emoji"}`: sets the caller's one reaction; 204.
pub(crate) async fn react(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<ReactionBody>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    services.messages.react(caller.0, id, body.into_inner().emoji).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/messages/{id}/reactions`: takes the caller's reaction back; 204.
pub(crate) async fn unreact(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    services.messages.unreact(caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
