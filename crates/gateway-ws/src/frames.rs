//! The frames this edge reads and writes (docs/protocol.md).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chitchat_domain::message::Message;
use chitchat_domain::{ChatId, DomainError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A frame from a client: the seed's envelope plus an optional `id` echoed in replies.
#[derive(Debug, Deserialize)]
pub(crate) struct ClientFrame {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub room_id: Option<String>,
    #[serde(default)]
    pub payload: Value,
}

/// The payload of a client's `message` frame.
#[derive(Debug, Deserialize)]
pub(crate) struct SendPayload {
    pub content: String,
    #[serde(default = "text")]
    pub content_type: String,
    #[serde(default)]
    pub client_msg_id: Option<String>,
}

fn text() -> String {
    "text".to_owned()
}

#[derive(Serialize)]
struct Ack<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    room_id: ChatId,
    payload: &'a Message,
}

#[derive(Serialize)]
struct ErrorFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    payload: ErrorPayload<'a>,
}

#[derive(Serialize)]
struct ErrorPayload<'a> {
    code: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct HttpErrorBody<'a> {
    error: ErrorPayload<'a>,
}

/// `{"type":"ack","id":…,"room_id":…,"payload":message}`: the message is durable.
pub(crate) fn ack(id: Option<&Value>, message: &Message) -> String {
    serde_json::to_string(&Ack { kind: "ack", id, room_id: message.chat_id, payload: message }).unwrap_or_default()
}

/// `{"type":"error","id":…,"payload":{"code","message"}}`.
pub(crate) fn error(id: Option<&Value>, code: &str, message: &str) -> String {
    serde_json::to_string(&ErrorFrame { kind: "error", id, payload: ErrorPayload { code, message } })
        .unwrap_or_default()
}

pub(crate) fn domain_error(id: Option<&Value>, error: &DomainError) -> String {
    if let DomainError::Unavailable(detail) = error {
        tracing::error!(detail = %detail, "websocket command failed");
    }
    self::error(id, error.code(), &error.public_message())
}

/// The JSON error body of a refused upgrade, in the REST API's shape.
pub(crate) fn http_error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(HttpErrorBody { error: ErrorPayload { code, message } })
}
