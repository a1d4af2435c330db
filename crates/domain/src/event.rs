//! Events that services publish for live delivery, in the seed's wire envelope
//! `{type, room_id, sender, payload}` plus `event_seq`, the event's position in
//! the chat's durable log, which devices use to resume without gaps.

use crate::chat::{ChatSettings, ChatView};
use crate::ids::{ChatId, DeviceId, MessageId, SessionId, UserId};
use crate::message::{Message, ReactionChange, UpdateAction};
use crate::receipt::ChatProgress;
use crate::user::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A change that members of a chat must see live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A new message was stored.
    Message(Message),
    /// A member's receipt position moved (`status_update`).
    StatusUpdate(StatusUpdate),
    /// A message was edited, deleted for everyone, or reacted to (`message_update`).
    MessageUpdate(MessageUpdate),
}

/// A stored message changed: the message as it now is, and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageUpdate {
    pub action: UpdateAction,
    /// The message as it now is: an edit's new text, a deletion's placeholder, the
    /// reaction counts (not anyone's own reaction).
    pub message: Message,
    /// On `reaction` only: who reacted with what, or took it back.
    #[serde(flatten)]
    pub reaction: Option<ReactionChange>,
}

/// A member received or read messages up to a position; with where the chat
/// stands as a whole, so senders can show their ticks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub chat: ChatProgressView,
}

/// `ChatProgress` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatProgressView {
    pub delivered_seq: i64,
    pub read_seq: i64,
}

impl From<ChatProgress> for ChatProgressView {
    fn from(p: ChatProgress) -> Self {
        Self { delivered_seq: p.delivered_seq, read_seq: p.read_seq }
    }
}

impl EventKind {
    fn wire_type(&self) -> &'static str {
        match self {
            Self::Message(_) => "message",
            Self::StatusUpdate(_) => "status_update",
            Self::MessageUpdate(_) => "message_update",
        }
    }
}

/// A durable event as the chat's log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEvent {
    pub room_id: ChatId,
    /// Position in the chat's log: 1, 2, 3...
    pub event_seq: i64,
    /// Who caused it (the sender of a message).
    pub actor: UserId,
    pub kind: EventKind,
}

/// A logged event ready for devices: the frame, serialised once and shared, with
/// the chat and log position the gateway needs to keep each device gap-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDelivery {
    pub room_id: ChatId,
    pub event_seq: i64,
    #[serde(with = "shared_str")]
    pub frame: Arc<str>,
    /// For a new message, when it was stored (Unix microseconds), so that the
    /// gateway can measure how long it took to reach each device.
    #[serde(default)]
    pub message_stored_at: Option<i64>,
}

/// A change pushed live but not logged (a chat's new state, typing, presence),
/// ready for devices: the frame, serialised once and shared. Devices that miss it
/// lose nothing durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralDelivery {
    /// The chat it is about, if any (presence is about a person).
    pub room_id: Option<ChatId>,
    #[serde(with = "shared_str")]
    pub frame: Arc<str>,
    /// Which of the recipients' devices get it (a call's frames go to the device
    /// that joined it); every device unless said otherwise.
    #[serde(default, skip_serializing_if = "DeviceTarget::is_all")]
    pub devices: DeviceTarget,
}

/// Which devices of a delivery's recipients it is written to. Carried with the
/// delivery across instances; the gateway asks [`DeviceTarget::includes`] before
/// writing a frame to a socket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "to", content = "device_ids", rename_all = "snake_case")]
pub enum DeviceTarget {
    /// Every device of every recipient.
    #[default]
    All,
    /// Only these devices.
    Only(Vec<DeviceId>),
    /// Every device but these.
    AllBut(Vec<DeviceId>),
}

impl DeviceTarget {
    pub fn is_all(&self) -> bool {
        *self == Self::All
    }

    /// Whether the device (one socket) gets the delivery.
    pub fn includes(&self, device: DeviceId) -> bool {
        match self {
            Self::All => true,
            Self::Only(devices) => devices.contains(&device),
            Self::AllBut(devices) => !devices.contains(&device),
        }
    }
}

/// What the bus carries to a user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// A durable chat event.
    Event(EventDelivery),
    /// A live-only update (a chat's new state, typing, presence): delivered as is, never replayed.
    Ephemeral(EphemeralDelivery),
    /// A device session was revoked: the device holding it must disconnect at once.
    SessionRevoked { session_id: SessionId },
    /// Live events may have been lost on their way here: every device must catch
    /// up its chats from the durable log.
    CatchUp,
    /// The chat's log reaches `event_seq` (announced between instances a moment
    /// after its events were published): a device behind it lost a live event on
    /// the way and catches up from the log. Never sent to clients.
    Head { room_id: ChatId, event_seq: i64 },
}

