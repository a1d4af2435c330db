use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chitchat_domain::contact::Contact;
use chitchat_domain::services::ContactRef;
use chitchat_domain::user::{LastSeenVisibility, Privacy, User};
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, Services, UserId};
use serde::{Deserialize, Serialize};

pub(crate) fn user_id(raw: &str) -> Result<UserId, DomainError> {
    raw.trim().parse().map_err(|_| DomainError::not_found(ErrorCode::UserNotFound, "no such user"))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    user: User,
    /// The caller's privacy settings (only the caller sees them).
    privacy: Privacy,
    /// The caller's notification settings (only the caller sees them).
    notifications: Notifications,
    /// Whether the caller is one of the server's admins (`ADMIN_PHONES`).
    is_admin: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Notifications {
    /// Whether pushes show the text of messages.
    previews: bool,
}

impl Me {
    fn of(user: User, is_admin: bool) -> Self {
        let privacy = Privacy { last_seen: user.last_seen_visibility };
        let notifications = Notifications { previews: user.notification_previews };
        Self { user, privacy, notifications, is_admin }
    }
}

/// `GET /api/users/me`: the caller's profile.
#[utoipa::path(
    tag = "users",
    responses((status = 200, description = "The caller's profile", body = Me)),
    security(("bearer" = [])),
)]
#[get("/users/me")]
pub(crate) async fn me(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    let user = services.auth.me(caller.0).await?;
    let is_admin = services.auth.is_admin(&user);
    Ok(HttpResponse::Ok().json(Me::of(user, is_admin)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ProfileBody {
    pub(crate) name: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) privacy: Option<PrivacyBody>,
    pub(crate) notifications: Option<NotificationsBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NotificationsBody {
    /// Whether pushes show the text of messages; when false they say "New message".
    pub(crate) previews: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PrivacyBody {
    /// Who sees when the caller was last online.
    #[schema(value_type = Option<LastSeenVisibility>)]
    pub(crate) last_seen: Option<String>,
}

/// `PATCH /api/users/me {"name"?, "status"?, "privacy"?: {"last_seen"}, "notifications"?: {"previews"}}`.
#[utoipa::path(
    tag = "users",
    request_body = ProfileBody,
    responses((status = 200, description = "The updated profile", body = Me)),
    security(("bearer" = [])),
)]
#[patch("/users/me")]
pub(crate) async fn update_me(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<ProfileBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    // Validate everything before changing anything.
    let last_seen = body.privacy.and_then(|p| p.last_seen);
    if let Some(raw) = &last_seen {
        LastSeenVisibility::parse(raw)?;
    }
    let mut user = services.contacts.update_profile(caller.0, body.name.as_deref(), body.status.as_deref()).await?;
    if let Some(previews) = body.notifications.and_then(|n| n.previews) {
        user = services.contacts.set_notification_previews(caller.0, previews).await?;
    }
    if let Some(raw) = &last_seen {
        let before = user.last_seen_visibility;
        user = services.contacts.set_last_seen_visibility(caller.0, raw).await?;
        if let Err(error) = services.presence.last_seen_setting_changed(caller.0, before).await {
            // The setting is stored; only devices showing the user online may lag.
            tracing::warn!(%error, user_id = %caller.0.user_id, "could not apply a new last_seen setting to presence");
        }
    }
    let is_admin = services.auth.is_admin(&user);
    Ok(HttpResponse::Ok().json(Me::of(user, is_admin)))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ContactList {
    contacts: Vec<Contact>,
}

/// `GET /api/contacts` (seed).
#[utoipa::path(
    tag = "contacts",
    responses(
        (status = 200, description = "The caller's contacts", body = ContactList),
    ),
    security(("bearer" = [])),
)]
#[get("/contacts")]
pub(crate) async fn list(services: web::Data<Services>, caller: Authenticated) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ContactList { contacts: services.contacts.list(caller.0).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AddBody {
    pub(crate) user_id: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) alias: Option<String>,
}

/// `POST /api/contacts {"user_id" | "phone", "alias"?}`: 201 new, 200 updated.
#[utoipa::path(
    tag = "contacts",
    request_body = AddBody,
    responses(
        (status = 201, description = "Added", body = chitchat_domain::contact::Contact),
        (status = 200, description = "Already a contact: alias updated", body = chitchat_domain::contact::Contact),
        (status = 404, description = "No user with that id", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/contacts")]
pub(crate) async fn add(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<AddBody>,
) -> ApiResult<HttpResponse> {
    let who = match (&body.user_id, &body.phone) {
        (Some(id), None) => ContactRef::Id(user_id(id)?),
        (None, Some(phone)) => ContactRef::Phone(phone),
        _ => {
            return Err(DomainError::invalid(ErrorCode::InvalidContact, "give exactly one of user_id and phone").into())
        }
    };
    let (contact, created) = services.contacts.add(caller.0, who, body.alias.as_deref()).await?;
    Ok(if created { HttpResponse::Created().json(contact) } else { HttpResponse::Ok().json(contact) })
}

/// `DELETE /api/contacts/{user_id}`.
#[utoipa::path(
    tag = "contacts",
    params(
        ("user_id" = String, Path, format = Uuid, description = "The contact's user id"),
    ),
    responses(
        (status = 204, description = "Removed (or was no contact)"),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/contacts/{user_id}")]
pub(crate) async fn remove(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    services.contacts.remove(caller.0, user_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RemoveByPhone {
    /// The saved number, written in any way login accepts.
    #[serde(default)]
    phone: String,
}

/// `DELETE /api/contacts?phone=`: removes a saved number, whether or not its
/// person is shown.
#[utoipa::path(
    tag = "contacts",
    params(RemoveByPhone),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not in the caller's contacts", body = crate::error::ErrorBody),
        (status = 422, description = "Not a phone number", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/contacts")]
pub(crate) async fn remove_phone(
    services: web::Data<Services>,
    caller: Authenticated,
    query: web::Query<RemoveByPhone>,
) -> ApiResult<HttpResponse> {
    services.contacts.remove_phone(caller.0, &query.phone).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/users/{id}/block`.
#[utoipa::path(
    tag = "contacts",
    params(("id" = String, Path, format = Uuid, description = "User to block")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[post("/users/{id}/block")]
pub(crate) async fn block(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    services.contacts.block(caller.0, user_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/users/{id}/block`.
#[utoipa::path(
    tag = "contacts",
    params(("id" = String, Path, format = Uuid, description = "User to unblock")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 404, description = "No such user", body = crate::error::ErrorBody),
    ),
    security(("bearer" = [])),
)]
#[delete("/users/{id}/block")]
pub(crate) async fn unblock(
    services: web::Data<Services>,
    caller: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    services.contacts.unblock(caller.0, user_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
