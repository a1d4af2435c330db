//! The WebSocket edge at `/ws`: authenticates the device, turns client frames
//! into domain commands, and streams the device's events to it.

mod client_command;
mod client_frame;
mod client_frames;
mod connection;
mod early;
mod frame_scanner;
mod frames;
mod ledger;
mod outbound_body;
mod outbox;
mod sockets;

pub use client_command::{CallAction, ClientCommand, ClientRequest};
pub use client_frame::{decode_client_frame, ClientFrame, ResumePayload, MAX_RESUME_CHATS};
pub use sockets::SocketCounts;

/// The default of `WS_MAX_MESSAGE_SIZE`: room for the largest frame a client has
/// reason to send, a `resume` over `MAX_RESUME_CHATS` chats (a message's content is
/// at most 64 KiB), with some to spare.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 512 * 1024;
/// The default of `WS_WRITE_BUFFER_SIZE`: live frames a device may have waiting.
pub const DEFAULT_DEVICE_QUEUE: usize = 1024;
/// The default of `WS_MAX_CONNECTIONS_PER_USER`.
pub const DEFAULT_MAX_SOCKETS_PER_USER: usize = 20;
/// The default of `WS_MAX_CONNECTIONS_PER_SESSION`: a browser with a few tabs open.
pub const DEFAULT_MAX_SOCKETS_PER_SESSION: usize = 10;

use actix_web::{web, HttpRequest, HttpResponse};
use chitchat_domain::Services;
use chitchat_domain::{ErrorCode, ErrorKind};
use client_frames::ClientFrames;
use outbound_body::OutboundBody;
use outbox::Outbox;
use serde::Deserialize;
use sockets::OverLimit;
use std::time::Duration;

/// Limits and timers of a socket, from configuration.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Largest client frame accepted (`WS_MAX_MESSAGE_SIZE`), refused on the
    /// length its header announces.
    pub max_frame_bytes: usize,
    /// Sockets one user may hold open on this instance (`WS_MAX_CONNECTIONS_PER_USER`).
    pub max_sockets_per_user: usize,
    /// Sockets one device session may hold open on this instance (`WS_MAX_CONNECTIONS_PER_SESSION`).
    pub max_sockets_per_session: usize,
    /// Bytes of client frames (sends, receipts) that may wait behind the one being
    /// handled; beyond, the socket is not read until they are done, so a client
    /// that floods is slowed by TCP rather than buffered (`WS_READ_BUFFER_SIZE`).
    /// One frame is always taken, whatever its size.
    pub read_buffer_bytes: usize,
    /// How often the server pings (`WS_PING_PERIOD`).
    pub ping_period: Duration,
    /// How long a socket may stay silent before it is closed (`WS_PONG_WAIT`).
    pub pong_wait: Duration,
    /// How long frames may wait for a client that does not read (`WS_WRITE_WAIT`);
    /// past it the client is told to reconnect and resume.
    pub write_wait: Duration,
    /// Live frames a device may have waiting to be written before it is cut off as
    /// too slow and told to resume (`WS_WRITE_BUFFER_SIZE`).
    pub device_queue: usize,
    /// How long after a user's last device leaves they are still shown online, so
    /// that a page reload does not flap (`PRESENCE_GRACE_PERIOD`).
    pub presence_grace: Duration,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_sockets_per_user: DEFAULT_MAX_SOCKETS_PER_USER,
            max_sockets_per_session: DEFAULT_MAX_SOCKETS_PER_SESSION,
            read_buffer_bytes: 1024,
            ping_period: Duration::from_secs(54),
            pong_wait: Duration::from_secs(60),
            write_wait: Duration::from_secs(10),
            device_queue: DEFAULT_DEVICE_QUEUE,
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

