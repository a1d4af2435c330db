//! A message as a client sends it, and the checks it passes before any storage
//! is touched. REST (`POST /api/messages`) and WebSocket (`message` frames) both
//! decode [`SendRequest`] and turn it into a [`SendCommand`] here.

use super::{ClientMsgId, ContentType, MessageBody};
use crate::attachment::rules::attachment_not_found;
use crate::error::DomainError;
use crate::error_code::ErrorCode;
use crate::ids::{AttachmentId, ChatId, MessageId};
use serde::Deserialize;

/// The fields of a send, as a client writes them: the body of `POST
/// /api/messages` next to its `chat_id`, and the payload of a `message` frame
/// (whose chat is the frame's `room_id`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
pub struct SendRequest {
    /// Required for text; the optional caption of a file message.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default = "text")]
    pub content_type: String,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// A message of the same chat that this one answers.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub reply_to_id: Option<String>,
    /// The uploads an image, video, audio or document message carries.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<uuid::Uuid>))]
    pub attachment_ids: Vec<String>,
}

fn text() -> String {
    ContentType::Text.as_str().to_owned()
}

/// Why a [`SendRequest`] is refused.
#[derive(Debug, thiserror::Error)]
pub enum SendRefused {
    /// A text message without `content`. The request's shape is wrong, which
    /// each channel reports as it reports its other undecodable requests.
    #[error("missing field `content`")]
    MissingContent,
    #[error(transparent)]
    Rule(#[from] DomainError),
}

impl SendRefused {
    /// The error to answer: a malformed request under the channel's own
    /// `malformed_code`, its message led by `what` ("invalid request body").
    pub fn into_error(self, malformed_code: ErrorCode, what: &str) -> DomainError {
        match self {
            Self::MissingContent => DomainError::invalid(malformed_code, format!("{what}: {self}")),
            Self::Rule(error) => error,
        }
    }
}

/// The message a send answers, as the client named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyTo {
    Message(MessageId),
    /// Not an id: it names no message of the chat. Refused like an unknown
    /// message, once the sender is known to be a member.
    Malformed,
}

/// A send that passed every check needing no storage; built only by
/// [`SendRequest::into_command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCommand {
    pub(crate) chat_id: ChatId,
    pub(crate) content_type: ContentType,
    pub(crate) content: MessageBody,
    pub(crate) client_msg_id: Option<ClientMsgId>,
    pub(crate) reply_to: Option<ReplyTo>,
    /// As asked for; whether they are the sender's and of the right kind needs storage.
    pub(crate) attachment_ids: Vec<AttachmentId>,
}

impl SendCommand {
    /// The chat the message goes to.
    pub fn chat_id(&self) -> ChatId {
        self.chat_id
    }

    /// The checked text (a caption, possibly empty, for files).
    pub fn content(&self) -> &str {
        self.content.as_str()
    }
}

impl SendRequest {
    /// Checks a send to `chat_id`: the content type a client may send, the text
    /// (required for text, an optional caption for files), the ids it names, the
    /// idempotency key.
    pub fn into_command(self, chat_id: ChatId) -> Result<SendCommand, SendRefused> {
        let content = match (self.content, self.content_type.as_str()) {
            (Some(content), _) => content,
            (None, "text") => return Err(SendRefused::MissingContent),
            (None, _) => String::new(),
        };
        let content_type = ContentType::parse(&self.content_type)?;
        let content = body_of(content_type, content)?;
        let attachment_ids = attachment_ids(&self.attachment_ids)?;
        let client_msg_id = self.client_msg_id.map(ClientMsgId::parse).transpose()?;
        let reply_to = self.reply_to_id.as_deref().map(|raw| match raw.trim().parse() {
            Ok(id) => ReplyTo::Message(id),
            Err(_) => ReplyTo::Malformed,
        });
        Ok(SendCommand { chat_id, content_type, content, client_msg_id, reply_to, attachment_ids })
    }
}

/// The text of a message: required for text, an optional caption for files.
pub(crate) fn body_of(content_type: ContentType, content: String) -> Result<MessageBody, DomainError> {
    match content_type.attachment_kind() {
        Some(_) => MessageBody::caption(content),
        None => MessageBody::parse(content),
    }
}

/// The attachment ids a client sent; a malformed one names no attachment.
fn attachment_ids(raw: &[String]) -> Result<Vec<AttachmentId>, DomainError> {
    raw.iter().map(|id| id.trim().parse().map_err(|_| attachment_not_found())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn command(request: serde_json::Value) -> Result<SendCommand, SendRefused> {
        serde_json::from_value::<SendRequest>(request).unwrap().into_command(ChatId::new())
    }

    fn refusal(request: serde_json::Value) -> String {
        command(request)
            .unwrap_err()
            .into_error(ErrorCode::InvalidBody, "invalid request body")
            .code()
            .as_str()
            .to_owned()
    }

    #[test]
    fn text_is_the_default_and_needs_content() {
        let sent = command(json!({"content": "hi"})).unwrap();
        assert_eq!((sent.content_type, sent.content.as_str()), (ContentType::Text, "hi"));
        let missing = command(json!({})).unwrap_err();
        assert!(matches!(missing, SendRefused::MissingContent));
        let error = missing.into_error(ErrorCode::InvalidPayload, "invalid message payload");
        assert_eq!(
            (error.code().as_str(), error.to_string().as_str()),
            ("invalid_payload", "invalid message payload: missing field `content`")
        );
    }

    #[test]
    fn a_file_message_needs_no_caption_and_a_blank_one_is_empty() {
        let id = AttachmentId::new();
        for content in [json!(null), json!("  ")] {
            let sent =
                command(json!({"content_type": "image", "content": content, "attachment_ids": [format!(" {id} ")]}));
            let sent = sent.unwrap();
            assert_eq!((sent.content.as_str(), sent.attachment_ids.as_slice()), ("", [id].as_slice()));
        }
    }

    #[test]
    fn the_rules_that_need_no_storage_refuse_before_any_is_touched() {
        assert_eq!(refusal(json!({"content": "   "})), "empty_content");
        assert_eq!(refusal(json!({"content": "hi", "content_type": "sticker"})), "unsupported_content_type");
        assert_eq!(refusal(json!({"content": "hi", "content_type": "system"})), "unsupported_content_type");
        assert_eq!(refusal(json!({"content_type": "video", "attachment_ids": ["nope"]})), "attachment_not_found");
        assert_eq!(refusal(json!({"content": "hi", "client_msg_id": ""})), "invalid_client_msg_id");
    }

    #[test]
    fn a_malformed_reply_id_names_no_message_rather_than_failing_the_send_here() {
        let id = MessageId::new();
        let reply = command(json!({"content": "yes", "reply_to_id": format!("{id} ")})).unwrap();
        assert_eq!(reply.reply_to, Some(ReplyTo::Message(id)));
        let malformed = command(json!({"content": "yes", "reply_to_id": "not-an-id"})).unwrap();
        assert_eq!(malformed.reply_to, Some(ReplyTo::Malformed));
        assert_eq!(command(json!({"content": "yes"})).unwrap().reply_to, None);
    }
}
