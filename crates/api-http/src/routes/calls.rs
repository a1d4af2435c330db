//! What a browser needs to connect a call: the STUN and TURN servers.

use crate::auth::Authenticated;
use actix_web::{get, web, HttpResponse};
use chitchat_domain::ice::IceServers;
use chitchat_domain::Services;

/// `GET /api/calls/ice-servers`: the `iceServers` of `RTCPeerConnection`, with a
/// TURN login of the caller's own that works for `ttl` seconds.
#[utoipa::path(
    tag = "calls",
    responses((
        status = 200,
        description = "STUN, then TURN with a short-lived login; an empty list when the server has neither",
        body = IceServers,
    )),
    security(("bearer" = [])),
)]
#[get("/calls/ice-servers")]
pub(crate) async fn ice_servers(services: web::Data<Services>, caller: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(services.ice.servers(caller.0))
}
