//! The call frames the server sends (docs/protocol.md, "Calls"): the seed's
//! envelope `{type, room_id, payload}`, each payload naming its `call_id`.

use super::relay::{RelayBody, RelaySignal};
use super::rules::{CallEnd, EndReason, Outgoing, Signal};
use super::{Call, CallMedia};
use crate::event::{Delivery, DeviceTarget, EphemeralDelivery};
use crate::ids::{CallId, ChatId, DeviceId, UserId};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The caller as invitees' devices show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerProfile {
    pub id: UserId,
    pub display_name: String,
    /// Always null: accounts have no pictures yet.
    pub avatar_url: Option<String>,
}

#[derive(Serialize)]
struct Envelope<'a, P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    room_id: ChatId,
    payload: P,
}

fn frame<P: Serialize>(kind: &'static str, id: Option<&Value>, room_id: ChatId, payload: P) -> String {
    // Plain structs of ids, strings and numbers always serialise.
    serde_json::to_string(&Envelope { kind, id, room_id, payload }).unwrap_or_default()
}

#[derive(Serialize)]
struct Ringing<'a> {
    call_id: CallId,
    media: CallMedia,
    user_ids: &'a [UserId],
}

/// `call_ringing`: the answer to `call_invite`, echoing its `id`: whose devices ring.
pub fn ringing_frame(call: &Call, id: Option<&Value>) -> String {
    frame("call_ringing", id, call.chat_id, Ringing { call_id: call.id, media: call.media, user_ids: &call.ringing() })
}

#[derive(Serialize)]
struct Invite<'a> {
    call_id: CallId,
    media: CallMedia,
    caller: &'a CallerProfile,
    participants: Vec<UserId>,
}

#[derive(Serialize)]
struct Accepted {
    call_id: CallId,
    user_id: UserId,
    participants: Vec<UserId>,
}

#[derive(Serialize)]
struct AboutSomeone {
    call_id: CallId,
    user_id: UserId,
}

#[derive(Serialize)]
struct Ended {
    call_id: CallId,
    reason: EndReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_secs: Option<i64>,
}

/// The text of an outgoing frame, from the call as it is after the step.
/// `caller` is needed for `call_invite` only.
fn render(out: &Outgoing, call: &Call, end: Option<&CallEnd>, caller: Option<&CallerProfile>) -> String {
    let (room, call_id) = (call.chat_id, call.id);
    match out.signal {
        Signal::Invite => {
            let fallback = CallerProfile { id: call.caller, display_name: String::new(), avatar_url: None };
            let caller = caller.unwrap_or(&fallback);
            let invite = Invite { call_id, media: call.media, caller, participants: call.user_ids() };
            frame("call_invite", None, room, invite)
        }
        Signal::Accepted { user_id } => {
            let participants = call.joined().into_iter().map(|(user, _)| user).collect();
            frame("call_accept", None, room, Accepted { call_id, user_id, participants })
        }
        Signal::Declined { user_id } => frame("call_decline", None, room, AboutSomeone { call_id, user_id }),
        Signal::Busy { user_id } => frame("call_busy", None, room, AboutSomeone { call_id, user_id }),
        Signal::HungUp { user_id } => frame("call_hangup", None, room, AboutSomeone { call_id, user_id }),
        Signal::Ended { reason } => {
            let duration_secs = end.and_then(|end| end.duration_secs).filter(|_| reason == EndReason::Hangup);
            frame("call_ended", None, room, Ended { call_id, reason, duration_secs })
        }
    }
}

impl Outgoing {
    /// What the bus carries: the frame for the chosen devices of `to`.
    pub fn to_delivery(&self, call: &Call, end: Option<&CallEnd>, caller: Option<&CallerProfile>) -> Delivery {
        Delivery::Ephemeral(EphemeralDelivery {
            room_id: Some(call.chat_id),
            frame: Arc::from(render(self, call, end, caller)),
            devices: self.devices.clone(),
        })
    }
}

#[derive(Serialize)]
struct RelayedSdp<'a> {
    call_id: CallId,
    from_user_id: UserId,
    sdp: &'a str,
}

#[derive(Serialize)]
struct RelayedCandidate<'a> {
    call_id: CallId,
    from_user_id: UserId,
    /// Null marks the end of the candidates.
    candidate: &'a Value,
}

impl RelaySignal {
    /// The signal as `to_device` receives it: from whom instead of to whom.
    pub fn to_delivery(&self, chat: ChatId, from: UserId, to_device: DeviceId) -> Delivery {
        let (kind, call_id) = (self.kind.wire_type(), self.call_id);
        let text = match &self.body {
            RelayBody::Sdp(sdp) => frame(kind, None, chat, RelayedSdp { call_id, from_user_id: from, sdp }),
            RelayBody::Candidate(candidate) => {
                frame(kind, None, chat, RelayedCandidate { call_id, from_user_id: from, candidate })
            }
        };
        Delivery::Ephemeral(EphemeralDelivery {
            room_id: Some(chat),
            frame: Arc::from(text),
            devices: DeviceTarget::Only(vec![to_device]),
        })
    }
}
