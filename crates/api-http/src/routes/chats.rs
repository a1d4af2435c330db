use super::parse_chat_id;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{web, HttpResponse};
use chitchat_domain::chat::{ChatKind, ChatView};
use chitchat_domain::services::NewChat;
use chitchat_domain::{DomainError, Services, UserId};
use serde::{Deserialize, Serialize};

/// User ids from a body; malformed ids are simply unknown users.
fn parse_user_ids(raw: &[String]) -> Result<Vec<UserId>, DomainError> {
    raw.iter()
        .map(|id| id.trim().parse().map_err(|_| DomainError::not_found("user_not_found", "no such user")))
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct CreateChat {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user_ids: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl CreateChat {
    fn try_into_domain(self) -> Result<NewChat, DomainError> {
        Ok(NewChat {
            kind: ChatKind::parse(&self.kind)?,
            user_ids: parse_user_ids(&self.user_ids)?,
            name: self.name,
            description: self.description,
        })
    }
}

/// `POST /api/chats`: 201 with a new chat (every group is new), 200 with the
/// existing direct chat.
pub(crate) async fn create(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<CreateChat>,
) -> ApiResult<HttpResponse> {
    let (view, created) = services.chats.create(caller.0, body.into_inner().try_into_domain()?).await?;
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

#[derive(Serialize)]
struct ChatList {
    chats: Vec<ChatView>,
}

/// `GET /api/chats`: the caller's chats, most recent first.
pub(crate) async fn list(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    let chats = services.chats.list(caller.0).await?;
    Ok(HttpResponse::Ok().json(ChatList { chats }))
}

/// `GET /api/chats/{id}`: one chat, for members and former members (404 otherwise).
pub(crate) async fn get(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path)?;
    Ok(HttpResponse::Ok().json(services.chats.get(caller.0, chat_id).await?))
}
