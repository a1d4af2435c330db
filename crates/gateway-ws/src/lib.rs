//! The WebSocket edge at `/ws`: authenticates the device, turns client frames
//! into domain commands, and streams the device's events to it.

mod client_frame;
mod connection;
mod early;
mod frames;

pub use client_frame::{decode_client_frame, ClientFrame, ResumePayload, SendPayload, MAX_RESUME_CHATS};

use actix_web::{web, HttpRequest, HttpResponse};
use chitchat_domain::Services;
use serde::Deserialize;
use std::time::Duration;

/// Limits and timers of a socket, from configuration.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Largest client frame accepted (`WS_MAX_MESSAGE_SIZE`).
    pub max_frame_bytes: usize,
    /// Bytes of client frames (sends, receipts) that may wait behind the one being
    /// handled; beyond, the socket is not read until they are done, so a client
    /// that floods is slowed by TCP rather than buffered (`WS_READ_BUFFER_SIZE`).
    /// One frame is always taken, whatever its size.
    pub read_buffer_bytes: usize,
    /// How often the server pings (`WS_PING_PERIOD`).
    pub ping_period: Duration,
    /// How long a socket may stay silent before it is closed (`WS_PONG_WAIT`).
    pub pong_wait: Duration,
    /// How long one send may wait for a client that does not read (`WS_WRITE_WAIT`);
    /// past it the client is told to reconnect and resume.
    pub write_wait: Duration,
    /// How long after a user's last device leaves they are still shown online, so
    /// that a page reload does not flap (`PRESENCE_GRACE_PERIOD`).
    pub presence_grace: Duration,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            max_frame_bytes: 10 * 1024 * 1024,
            read_buffer_bytes: 1024,
            ping_period: Duration::from_secs(54),
            pong_wait: Duration::from_secs(60),
            write_wait: Duration::from_secs(10),
            presence_grace: Duration::from_secs(5),
        }
    }
}

/// Tells every open socket that this instance is going away, so that clients
/// reconnect (to another instance) and resume. Cheap to clone; one per server.
#[derive(Clone)]
pub struct Shutdown {
    sender: tokio::sync::watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self { sender: tokio::sync::watch::channel(false).0 }
    }
}

impl Shutdown {
    /// Closes every socket of this instance with "service restart".
    pub fn begin(&self) {
        self.sender.send_replace(true);
    }

    pub(crate) fn watch(&self) -> tokio::sync::watch::Receiver<bool> {
        self.sender.subscribe()
    }
}

/// Registers `GET /ws`. Expects `web::Data<Services>`, `web::Data<GatewaySettings>`
/// and `web::Data<Shutdown>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(connect));
}

#[derive(Deserialize)]
struct ConnectQuery {
    #[serde(default)]
    token: Option<String>,
    /// `resume=1`: the client's first frame will be `resume`; hold live events until it is answered.
    #[serde(default)]
    resume: Option<String>,
}

async fn connect(
    req: HttpRequest,
    body: web::Payload,
    services: web::Data<Services>,
    settings: web::Data<GatewaySettings>,
    shutdown: web::Data<Shutdown>,
    query: web::Query<ConnectQuery>,
) -> actix_web::Result<HttpResponse> {
    let Some(token) = query.token.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(frames::http_error(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "missing_token",
            "connect to /ws?token=<token>",
        ));
    };
    let caller = match services.auth.authenticate(token).await {
        Ok(caller) => caller,
        Err(error) => {
            let status = match error {
                chitchat_domain::DomainError::Unavailable(_) => actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                _ => actix_web::http::StatusCode::UNAUTHORIZED,
            };
            return Ok(frames::http_error(status, error.code(), &error.public_message()));
        }
    };
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    // The limit holds for a whole message, also when it comes in fragments each under it.
    let stream = stream
        .max_frame_size(settings.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(settings.max_frame_bytes);
    let subscription = services.bus.subscribe(caller.user_id);
    tracing::info!(user = %caller.user_id, session = %caller.session_id, "websocket connected");
    actix_web::rt::spawn(connection::run(
        connection::Connection {
            caller,
            services: services.into_inner(),
            settings: settings.get_ref().clone(),
            shutdown: shutdown.watch(),
        },
        session,
        stream,
        subscription,
        matches!(query.resume.as_deref(), Some("1" | "true")),
    ));
    Ok(response)
}