/// How long a typing indicator shows unless renewed.
pub const TYPING_EXPIRES_MS: u64 = 6000;

#[derive(Serialize)]
struct EphemeralEnvelope<P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: Option<ChatId>,
    sender: UserId,
    payload: P,
}

#[derive(Serialize)]
struct TypingPayload {
    typing: bool,
    expires_in_ms: u64,
}

#[derive(Serialize)]
struct HiddenPayload {
    message_id: MessageId,
}

#[derive(Serialize)]
struct BlockPayload {
    user_id: UserId,
    blocked: bool,
}

#[derive(Serialize)]
struct ProfilePayload<'a> {
    user_id: UserId,
    name: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
struct PresencePayload {
    user_id: UserId,
    online: bool,
    last_seen: Option<DateTime<Utc>>,
}

impl Delivery {
    fn ephemeral<P: Serialize>(kind: &'static str, room_id: Option<ChatId>, sender: UserId, payload: P) -> Self {
        let frame = serde_json::to_string(&EphemeralEnvelope { kind, room_id, sender, payload }).unwrap_or_default();
        Self::Ephemeral(EphemeralDelivery { room_id, frame: Arc::from(frame), devices: DeviceTarget::All })
    }

    /// `{"type":"typing","room_id","sender","payload":{"typing","expires_in_ms"}}`.
    pub fn typing(chat: ChatId, user: UserId, typing: bool) -> Self {
        Self::ephemeral("typing", Some(chat), user, TypingPayload { typing, expires_in_ms: TYPING_EXPIRES_MS })
    }

    /// `{"type":"message_hidden","room_id","sender","payload":{"message_id"}}`: the
    /// sender deleted the message for themself, for their other devices only.
    pub fn message_hidden(chat: ChatId, user: UserId, message: MessageId) -> Self {
        Self::ephemeral("message_hidden", Some(chat), user, HiddenPayload { message_id: message })
    }

    /// `{"type":"chat_settings","room_id","sender","payload":{"archived","muted_until","pinned"}}`:
    /// the user's own settings of the chat, for their other devices only.
    pub fn chat_settings(chat: ChatId, user: UserId, settings: ChatSettings) -> Self {
        Self::ephemeral("chat_settings", Some(chat), user, settings)
    }

    /// `{"type":"block_update","room_id":null,"sender","payload":{"user_id","blocked"}}`:
    /// the sender blocked (or unblocked) `user_id`; for the sender's other devices only.
    pub fn block_update(user: UserId, other: UserId, blocked: bool) -> Self {
        Self::ephemeral("block_update", None, user, BlockPayload { user_id: other, blocked })
    }

    /// `{"type":"user_update","room_id":null,"sender","payload":{"user_id","name","status"}}`:
    /// the sender's new public profile, for the people who show it.
    pub fn user_update(user: &User) -> Self {
        let payload = ProfilePayload { user_id: user.id, name: &user.name, status: &user.status };
        Self::ephemeral("user_update", None, user.id, payload)
    }

    /// `{"type":"presence","room_id":null,"sender","payload":{"user_id","online","last_seen"}}`;
    /// `last_seen` only where the user's privacy setting lets the recipients see it.
    pub fn presence(user: UserId, online: bool, last_seen: Option<DateTime<Utc>>) -> Self {
        Self::ephemeral("presence", None, user, PresencePayload { user_id: user, online, last_seen })
    }
}

/// Serde for `Arc<str>` without turning on serde's `rc` feature workspace-wide.
mod shared_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(value: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(deserializer).map(Arc::from)
    }
}

/// A group's new state after a change, pushed live to its members as a
/// `chat_update` frame. Not logged: the change's system messages are its durable
/// record, and a device that missed it reloads the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUpdate {
    pub room_id: ChatId,
    /// Who made the change.
    pub actor: UserId,
    pub chat: ChatView,
}

#[derive(Serialize)]
struct Envelope<'a, P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    room_id: ChatId,
    sender: UserId,
    /// Only on logged events.
    #[serde(skip_serializing_if = "Option::is_none")]
    event_seq: Option<i64>,
    payload: &'a P,
}

/// Every server-to-client event frame is written here: the seed's envelope with the
/// event's log position when it has one.
fn to_frame<P: Serialize>(
    kind: &'static str,
    room_id: ChatId,
    sender: UserId,
    event_seq: Option<i64>,
    payload: &P,
) -> String {
    // Serialising plain structs of strings, numbers and ids cannot fail.
    serde_json::to_string(&Envelope { kind, room_id, sender, event_seq, payload }).unwrap_or_default()
}

