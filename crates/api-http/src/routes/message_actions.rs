//! Edit, delete, forward and react to a message: `/api/messages/{id}/...`.

use super::{parse_chat_id, parse_message_id};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chitchat_domain::message::{DeleteScope, Message, MessageEdit};
use chitchat_domain::{ChatId, DomainError, Services};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct EditBody {
    pub(crate) content: String,
}

/// `PATCH /api/messages/{id} {"content"}`: the sender replaces the text within
/// `MESSAGE_EDIT_WINDOW`; 200 with the message as it now is.
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The message as it now is", body = chitchat_domain::message::Message),
        (status = 403, description = "Not the sender, or the edit window has passed", body = crate::error::ErrorBody),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
        (status = 409, description = "The message was deleted", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[patch("/messages/{id}")]
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

#[derive(Serialize, utoipa::ToSchema)]
struct EditList {
    edits: Vec<MessageEdit>,
}

/// `GET /api/messages/{id}/edits`: the earlier versions, oldest first.
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    responses(
        (status = 200, description = "Earlier versions, oldest first", body = EditList),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/messages/{id}/edits")]
pub(crate) async fn edits(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    let edits = services.messages.edits(caller.0, id).await?;
    Ok(HttpResponse::Ok().json(EditList { edits }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteQuery {
    /// `me` (the default) or `everyone`.
    #[serde(rename = "for", default)]
    #[param(value_type = Option<chitchat_domain::message::DeleteScope>)]
    scope: Option<String>,
}

/// `DELETE /api/messages/{id}?for=me|everyone`: 204.
#[utoipa::path(
    tag = "messages",
    params(
        ("id" = String, Path, format = Uuid, description = "Message id"),
        DeleteQuery,
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to delete it for everyone", body = crate::error::ErrorBody),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
        (status = 409, description = "Already deleted", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/messages/{id}")]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ForwardBody {
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub(crate) chat_ids: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Forwarded {
    messages: Vec<Message>,
}

/// `POST /api/messages/{id}/forward {"chat_ids"}`: 201 with the copies, one per chat.
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    request_body = ForwardBody,
    responses(
        (status = 201, description = "The copies, one per chat", body = Forwarded),
        (status = 403, description = "Not allowed to send in a target chat", body = crate::error::ErrorBody),
        (status = 404, description = "No such message or chat visible to the caller", body = crate::error::ErrorBody),
        (status = 409, description = "The message was deleted", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/messages/{id}/forward")]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReactionBody {
    pub(crate) emoji: String,
}

/// `PUT /api/messages/{id}/reactions {"emoji"}`: sets the caller's one reaction; 204.
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    request_body = ReactionBody,
    responses(
        (status = 204, description = "The caller's reaction is set"),
        (status = 403, description = "Left the chat", body = crate::error::ErrorBody),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
        (status = 409, description = "The message was deleted", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[put("/messages/{id}/reactions")]
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
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, format = Uuid, description = "Message id")),
    responses(
        (status = 204, description = "The caller's reaction is gone"),
        (status = 403, description = "Left the chat", body = crate::error::ErrorBody),
        (status = 404, description = "No such message visible to the caller", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/messages/{id}/reactions")]
pub(crate) async fn unreact(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = parse_message_id(&path)?;
    services.messages.unreact(caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
