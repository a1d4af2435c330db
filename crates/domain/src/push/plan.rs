//! Which devices a chat event is pushed to, and what each push says.

use super::payload::{preview_of, PushKind, PushMessage, HIDDEN_PREVIEW};
use super::subscription::PushSubscription;
use crate::chat::{Chat, ChatKind};
use crate::event::{ChatEvent, EventKind};
use crate::ids::{SessionId, UserId};
use crate::message::{Message, SystemAction, UpdateAction};
use crate::user::User;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long a push service keeps trying to reach a device (the `TTL` header), and
/// how long the outbox keeps a push it could not send: a day-old notification is
/// no news.
pub const PUSH_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// RFC 8030 `Urgency`: how soon the push service should wake the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::High => "high",
        }
    }

    /// The stored form back; anything else is `Normal`.
    pub fn parse(text: &str) -> Self {
        if text == "high" {
            Self::High
        } else {
            Self::Normal
        }
    }
}

/// One push waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub endpoint: String,
    /// The [`PushMessage`] as JSON.
    pub payload: String,
    pub urgency: Urgency,
    /// RFC 8030 `Topic`: a newer push of the same chat replaces one the push
    /// service still holds for an unreachable device.
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Who may be pushed about `event` and why: the recipients a new message, a
/// reaction or being added concerns, never its author. Status updates, edits and
/// deletions push nobody.
pub fn audience(event: &ChatEvent, recipients: &[UserId]) -> Option<(PushKind, Vec<UserId>)> {
    // Only for the few people a system message or a reaction names: a look-up in
    // the recipients per person (the recipients of a message need none).
    let others = |users: &mut dyn Iterator<Item = UserId>| -> Vec<UserId> {
        users.filter(|user| *user != event.actor && recipients.contains(user)).collect()
    };
    let (kind, users) = match &event.kind {
        EventKind::Message(message) => match &message.system {
            None => (PushKind::Message, recipients.iter().copied().filter(|user| *user != event.actor).collect()),
            Some(system) if matches!(system.action, SystemAction::MemberAdded | SystemAction::GroupCreated) => {
                (PushKind::AddedToGroup, others(&mut system.user_ids.iter().copied()))
            }
            Some(_) => return None,
        },
        EventKind::MessageUpdate(update) => match (&update.action, &update.reaction) {
            (UpdateAction::Reaction, Some(reaction)) if !reaction.removed => {
                (PushKind::Reaction, others(&mut std::iter::once(update.message.sender_id)))
            }
            _ => return None,
        },
        EventKind::StatusUpdate(_) => return None,
    };
    (!users.is_empty()).then_some((kind, users))
}

/// What [`plan`] decides from, as the push service read it.
pub struct PlanFacts<'a> {
    pub event: &'a ChatEvent,
    pub kind: PushKind,
    /// From [`audience`].
    pub audience: &'a [UserId],
    pub chat: &'a Chat,
    /// The author and the audience, with their names and notification settings.
    pub users: &'a [User],
    /// Those of the audience who muted the chat.
    pub muted: &'a [UserId],
    /// The audience's subscriptions, of sessions still logged in.
    pub subscriptions: &'a [PushSubscription],
    /// Sessions with an open WebSocket: they get the event live instead.
    pub connected: &'a [SessionId],
    pub now: DateTime<Utc>,
}

