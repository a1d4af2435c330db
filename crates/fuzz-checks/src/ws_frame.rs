use crate::assert_client_error;
use chitchat_domain::call::{RelayBody, RelayKind, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES};
use chitchat_domain::ChatId;
use chitchat_gateway_ws::{decode_client_frame, CallAction, ClientCommand, MAX_RESUME_CHATS};
use serde_json::Value;

/// A WebSocket text frame, decoded and checked as the gateway does. Text frames
/// are UTF-8 by the protocol, so other bytes are not a frame.
pub fn ws_frame(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(frame) = decode_client_frame(text) else { return };
    // Only a JSON object with a string `type` is a frame, and `kind` is that string.
    // (Fields the frame ignores are skipped unchecked, so a number out of range there
    // decodes as a frame though not as a `Value`.)
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        assert_eq!(value.get("type").and_then(Value::as_str), Some(frame.kind.as_str()));
    }

    if let Err(error) = frame.chat() {
        assert_client_error(&error);
    }
    // Any chat: the payload is checked whatever the `room_id`.
    if let Err(error) = frame.send_command(ChatId::new()) {
        assert_client_error(&error);
    }
    if let Err(error) = frame.receipt() {
        assert_client_error(&error);
    }
    match frame.resume_payload() {
        Ok(payload) => assert!(payload.chats.len() <= MAX_RESUME_CHATS),
        Err(error) => assert_client_error(&error),
    }
    match frame.typing() {
        Ok(typing) => assert!(typing || frame.payload.get("typing") == Some(&Value::Bool(false))),
        Err(error) => assert_client_error(&error),
    }
    if let Err(error) = frame.call_id() {
        assert_client_error(&error);
    }
    if let Err(error) = frame.call_media() {
        assert_client_error(&error);
    }
    // Whatever passes on to another device is within its limit.
    for kind in [RelayKind::Offer, RelayKind::Answer, RelayKind::Ice] {
        match frame.relay_signal(kind) {
            Ok(signal) => match signal.body {
                RelayBody::Sdp(sdp) => assert!(sdp.len() <= MAX_SDP_BYTES),
                RelayBody::Candidate(candidate) => assert!(candidate.to_string().len() <= MAX_CANDIDATE_BYTES),
            },
            Err(error) => assert_client_error(&error),
        }
    }
    // The command the socket loop acts on: a known type reads as its own variant,
    // any other is refused.
    match frame.command() {
        Ok(command) => {
            let kind = match command {
                ClientCommand::Message(_) => "message",
                ClientCommand::StatusUpdate { .. } => "status_update",
                ClientCommand::Typing { .. } => "typing",
                ClientCommand::Resume(payload) => {
                    assert!(payload.chats.len() <= MAX_RESUME_CHATS);
                    "resume"
                }
                ClientCommand::CallInvite { .. } => "call_invite",
                ClientCommand::Call { action: CallAction::Accept, .. } => "call_accept",
                ClientCommand::Call { action: CallAction::Decline, .. } => "call_decline",
                ClientCommand::Call { action: CallAction::Hangup, .. } => "call_hangup",
                ClientCommand::CallSignal(signal) => signal.kind.wire_type(),
            };
            assert_eq!(kind, frame.kind);
        }
        Err(error) => assert_client_error(&error),
    }
}
