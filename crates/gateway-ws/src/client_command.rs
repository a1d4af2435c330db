//! What a client's frame asks for: one variant per frame type a client may send
//! (docs/protocol.md, "Client to server"). Each type is registered here once, with
//! the reading of its payload; the connection matches on the variant.

use crate::client_frame::{ClientFrame, ResumePayload};
use chitchat_domain::call::{CallMedia, RelayKind, RelaySignal};
use chitchat_domain::message::SendCommand;
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::{CallId, ChatId, DomainError, ErrorCode};
use serde_json::Value;

/// A client frame whose type and payload have been read.
#[derive(Debug)]
pub enum ClientCommand {
    /// `message`: send a message; the command names its chat and passed every
    /// check that needs no storage.
    Message(SendCommand),
    /// `status_update`: this device has (or showed) the chat's messages up to `seq`.
    StatusUpdate { chat: ChatId, receipt: ReceiptKind, seq: i64 },
    /// `typing`: the user starts (`true`) or stops typing in the chat.
    Typing { chat: ChatId, typing: bool },
    /// `resume`: replay what came after the positions the device reports.
    Resume(ResumePayload),
    /// `call_invite`: start a call in the chat.
    CallInvite { chat: ChatId, media: CallMedia },
    /// `call_accept`, `call_decline`, `call_hangup`: this device acts on a call.
    Call { call: CallId, action: CallAction },
    /// `call_offer`, `call_answer`, `call_ice`: for another joined device of the call.
    CallSignal(RelaySignal),
}

/// What a device does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAction {
    /// Answer here, or come back after a drop.
    Accept,
    Decline,
    Hangup,
}

/// A client frame as the connection handles it: the `id` its replies echo, and the
/// command, or why the frame is refused.
#[derive(Debug)]
pub struct ClientRequest {
    pub id: Option<Value>,
    pub command: Result<ClientCommand, DomainError>,
}

impl ClientFrame {
    /// The command this frame asks for. The chat is checked before the payload, so
    /// a frame wrong in both is answered `chat_not_found`.
    pub fn command(&self) -> Result<ClientCommand, DomainError> {
        match self.kind.as_str() {
            "message" => Ok(ClientCommand::Message(self.send_command(self.chat()?)?)),
            "status_update" => {
                let chat = self.chat()?;
                let (receipt, seq) = self.receipt()?;
                Ok(ClientCommand::StatusUpdate { chat, receipt, seq })
            }
            "typing" => Ok(ClientCommand::Typing { chat: self.chat()?, typing: self.typing()? }),
            "resume" => Ok(ClientCommand::Resume(self.resume_payload()?)),
            "call_invite" => Ok(ClientCommand::CallInvite { chat: self.chat()?, media: self.call_media()? }),
            "call_accept" => Ok(ClientCommand::Call { call: self.call_id()?, action: CallAction::Accept }),
            "call_decline" => Ok(ClientCommand::Call { call: self.call_id()?, action: CallAction::Decline }),
            "call_hangup" => Ok(ClientCommand::Call { call: self.call_id()?, action: CallAction::Hangup }),
            "call_offer" => Ok(ClientCommand::CallSignal(self.relay_signal(RelayKind::Offer)?)),
            "call_answer" => Ok(ClientCommand::CallSignal(self.relay_signal(RelayKind::Answer)?)),
            "call_ice" => Ok(ClientCommand::CallSignal(self.relay_signal(RelayKind::Ice)?)),
            other => Err(DomainError::invalid(ErrorCode::UnknownType, format!("unknown frame type {other:?}"))),
        }
    }