impl ChatEvent {
    /// The frame as clients receive it.
    pub fn to_frame(&self) -> String {
        let event_seq = Some(self.event_seq);
        match &self.kind {
            EventKind::Message(message) => {
                to_frame(self.kind.wire_type(), self.room_id, self.actor, event_seq, message)
            }
            EventKind::StatusUpdate(update) => {
                to_frame(self.kind.wire_type(), self.room_id, self.actor, event_seq, update)
            }
            EventKind::MessageUpdate(update) => {
                to_frame(self.kind.wire_type(), self.room_id, self.actor, event_seq, update)
            }
        }
    }

    /// Serialises once into what every device of every recipient receives.
    pub fn to_delivery(&self) -> EventDelivery {
        let message_stored_at = match &self.kind {
            EventKind::Message(message) => Some(message.created_at.timestamp_micros()),
            _ => None,
        };
        EventDelivery {
            room_id: self.room_id,
            event_seq: self.event_seq,
            frame: Arc::from(self.to_frame()),
            message_stored_at,
        }
    }
}

impl ChatUpdate {
    /// The `chat_update` frame as clients receive it: the ChatView as payload.
    pub fn to_frame(&self) -> String {
        to_frame("chat_update", self.room_id, self.actor, None, &self.chat)
    }

    /// Serialises once into what every device of every member receives.
    pub fn to_delivery(&self) -> Delivery {
        Delivery::Ephemeral(EphemeralDelivery {
            room_id: Some(self.room_id),
            frame: Arc::from(self.to_frame()),
            devices: DeviceTarget::All,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::text_message;

    #[test]
    fn a_message_frame_is_the_seed_envelope_with_its_log_position() {
        let chat = ChatId::new();
        let sender = UserId::new();
        let message = text_message(chat, sender, 3);
        let event = ChatEvent { room_id: chat, event_seq: 9, actor: sender, kind: EventKind::Message(message) };
        let frame: serde_json::Value = serde_json::from_str(&event.to_frame()).unwrap();
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["room_id"], chat.to_string());
        assert_eq!(frame["sender"], sender.to_string());
        assert_eq!(frame["event_seq"], 9);
        assert_eq!(frame["payload"]["seq"], 3);
        assert_eq!(event.to_delivery().event_seq, 9);
    }

    #[test]
    fn a_message_update_frame_carries_the_action_and_the_message_as_it_now_is() {
        let chat = ChatId::new();
        let (sender, reactor) = (UserId::new(), UserId::new());
        let mut message = text_message(chat, sender, 2);
        message.reactions.insert("👍".into(), 1);
        let reaction = ReactionChange { emoji: "👍".into(), user_id: reactor, removed: false };
        let update = MessageUpdate { action: UpdateAction::Reaction, message, reaction: Some(reaction) };
        let event = ChatEvent { room_id: chat, event_seq: 5, actor: reactor, kind: EventKind::MessageUpdate(update) };
        let frame: serde_json::Value = serde_json::from_str(&event.to_frame()).unwrap();
        assert_eq!(frame["type"], "message_update");
        assert_eq!(
            (frame["sender"].as_str(), frame["event_seq"].as_i64()),
            (Some(reactor.to_string().as_str()), Some(5))
        );
        let payload = &frame["payload"];
        assert_eq!(payload["action"], "reaction");
        assert_eq!((payload["emoji"].as_str(), payload["removed"].as_bool()), (Some("👍"), Some(false)));
        assert_eq!(payload["user_id"], reactor.to_string());
        assert_eq!(payload["message"]["reactions"]["👍"], 1);

        let EventKind::MessageUpdate(mut edited) = event.kind else { unreachable!() };
        edited.action = UpdateAction::Edited;
        edited.reaction = None;
        let event = ChatEvent { room_id: chat, event_seq: 6, actor: sender, kind: EventKind::MessageUpdate(edited) };
        let frame: serde_json::Value = serde_json::from_str(&event.to_frame()).unwrap();
        assert_eq!(frame["payload"]["action"], "edited");
        assert!(frame["payload"].get("emoji").is_none() && frame["payload"].get("removed").is_none());
    }

    #[test]
    fn a_message_hidden_frame_names_the_message_and_is_not_logged() {
        let (chat, user, message) = (ChatId::new(), UserId::new(), MessageId::new());
        let Delivery::Ephemeral(hidden) = Delivery::message_hidden(chat, user, message) else { panic!("ephemeral") };
        let frame: serde_json::Value = serde_json::from_str(&hidden.frame).unwrap();
        assert_eq!(frame["type"], "message_hidden");
        assert_eq!(frame["payload"]["message_id"], message.to_string());
        assert_eq!(hidden.room_id, Some(chat));
    }

    #[test]
    fn private_state_frames_name_what_changed_and_are_not_logged() {
        let (chat, user, other) = (ChatId::new(), UserId::new(), UserId::new());
        let settings = ChatSettings { archived: true, muted_until: None, pinned: false };
        let frame_of = |delivery: Delivery| -> serde_json::Value {
            let Delivery::Ephemeral(e) = delivery else { panic!("ephemeral") };
            serde_json::from_str(&e.frame).unwrap()
        };
        let frame = frame_of(Delivery::chat_settings(chat, user, settings));
        assert_eq!(
            (frame["type"].as_str(), frame["room_id"].as_str()),
            (Some("chat_settings"), Some(&*chat.to_string()))
        );
        assert_eq!(frame["payload"], serde_json::json!({"archived": true, "muted_until": null, "pinned": false}));
        let frame = frame_of(Delivery::block_update(user, other, true));
        assert_eq!(
            (frame["type"].as_str(), frame["sender"].as_str()),
            (Some("block_update"), Some(&*user.to_string()))
        );
        assert_eq!(frame["payload"], serde_json::json!({"user_id": other.to_string(), "blocked": true}));
    }

    #[test]
    fn a_user_update_frame_carries_the_public_profile_only() {
        let mut user = crate::services::test_support::user(UserId::new(), "Asha");
        user.status = "at work".into();
        let Delivery::Ephemeral(e) = Delivery::user_update(&user) else { panic!("ephemeral") };
        let frame: serde_json::Value = serde_json::from_str(&e.frame).unwrap();
        assert_eq!(frame["type"], "user_update");
        assert_eq!(
            frame["payload"],
            serde_json::json!({"user_id": user.id.to_string(), "name": "Asha", "status": "at work"}),
            "no phone number, no last seen"
        );
    }

    #[test]
    fn a_chat_update_frame_carries_the_view_and_no_log_position() {
        let (chat, _) = crate::chat::new_direct(UserId::new(), UserId::new(), chrono::Utc::now()).unwrap();
        let actor = chat.created_by;
        let update = ChatUpdate {
            room_id: chat.id,
            actor,
            chat: ChatView {
                chat: chat.clone(),
                members: Vec::new(),
                last_message: None,
                unread_count: 0,
                settings: None,
                membership: None,
            },
        };
        let frame: serde_json::Value = serde_json::from_str(&update.to_frame()).unwrap();
        assert_eq!(frame["type"], "chat_update");
        assert_eq!(frame["room_id"], chat.id.to_string());
        assert_eq!(frame["sender"], actor.to_string());
        assert_eq!(frame["payload"]["id"], chat.id.to_string());
        assert!(frame.get("event_seq").is_none());
        assert!(frame["payload"].get("membership").is_none());
        assert!(matches!(update.to_delivery(), Delivery::Ephemeral(e) if e.room_id == Some(chat.id)));
    }

    #[test]
    fn an_ephemeral_delivery_crosses_the_relay_intact() {
        let delivery = Delivery::Ephemeral(EphemeralDelivery {
            room_id: Some(ChatId::new()),
            frame: Arc::from("{\"type\":\"chat_update\"}"),
            devices: DeviceTarget::All,
        });
        let json = serde_json::to_string(&delivery).unwrap();
        assert_eq!(serde_json::from_str::<Delivery>(&json).unwrap(), delivery);
    }

    #[test]
    fn a_delivery_for_some_devices_crosses_the_relay_with_its_target() {
        let (joined, other) = (DeviceId::new(), DeviceId::new());
        for devices in [DeviceTarget::Only(vec![joined]), DeviceTarget::AllBut(vec![joined])] {
            let delivery = Delivery::Ephemeral(EphemeralDelivery {
                room_id: None,
                frame: Arc::from("{}"),
                devices: devices.clone(),
            });
            let json = serde_json::to_string(&delivery).unwrap();
            let Delivery::Ephemeral(back) = serde_json::from_str::<Delivery>(&json).unwrap() else { panic!("{json}") };
            assert_eq!(back.devices, devices);
        }
        let only = DeviceTarget::Only(vec![joined]);
        assert_eq!((only.includes(joined), only.includes(other)), (true, false));
        let all_but = DeviceTarget::AllBut(vec![joined]);
        assert_eq!((all_but.includes(joined), all_but.includes(other)), (false, true));
        assert!(DeviceTarget::All.includes(other));
    }
}
