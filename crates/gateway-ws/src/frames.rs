//! The frames this edge reads and writes (docs/protocol.md).

use crate::connection::Resumed;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::message::Message;
use chitchat_domain::{ChatId, DomainError, ErrorCode, ErrorKind};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

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
    code: ErrorCode,
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
pub(crate) fn error(id: Option<&Value>, code: ErrorCode, message: &str) -> String {
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
pub(crate) fn http_error(kind: ErrorKind, code: ErrorCode, message: &str) -> HttpResponse {
    let status = StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(HttpErrorBody { error: ErrorPayload { code, message } })
}

#[derive(Serialize)]
struct ResumedFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    payload: ResumedPayload<'a>,
}

#[derive(Serialize)]
struct ResumedPayload<'a> {
    chats: &'a BTreeMap<ChatId, i64>,
    not_found: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a BTreeMap<ChatId, ChatSettings>>,
}

/// `{"type":"ack","id":…,"payload":{"chats":{id: event_seq},"not_found":[…],"settings":{id: settings}}}`:
/// the replay asked for by `resume` is complete; live events follow. `settings`
/// holds the caller's settings of the resumed chats that are not the defaults.
pub(crate) fn resumed(id: Option<&Value>, resumed: &Resumed) -> String {
    serde_json::to_string(&ResumedFrame {
        kind: "ack",
        id,
        payload: ResumedPayload {
            chats: &resumed.chats,
            not_found: &resumed.not_found,
            settings: resumed.settings.as_ref(),
        },
    })
    .unwrap_or_default()
}

#[derive(Serialize)]
struct ResyncFrame {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: ChatId,
    event_seq: i64,
    payload: ResyncPayload,
}

#[derive(Serialize)]
struct ResyncPayload {
    reason: &'static str,
}

/// `{"type":"resync","room_id":…,"event_seq":N}`: too much was missed to replay;
/// reload the chat over REST, then continue from `event_seq`.
pub(crate) fn resync(chat: ChatId, event_seq: i64) -> String {
    serde_json::to_string(&ResyncFrame {
        kind: "resync",
        room_id: chat,
        event_seq,
        payload: ResyncPayload { reason: "gap_too_large" },
    })
    .unwrap_or_default()
}

/// `{"type":"session_revoked"}`: sent just before the socket of a revoked session closes.
pub(crate) fn session_revoked() -> String {
    let payload = ErrorPayload { code: ErrorCode::SessionRevoked, message: "this device was logged out" };
    serde_json::to_string(&ErrorFrame { kind: "session_revoked", id: None, payload }).unwrap_or_default()
}

#[derive(Serialize)]
struct EmptyAck<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Option<&'a Value>,
}

/// `{"type":"ack","id":…}`: done, nothing to report.
pub(crate) fn ack_empty(id: Option<&Value>) -> String {
    serde_json::to_string(&EmptyAck { kind: "ack", id }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_frames_carry_the_code_as_its_string() {
        assert_eq!(
            session_revoked(),
            r#"{"type":"session_revoked","payload":{"code":"session_revoked","message":"this device was logged out"}}"#
        );
        assert_eq!(
            error(None, ErrorCode::UnknownType, "no"),
            r#"{"type":"error","payload":{"code":"unknown_type","message":"no"}}"#
        );
    }
}
