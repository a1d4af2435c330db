use super::parse_chat_id;
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chitchat_domain::chat::{ChatKind, ChatSettings, ChatView, Role};
use chitchat_domain::services::{GroupEdit, NewChat};
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, Services, UserId};
use serde::{Deserialize, Serialize};

/// User ids from a body; malformed ids are simply unknown users.
pub(crate) fn parse_user_ids(raw: &[String]) -> Result<Vec<UserId>, DomainError> {
    raw.iter()
        .map(|id| id.trim().parse().map_err(|_| DomainError::not_found(ErrorCode::UserNotFound, "no such user")))
        .collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateChat {
    #[serde(rename = "type")]
    #[schema(value_type = ChatKind)]
    pub(crate) kind: String,
    /// The other person of a direct chat, or a group's first members.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub(crate) user_ids: Vec<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

impl CreateChat {
    pub(crate) fn try_into_domain(self) -> Result<NewChat, DomainError> {
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
#[utoipa::path(
    tag = "chats",
    request_body = CreateChat,
    responses(
        (status = 201, description = "A new chat", body = chitchat_domain::chat::ChatView),
        (status = 200, description = "The existing direct chat with that person", body = chitchat_domain::chat::ChatView),
        (status = 403, description = "Blocked by that person", body = crate::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/chats")]
pub(crate) async fn create(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<CreateChat>,
) -> ApiResult<HttpResponse> {
    let (view, created) = services.chats.create(caller.0, body.into_inner().try_into_domain()?).await?;
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateChat {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// `PATCH /api/chats/{id}`: a group's name and description (admins).
#[utoipa::path(
    tag = "chats",
    params(("id" = String, Path, format = Uuid, description = "Chat id")),
    request_body = UpdateChat,
    responses(
        (status = 200, description = "The group as it now is", body = chitchat_domain::chat::ChatView),
        (status = 403, description = "Not an admin, or not a group", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat, or not a member", body = crate::error::ErrorBody),
        (status = 409, description = "Changed by someone else meanwhile; retry", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[patch("/chats/{id}")]
pub(crate) async fn update(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<UpdateChat>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path)?;
    let UpdateChat { name, description } = body.into_inner();
    let view = services.chats.update_group(caller.0, chat_id, GroupEdit { name, description }).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AddMembers {
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub(crate) user_ids: Vec<String>,
}

/// `POST /api/chats/{id}/members`: adds people to a group (admins).
#[utoipa::path(
    tag = "chats",
    params(("id" = String, Path, format = Uuid, description = "Chat id")),
    request_body = AddMembers,
    responses(
        (status = 200, description = "The group as it now is", body = chitchat_domain::chat::ChatView),
        (status = 403, description = "Not an admin, or not a group", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat or user", body = crate::error::ErrorBody),
        (status = 409, description = "Changed by someone else meanwhile; retry", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/chats/{id}/members")]
pub(crate) async fn add_members(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<AddMembers>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path)?;
    let user_ids = parse_user_ids(&body.user_ids)?;
    Ok(HttpResponse::Ok().json(services.chats.add_members(caller.0, chat_id, &user_ids).await?))
}

/// A member's id from a path; a malformed one is no member.
fn parse_member_id(raw: &str) -> Result<UserId, DomainError> {
    raw.trim()
        .parse()
        .map_err(|_| DomainError::not_found(ErrorCode::MemberNotFound, "that user is not a member of this group"))
}

/// `DELETE /api/chats/{id}/members/{user_id}`: removes a member (admins), or
/// leaves when it is the caller. Answers the chat as the caller now sees it.
#[utoipa::path(
    tag = "chats",
    params(
        ("id" = String, Path, format = Uuid, description = "Chat id"),
        ("user_id" = String, Path, format = Uuid, description = "Member's user id"),
    ),
    responses(
        (status = 200, description = "The chat as the caller now sees it", body = chitchat_domain::chat::ChatView),
        (status = 403, description = "Not an admin, or not a group", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat or member", body = crate::error::ErrorBody),
        (status = 409, description = "Changed by someone else meanwhile; retry", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/chats/{id}/members/{user_id}")]
pub(crate) async fn remove_member(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path.0)?;
    let user_id = parse_member_id(&path.1)?;
    Ok(HttpResponse::Ok().json(services.chats.remove_member(caller.0, chat_id, user_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SetRole {
    #[schema(value_type = chitchat_domain::chat::Role)]
    pub(crate) role: String,
}

/// `PATCH /api/chats/{id}/members/{user_id}`: makes a member admin or not (admins).
#[utoipa::path(
    tag = "chats",
    params(
        ("id" = String, Path, format = Uuid, description = "Chat id"),
        ("user_id" = String, Path, format = Uuid, description = "Member's user id"),
    ),
    request_body = SetRole,
    responses(
        (status = 200, description = "The group as it now is", body = chitchat_domain::chat::ChatView),
        (status = 403, description = "Not an admin, or not a group", body = crate::error::ErrorBody),
        (status = 404, description = "No such chat or member", body = crate::error::ErrorBody),
        (status = 409, description = "Changed by someone else meanwhile; retry", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[patch("/chats/{id}/members/{user_id}")]
pub(crate) async fn set_role(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<(String, String)>,
    body: JsonBody<SetRole>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path.0)?;
    let user_id = parse_member_id(&path.1)?;
    let role = Role::parse(&body.role)?;
    Ok(HttpResponse::Ok().json(services.chats.set_role(caller.0, chat_id, user_id, role).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ChatList {
    chats: Vec<ChatView>,
}

/// `GET /api/chats`: the caller's chats, most recent first.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    #[serde(default)]
    archived: bool,
}

/// `GET /api/chats[?archived=true]`: the chat list, or the archive.
#[utoipa::path(
    tag = "chats",
    params(ListQuery),
    responses(
        (status = 200, description = "The caller's chats, most recent activity first", body = ChatList),
    ),
    security(("bearer" = [])),
)]
#[get("/chats")]
pub(crate) async fn list(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let chats = services.chats.list(caller.0, query.archived).await?;
    Ok(HttpResponse::Ok().json(ChatList { chats }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SettingsBody {
    #[serde(default)]
    pub(crate) archived: bool,
    #[serde(default)]
    pub(crate) muted_until: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub(crate) pinned: bool,
}

/// `PUT /api/chats/{id}/settings {"archived","muted_until","pinned"}`: the caller's own.
#[utoipa::path(
    tag = "chats",
    params(("id" = String, Path, format = Uuid, description = "Chat id")),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The caller's settings for the chat, as stored", body = ChatSettings),
        (status = 404, description = "No such chat, or not a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[put("/chats/{id}/settings")]
pub(crate) async fn put_settings(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
    body: JsonBody<SettingsBody>,
) -> ApiResult<HttpResponse> {
    let chat = parse_chat_id(&path)?;
    let settings = ChatSettings { archived: body.archived, muted_until: body.muted_until, pinned: body.pinned };
    Ok(HttpResponse::Ok().json(services.chats.update_settings(caller.0, chat, settings).await?))
}

/// `GET /api/chats/{id}`: one chat, for members and former members (404 otherwise).
#[utoipa::path(
    tag = "chats",
    params(("id" = String, Path, format = Uuid, description = "Chat id")),
    responses(
        (status = 200, description = "The chat", body = chitchat_domain::chat::ChatView),
        (status = 404, description = "No such chat, or never a member", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[get("/chats/{id}")]
pub(crate) async fn get(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let chat_id = parse_chat_id(&path)?;
    Ok(HttpResponse::Ok().json(services.chats.get(caller.0, chat_id).await?))
}
