//! Web Push: the server's public key, and the device's subscription.

use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::json_body::JsonBody;
use actix_web::{delete, get, post, web, HttpResponse};
use chitchat_domain::push::SubscriptionRequest;
use chitchat_domain::Services;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
struct PushKey {
    /// The VAPID public key (an uncompressed P-256 point, base64url): the
    /// `applicationServerKey` of `pushManager.subscribe`.
    public_key: String,
}

/// `GET /api/push/key`: the key browsers subscribe with.
#[utoipa::path(
    tag = "push",
    responses(
        (status = 200, description = "The server's VAPID public key", body = PushKey),
        (status = 404, description = "Push is off on this server (`push_disabled`)"),
    ),
    security(("bearer" = [])),
)]
#[get("/push/key")]
pub(crate) async fn key(services: web::Data<Services>, _caller: Authenticated) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(PushKey { public_key: services.push.public_key()?.to_owned() }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Subscribed {
    endpoint: String,
}

/// `POST /api/push/subscriptions {endpoint, keys: {p256dh, auth}}`: this device
/// is pushed from now on while it has no open WebSocket.
#[utoipa::path(
    tag = "push",
    request_body = SubscriptionRequest,
    responses(
        (status = 201, description = "The subscription is tied to this device", body = Subscribed),
        (status = 422, description = "Not a usable subscription (`invalid_push_subscription`)"),
        (status = 404, description = "Push is off on this server (`push_disabled`)"),
    ),
    security(("bearer" = [])),
)]
#[post("/push/subscriptions")]
pub(crate) async fn subscribe(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<SubscriptionRequest>,
) -> ApiResult<HttpResponse> {
    let subscription = services.push.subscribe(caller.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(Subscribed { endpoint: subscription.endpoint }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UnsubscribeBody {
    /// The subscription to remove; without it, all of this device's.
    pub(crate) endpoint: Option<String>,
}

/// `DELETE /api/push/subscriptions {endpoint?}`: this device is pushed no more.
#[utoipa::path(
    tag = "push",
    request_body = UnsubscribeBody,
    responses(
        (status = 204, description = "Removed (also when it was not there)"),
        (status = 404, description = "Push is off on this server (`push_disabled`)"),
    ),
    security(("bearer" = [])),
)]
#[delete("/push/subscriptions")]
pub(crate) async fn unsubscribe(
    services: web::Data<Services>,
    caller: Authenticated,
    body: JsonBody<UnsubscribeBody>,
) -> ApiResult<HttpResponse> {
    services.push.unsubscribe(caller.0, body.into_inner().endpoint).await?;
    Ok(HttpResponse::NoContent().finish())
}