    /// The frame's `id` and its command.
    pub fn into_request(self) -> ClientRequest {
        let command = self.command();
        ClientRequest { id: self.id, command }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_frame::decode_client_frame;

    fn command(text: &str) -> Result<ClientCommand, DomainError> {
        decode_client_frame(text).map(|frame| frame.command()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn refusal(text: &str) -> (&'static str, String) {
        match command(text) {
            Err(error) => (error.code().as_str(), error.public_message()),
            Ok(command) => panic!("{text} read as {command:?}"),
        }
    }

    #[test]
    fn each_frame_type_reads_as_its_command() {
        let chat = ChatId::new();
        let message = format!(r#"{{"type":"message","room_id":"{chat}","payload":{{"content":"hi"}}}}"#);
        assert!(
            matches!(command(&message), Ok(ClientCommand::Message(send)) if send.chat_id() == chat && send.content() == "hi")
        );
        let receipt = format!(r#"{{"type":"status_update","room_id":"{chat}","payload":{{"status":"read","seq":4}}}}"#);
        assert!(
            matches!(command(&receipt), Ok(ClientCommand::StatusUpdate { chat: c, receipt: ReceiptKind::Read, seq: 4 }) if c == chat)
        );
        let typing = format!(r#"{{"type":"typing","room_id":"{chat}"}}"#);
        assert!(matches!(command(&typing), Ok(ClientCommand::Typing { chat: c, typing: true }) if c == chat));
        let resume = format!(r#"{{"type":"resume","payload":{{"chats":{{"{chat}":7}}}}}}"#);
        assert!(
            matches!(command(&resume), Ok(ClientCommand::Resume(payload)) if payload.chats.get(&chat.to_string()) == Some(&7))
        );
    }

    #[test]
    fn call_frames_read_as_their_commands() {
        let (chat, call, to) = (ChatId::new(), CallId::new(), chitchat_domain::UserId::new());
        let invite = format!(r#"{{"type":"call_invite","room_id":"{chat}","payload":{{"media":"video"}}}}"#);
        assert!(
            matches!(command(&invite), Ok(ClientCommand::CallInvite { chat: c, media: CallMedia::Video }) if c == chat)
        );
        for (kind, action) in [
            ("call_accept", CallAction::Accept),
            ("call_decline", CallAction::Decline),
            ("call_hangup", CallAction::Hangup),
        ] {
            let frame = format!(r#"{{"type":"{kind}","payload":{{"call_id":"{call}"}}}}"#);
            assert!(
                matches!(command(&frame), Ok(ClientCommand::Call { call: c, action: a }) if c == call && a == action)
            );
        }
        let offer =
            format!(r#"{{"type":"call_offer","payload":{{"call_id":"{call}","to_user_id":"{to}","sdp":"v=0"}}}}"#);
        assert!(
            matches!(command(&offer), Ok(ClientCommand::CallSignal(s)) if s.kind == RelayKind::Offer && s.to_user == to)
        );
        let ice =
            format!(r#"{{"type":"call_ice","payload":{{"call_id":"{call}","to_user_id":"{to}","candidate":null}}}}"#);
        assert!(matches!(command(&ice), Ok(ClientCommand::CallSignal(s)) if s.kind == RelayKind::Ice));
    }

    #[test]
    fn call_frames_that_name_no_call_or_carry_too_much_are_refused() {
        let (call, to) = (CallId::new(), chitchat_domain::UserId::new());
        assert_eq!(refusal(r#"{"type":"call_accept","payload":{"call_id":"nope"}}"#).0, "call_not_found");
        assert_eq!(refusal(r#"{"type":"call_hangup"}"#).0, "call_not_found");
        assert_eq!(refusal(r#"{"type":"call_invite","payload":{"media":"video"}}"#).0, "chat_not_found");
        let chat = ChatId::new();
        let smell = format!(r#"{{"type":"call_invite","room_id":"{chat}","payload":{{"media":"smell"}}}}"#);
        assert_eq!(refusal(&smell).0, "invalid_payload");
        let huge = "a".repeat(chitchat_domain::call::MAX_SDP_BYTES + 1);
        let offer =
            format!(r#"{{"type":"call_answer","payload":{{"call_id":"{call}","to_user_id":"{to}","sdp":"{huge}"}}}}"#);
        assert_eq!(refusal(&offer).0, "invalid_payload");
        let nobody = format!(r#"{{"type":"call_offer","payload":{{"call_id":"{call}","to_user_id":"x","sdp":""}}}}"#);
        assert_eq!(refusal(&nobody).0, "invalid_payload");
    }

    #[test]
    fn refusals_name_the_first_thing_wrong() {
        assert_eq!(refusal(r#"{"type":"teleport"}"#), ("unknown_type", r#"unknown frame type "teleport""#.to_owned()));
        assert_eq!(refusal(r#"{"type":"message","payload":"hello"}"#).0, "chat_not_found");
        assert_eq!(refusal(r#"{"type":"typing","room_id":5}"#).0, "chat_not_found");
        let chat = ChatId::new();
        let bad_payload = format!(r#"{{"type":"status_update","room_id":"{chat}"}}"#);
        assert_eq!(refusal(&bad_payload).0, "invalid_payload");
        assert_eq!(refusal(r#"{"type":"resume","payload":{"chats":{"x":"7"}}}"#).0, "invalid_payload");
    }

    #[test]
    fn a_request_keeps_the_id_of_a_refused_frame() {
        let request = decode_client_frame(r#"{"id":{"n":1},"type":"teleport"}"#).map(ClientFrame::into_request);
        let request = request.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.id, Some(serde_json::json!({"n": 1})));
        assert!(request.command.is_err());
    }
}