/// The pushes for one event: one per subscribed device of the audience that did
/// not mute the chat and has no open WebSocket.
pub fn plan(facts: &PlanFacts<'_>) -> Vec<OutboxEntry> {
    let Some(message) = subject(facts.event) else { return Vec::new() };
    let user = |id: UserId| facts.users.iter().find(|u| u.id == id);
    let sender_name = user(facts.event.actor).map(|u| u.name.clone()).unwrap_or_default();
    let chat_name = match facts.chat.kind {
        ChatKind::Group => facts.chat.name.clone().unwrap_or_default(),
        ChatKind::Direct => sender_name.clone(),
    };
    let text = preview_text(facts, message, &sender_name);
    let topic = facts.event.room_id.to_string().replace('-', "");
    let urgency = if facts.kind == PushKind::Reaction { Urgency::Normal } else { Urgency::High };
    let expires_at = facts.now + chrono::Duration::from_std(PUSH_TTL).unwrap_or(chrono::Duration::MAX);
    facts
        .subscriptions
        .iter()
        .filter(|sub| facts.audience.contains(&sub.user_id) && !facts.muted.contains(&sub.user_id))
        .filter(|sub| !facts.connected.contains(&sub.session_id))
        .filter_map(|sub| {
            let previews = user(sub.user_id)?.notification_previews;
            let push = PushMessage {
                kind: facts.kind,
                chat_id: facts.event.room_id,
                seq: message.seq,
                chat_name: chat_name.clone(),
                sender_name: sender_name.clone(),
                preview: if previews { text.clone() } else { HIDDEN_PREVIEW.to_owned() },
            };
            Some(OutboxEntry {
                endpoint: sub.endpoint.clone(),
                payload: serde_json::to_string(&push).ok()?,
                urgency,
                topic: Some(topic.clone()),
                created_at: facts.now,
                expires_at,
            })
        })
        .collect()
}

/// The message a push is about.
fn subject(event: &ChatEvent) -> Option<&Message> {
    match &event.kind {
        EventKind::Message(message) => Some(message),
        EventKind::MessageUpdate(update) => Some(&update.message),
        EventKind::StatusUpdate(_) => None,
    }
}

fn preview_text(facts: &PlanFacts<'_>, message: &Message, sender_name: &str) -> String {
    let content = if message.content.trim().is_empty() && !message.attachments.is_empty() {
        "📎 Attachment".to_owned()
    } else {
        message.content.clone()
    };
    match (&facts.kind, &facts.event.kind) {
        (PushKind::Reaction, EventKind::MessageUpdate(update)) => {
            let emoji = update.reaction.as_ref().map(|r| r.emoji.as_str()).unwrap_or_default();
            preview_of(&format!("Reacted {emoji} to “{content}”"))
        }
        (PushKind::AddedToGroup, _) => preview_of(&format!("{sender_name} added you")),
        _ => preview_of(&content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::MessageUpdate;
    use crate::ids::ChatId;
    use crate::message::{ReactionChange, SystemInfo};
    use crate::services::test_support::text_message;

    fn event(actor: UserId, kind: EventKind) -> ChatEvent {
        ChatEvent { room_id: ChatId::new(), event_seq: 1, actor, kind }
    }

    #[test]
    fn a_message_concerns_the_other_members_a_reaction_the_author_and_being_added_the_added() {
        let (asha, ravi, chen) = (UserId::new(), UserId::new(), UserId::new());
        let members = [asha, ravi, chen];
        let message = text_message(ChatId::new(), asha, 4);
        assert_eq!(
            audience(&event(asha, EventKind::Message(message.clone())), &members),
            Some((PushKind::Message, vec![ravi, chen]))
        );

        let reaction = |by: UserId, removed: bool| {
            EventKind::MessageUpdate(MessageUpdate {
                action: UpdateAction::Reaction,
                message: message.clone(),
                reaction: Some(ReactionChange { emoji: "👍".into(), user_id: by, removed }),
            })
        };
        assert_eq!(audience(&event(ravi, reaction(ravi, false)), &members), Some((PushKind::Reaction, vec![asha])));
        assert_eq!(
            audience(&event(ravi, reaction(ravi, true)), &members),
            None,
            "taking a reaction back pushes nobody"
        );
        assert_eq!(audience(&event(asha, reaction(asha, false)), &members), None, "nor reacting to one's own");
        assert_eq!(audience(&event(ravi, reaction(ravi, false)), &[ravi, chen]), None, "nor an author who left");

        let mut added = text_message(ChatId::new(), asha, 5);
        added.system = Some(SystemInfo {
            action: SystemAction::MemberAdded,
            actor_id: asha,
            user_ids: vec![chen],
            role: None,
            call: None,
        });
        assert_eq!(
            audience(&event(asha, EventKind::Message(added.clone())), &members),
            Some((PushKind::AddedToGroup, vec![chen]))
        );
        added.system = Some(SystemInfo {
            action: SystemAction::GroupUpdated,
            actor_id: asha,
            user_ids: vec![],
            role: None,
            call: None,
        });
        assert_eq!(
            audience(&event(asha, EventKind::Message(added)), &members),
            None,
            "other system messages push nobody"
        );
    }
}
