//! What a client's frame asks for: one variant per frame type a client may send
//! (docs/protocol.md, "Client to server"). Each type is registered here once, with
//! the reading of its payload; the connection matches on the variant.

use crate::client_frame::{ClientFrame, ResumePayload};
use chitchat_domain::message::SendCommand;
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::{ChatId, DomainError, ErrorCode};
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
