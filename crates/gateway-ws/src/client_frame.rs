//! Decoding and checking a client's frame (docs/protocol.md): everything that
//! can be refused before any storage is touched. Total over any text a client
//! sends, which the fuzz targets and the corpus test hold it to.

use chitchat_domain::call::{call_not_found, CallMedia, RelayBody, RelayKind, RelaySignal};
use chitchat_domain::message::{SendCommand, SendRequest};
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::ErrorCode;
use chitchat_domain::{CallId, ChatId, DomainError, UserId};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Most chats one `resume` may name; bounds the work one frame can ask for.
pub const MAX_RESUME_CHATS: usize = 5000;

/// A frame from a client: the seed's envelope plus an optional `id` echoed in replies.
#[derive(Debug, Deserialize)]
pub struct ClientFrame {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(rename = "type")]
    pub kind: String,
    /// Any JSON: a `room_id` that is not a string names no chat (`chat_not_found`,
    /// answered with the frame's `id`), rather than making the frame unreadable.
    #[serde(default, deserialize_with = "room_id")]
    pub room_id: Option<String>,
    #[serde(default)]
    pub payload: Value,
}

/// A `room_id` as given: a string as is, anything else as its JSON text (which
/// parses as no chat id).
fn room_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(id) => Some(id),
        other => Some(other.to_string()),
    })
}

/// Reads a text frame; anything but a JSON object with a string `type` is refused.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, serde_json::Error> {
    // serde would also read a struct from an array (`[id, "type", …]`).
    if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
        return Err(serde::de::Error::custom("a frame is a JSON object"));
    }
    serde_json::from_str(text)
}

impl ClientFrame {
    /// The chat named by `room_id`; a missing or malformed id is an unknown chat.
    pub fn chat(&self) -> Result<ChatId, DomainError> {
        self.room_id.as_deref().and_then(|r| r.trim().parse().ok()).ok_or_else(DomainError::chat_not_found)
    }

    /// The send a `message` frame asks for in `chat_id` (its `room_id`), checked
    /// by every rule that needs no storage.
    pub fn send_command(&self, chat_id: ChatId) -> Result<SendCommand, DomainError> {
        const WHAT: &str = "invalid message payload";
        let payload = SendRequest::deserialize(&self.payload)
            .map_err(|e| DomainError::invalid(ErrorCode::InvalidPayload, format!("{WHAT}: {e}")))?;
        payload.into_command(chat_id).map_err(|refused| refused.into_error(ErrorCode::InvalidPayload, WHAT))
    }

    /// The receipt a `status_update` frame reports, and up to which `seq`.
    pub fn receipt(&self) -> Result<(ReceiptKind, i64), DomainError> {
        let payload = ReceiptPayload::deserialize(&self.payload).map_err(|e| {
            DomainError::invalid(ErrorCode::InvalidPayload, format!("invalid status_update payload: {e}"))
        })?;
        Ok((ReceiptKind::parse(&payload.status)?, payload.seq))
    }

    /// The positions a `resume` frame reports, at most [`MAX_RESUME_CHATS`] of them.
    pub fn resume_payload(&self) -> Result<ResumePayload, DomainError> {
        let payload = ResumePayload::deserialize(&self.payload)
            .map_err(|e| DomainError::invalid(ErrorCode::InvalidPayload, format!("invalid resume payload: {e}")))?;
        if payload.chats.len() > MAX_RESUME_CHATS {
            return Err(DomainError::invalid(
                ErrorCode::TooManyChats,
                format!("resume at most {MAX_RESUME_CHATS} chats at once"),
            ));
        }
        Ok(payload)
    }

    /// The call a call frame names (`payload.call_id`); a missing or malformed
    /// id is an unknown call.
    pub fn call_id(&self) -> Result<CallId, DomainError> {
        self.payload
            .get("call_id")
            .and_then(Value::as_str)
            .and_then(|id| id.trim().parse().ok())
            .ok_or_else(call_not_found)
    }

    /// What a `call_invite` carries (`payload.media`).
    pub fn call_media(&self) -> Result<CallMedia, DomainError> {
        match self.payload.get("media") {
            Some(Value::String(media)) => CallMedia::parse(media),
            _ => Err(DomainError::invalid(ErrorCode::InvalidPayload, "media must be \"voice\" or \"video\"")),
        }
    }

    /// The signal a `call_offer`, `call_answer` or `call_ice` frame passes on,
    /// within its size limit.
    pub fn relay_signal(&self, kind: RelayKind) -> Result<RelaySignal, DomainError> {
        let call = self.call_id()?;
        let invalid = |message: &str| DomainError::invalid(ErrorCode::InvalidPayload, message);
        let to_user: UserId = self
            .payload
            .get("to_user_id")
            .and_then(Value::as_str)
            .and_then(|id| id.trim().parse().ok())
            .ok_or_else(|| invalid("to_user_id must be a user id"))?;
        let body = match kind {
            RelayKind::Offer | RelayKind::Answer => match self.payload.get("sdp") {
                Some(Value::String(sdp)) => RelayBody::Sdp(sdp.clone()),
                _ => return Err(invalid("sdp must be a string")),
            },
            // A missing candidate, like null, marks the end of the candidates.
            RelayKind::Ice => RelayBody::Candidate(self.payload.get("candidate").cloned().unwrap_or(Value::Null)),
        };
        RelaySignal::new(kind, call, to_user, body)
    }

    /// Whether a `typing` frame starts (the default) or stops typing.
    pub fn typing(&self) -> Result<bool, DomainError> {
        match self.payload.get("typing") {
            None => Ok(true),
            Some(Value::Bool(typing)) => Ok(*typing),
            Some(_) => Err(DomainError::invalid(ErrorCode::InvalidPayload, "typing must be true or false")),
        }
    }
}

/// The payload of a client's `resume` frame: the last `event_seq` it has per chat.
#[derive(Debug, Deserialize)]
pub struct ResumePayload {
    pub chats: BTreeMap<String, i64>,
}

/// The payload of a client's `status_update` frame.
#[derive(Debug, Deserialize)]
struct ReceiptPayload {
    status: String,
    seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_frames() {
        assert_eq!(decode_client_frame(" {\"type\":\"typing\"}").unwrap().kind, "typing");
        for text in [r#"[1,"typing"]"#, r#"[null,"message","room",{}]"#, "\"typing\"", "7"] {
            assert!(decode_client_frame(text).is_err(), "{text}");
        }
    }
}