/// Registers `GET /ws`. Expects `web::Data<Services>`, `web::Data<GatewaySettings>`,
/// `web::Data<SocketCounts>` and `web::Data<Shutdown>`.
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
    sockets: web::Data<SocketCounts>,
    query: web::Query<ConnectQuery>,
) -> actix_web::Result<HttpResponse> {
    let Some(token) = query.token.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(frames::http_error(
            ErrorKind::Unauthorized,
            ErrorCode::MissingToken,
            "connect to /ws?token=<token>",
        ));
    };
    let (caller, session_expires_at) = match services.auth.authenticate_until(token).await {
        Ok(authenticated) => authenticated,
        Err(error) => {
            // A refused upgrade is 401 whatever the reason, except when the store did
            // not answer: then 503, the status of a busy server.
            let kind = match error {
                chitchat_domain::DomainError::Unavailable(_) => ErrorKind::Busy,
                _ => ErrorKind::Unauthorized,
            };
            return Ok(frames::http_error(kind, error.code(), &error.public_message()));
        }
    };
    let permit = match sockets.open(caller, settings.max_sockets_per_user, settings.max_sockets_per_session) {
        Ok(permit) => permit,
        Err(over) => {
            let (variable, limit) = match over {
                OverLimit::User => ("WS_MAX_CONNECTIONS_PER_USER", settings.max_sockets_per_user),
                OverLimit::Session => ("WS_MAX_CONNECTIONS_PER_SESSION", settings.max_sockets_per_session),
            };
            tracing::warn!(user = %caller.user_id, session = %caller.session_id, limit, variable, "socket refused: too many open");
            return Ok(frames::http_error(
                ErrorKind::TooManyRequests,
                ErrorCode::TooManyConnections,
                &format!("at most {limit} open connections; close one first"),
            ));
        }
    };
    let mut handshake = actix_http::ws::handshake(req.head())?;
    let device = chitchat_domain::DeviceId::new();
    let outbox = Outbox::new(device, caller.session_id, settings.device_queue, settings.write_wait);
    // The device's frames are written from its outbox, which the bus fills directly.
    let response = handshake.message_body(actix_web::body::BoxBody::new(actix_web::body::BodyStream::new(
        OutboundBody::new(outbox.clone()),
    )))?;
    let stream = ClientFrames::new(body.into_inner(), settings.max_frame_bytes);
    // Where the chats stand, read before subscribing: see `connection::run`.
    let start = match services.sync.positions(caller).await {
        Ok(positions) => Some(positions),
        Err(error) => {
            tracing::warn!(user = %caller.user_id, %error, "could not read where the chats stand");
            None
        }
    };
    let subscription = services.bus.subscribe(caller.user_id, outbox.clone());
    tracing::info!(user = %caller.user_id, session = %caller.session_id, "websocket connected");
    actix_web::rt::spawn(connection::run(
        connection::Connection {
            caller,
            device,
            services: services.into_inner(),
            settings: settings.get_ref().clone(),
            shutdown: shutdown.watch(),
            session_expires_at,
            _permit: permit,
        },
        outbox,
        stream,
        subscription,
        start,
        matches!(query.resume.as_deref(), Some("1" | "true")),
    ));
    Ok(response.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chitchat_domain::message::MAX_CONTENT_BYTES;

    #[test]
    fn the_default_frame_limit_fits_the_largest_frames_a_client_has_reason_to_send() {
        let chats: serde_json::Map<String, serde_json::Value> =
            (0..MAX_RESUME_CHATS).map(|_| (uuid::Uuid::new_v4().to_string(), i64::MAX.into())).collect();
        let resume = serde_json::json!({"id": "resume-1", "type": "resume", "payload": {"chats": chats}}).to_string();
        // Content that JSON escapes to twice its size.
        let content = "\"".repeat(MAX_CONTENT_BYTES);
        let message = serde_json::json!({"id": "m", "type": "message", "room_id": uuid::Uuid::new_v4(),
            "payload": {"content": content, "content_type": "text", "client_msg_id": "x".repeat(128)}})
        .to_string();
        for frame in [resume, message] {
            assert!(decode_client_frame(&frame).is_ok());
            assert!(frame.len() < DEFAULT_MAX_FRAME_BYTES, "{} bytes", frame.len());
        }
    }
}
