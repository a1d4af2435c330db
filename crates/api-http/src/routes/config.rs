use actix_web::{get, web, HttpResponse};
use chitchat_domain::Services;
use serde::Serialize;

/// The limits this server enforces that a client shows before it asks: when Edit
/// and Delete for everyone are still offered, and how long a search may be.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ClientConfig {
    /// The sender may edit a message this long after sending it (`MESSAGE_EDIT_WINDOW`).
    edit_window_seconds: i64,
    /// The sender may delete a message for everyone this long after sending it
    /// (`MESSAGE_DELETE_WINDOW`); group admins at any time.
    delete_window_seconds: i64,
    /// Longest `q` of `GET /api/messages/search`, in characters.
    message_search_max_chars: usize,
    /// Longest `q` of `GET /api/users/search`, in characters.
    people_search_max_chars: usize,
    /// Whether login codes may come by email (the server has `SMTP_URL`), so that
    /// a client offers to add an address.
    login_codes_by_email: bool,
    /// Whether calls may be relayed through a TURN server (`TURN_URLS`), so that
    /// they also connect between networks that allow no direct path.
    turn: bool,
}

/// `GET /api/config`: no token needed, so a client can read it before login.
#[utoipa::path(
    tag = "config",
    responses((status = 200, description = "The limits the server enforces", body = ClientConfig)),
)]
#[get("/config")]
pub(crate) async fn client_config(services: web::Data<Services>) -> HttpResponse {
    let policy = services.messages.policy();
    HttpResponse::Ok().json(ClientConfig {
        edit_window_seconds: policy.edit_window.num_seconds(),
        delete_window_seconds: policy.delete_window.num_seconds(),
        message_search_max_chars: chitchat_domain::search::MAX_QUERY_CHARS,
        people_search_max_chars: chitchat_domain::services::MAX_PEOPLE_QUERY_CHARS,
        login_codes_by_email: services.auth.sends_email(),
        turn: services.ice.has_turn(),
    })
}
