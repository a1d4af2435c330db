//! Events that services publish for live delivery, in the seed's wire envelope
//! `{type, room_id, sender, payload}`.

use crate::ids::{ChatId, UserId};
use crate::message::Message;
use serde::Serialize;

/// A change that members of a chat must see live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A new message was stored.
    Message(Message),
}

/// An event and the users whose devices receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub recipients: Vec<UserId>,
    pub room_id: ChatId,
    pub sender: UserId,
    pub kind: EventKind,
}

#[derive(Serialize)]
struct Envelope<'a, P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: ChatId,
    sender: UserId,
    payload: &'a P,
}

impl Event {
    /// The frame as clients receive it. Serialised once per event, shared by every recipient.
    pub fn to_frame(&self) -> String {
        let result = match &self.kind {
            EventKind::Message(message) => serde_json::to_string(&Envelope {
                kind: "message",
                room_id: self.room_id,
                sender: self.sender,
                payload: message,
            }),
        };
        // Serialising plain structs of strings, numbers and ids cannot fail.
        result.unwrap_or_default()
    }
}
