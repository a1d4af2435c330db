//! Calls (WebRTC voice and video, signalled through the server): who is in a
//! call and how it goes. Pure values and rules; `CallService` reads and stores
//! calls through the `CallRegistry` port and sends what the rules decide.

mod frames;
mod relay;
mod rules;

pub use frames::{ringing_frame, CallerProfile};
pub use relay::{RelayBody, RelayKind, RelaySignal, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES};
pub use rules::{CallEnd, EndReason, NewCall, Outgoing, Signal, Step};

use crate::chat::ChatKind;
use crate::error::DomainError;
use crate::ids::{CallId, ChatId, DeviceId, UserId};
use crate::ErrorCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The default of `CALL_MAX_PARTICIPANTS`: everyone sends their media to everyone
/// else (a full mesh), which a phone's uplink bears for about four people.
pub const DEFAULT_CALL_MAX_PARTICIPANTS: usize = 4;
/// The default of `CALL_RING_TIMEOUT`: how long an invitee's devices ring.
pub const DEFAULT_RING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);
/// The default of `CALL_DROP_TIMEOUT`: how long a joined device whose socket
/// closed may come back before it has left the call.
pub const DEFAULT_DROP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The knobs of calls, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Most members of a chat in which a call may start.
    pub max_participants: usize,
    pub ring_timeout: Duration,
    pub drop_timeout: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            max_participants: DEFAULT_CALL_MAX_PARTICIPANTS,
            ring_timeout: Duration::seconds(45),
            drop_timeout: Duration::seconds(30),
        }
    }
}

/// What a call carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallMedia {
    Voice,
    Video,
}

impl CallMedia {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "voice" => Ok(Self::Voice),
            "video" => Ok(Self::Video),
            other => Err(DomainError::invalid(
                ErrorCode::InvalidPayload,
                format!("media {other:?} is not supported; use voice or video"),
            )),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Video => "video",
        }
    }
}

/// Where one person stands in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ParticipantState {
    /// Every device of theirs rings, until `until`.
    Ringing { until: DateTime<Utc> },
    /// In the call on `device` (one socket) since `since`.
    Joined { device: DeviceId, since: DateTime<Utc> },
    /// Their device's socket closed; they are still in the call until `until`,
    /// unless a socket of theirs accepts the call again.
    Dropped { device: DeviceId, until: DateTime<Utc> },
    /// Said no.
    Declined,
    /// Was in another call when invited; never rang.
    Busy,
    /// Did not answer in time.
    Missed,
    /// Was in the call and left it (hung up, or dropped for too long).
    Left,
}

impl ParticipantState {
    /// In the call, on a device or about to come back to it.
    fn is_in_call(self) -> bool {
        matches!(self, Self::Joined { .. } | Self::Dropped { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub user_id: UserId,
    pub state: ParticipantState,
}

/// A call from its invitation until it ends, as the registry shares it between
/// instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    pub chat_id: ChatId,
    pub chat_kind: ChatKind,
    pub caller: UserId,
    pub media: CallMedia,
    /// The caller first, then everyone invited.
    pub participants: Vec<Participant>,
    pub started_at: DateTime<Utc>,
    /// When the first invitee answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// Moves on with every stored change, so that a change decided on an older
    /// version is refused (compare-and-swap) and decided again.
    pub version: u64,
}

impl Call {
    pub fn state_of(&self, user: UserId) -> Option<ParticipantState> {
        self.participants.iter().find(|p| p.user_id == user).map(|p| p.state)
    }

    /// Who is in the call (joined, or dropped and may come back): these are busy
    /// for other calls.
    pub fn engaged(&self) -> Vec<UserId> {
        self.participants.iter().filter(|p| p.state.is_in_call()).map(|p| p.user_id).collect()
    }

    /// Who is joined, with the device each joined on.
    pub fn joined(&self) -> Vec<(UserId, DeviceId)> {
        self.participants
            .iter()
            .filter_map(|p| match p.state {
                ParticipantState::Joined { device, .. } => Some((p.user_id, device)),
                _ => None,
            })
            .collect()
    }

    /// Whose devices ring.
    pub fn ringing(&self) -> Vec<UserId> {
        self.participants
            .iter()
            .filter(|p| matches!(p.state, ParticipantState::Ringing { .. }))
            .map(|p| p.user_id)
            .collect()
    }

    /// Everyone of the call, the caller first.
    pub fn user_ids(&self) -> Vec<UserId> {
        self.participants.iter().map(|p| p.user_id).collect()
    }

    /// The next moment a rule applies by itself (a ring or a drop runs out);
    /// None while nothing waits.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.participants
            .iter()
            .filter_map(|p| match p.state {
                ParticipantState::Ringing { until } | ParticipantState::Dropped { until, .. } => Some(until),
                _ => None,
            })
            .min()
    }

    /// How the call went, had it ended now.
    fn outcome(&self) -> CallOutcome {
        if self.answered_at.is_some() {
            return CallOutcome::Answered;
        }
        let invitees: Vec<ParticipantState> =
            self.participants.iter().filter(|p| p.user_id != self.caller).map(|p| p.state).collect();
        if !invitees.is_empty() && invitees.iter().all(|state| *state == ParticipantState::Busy) {
            CallOutcome::Busy
        } else if self.chat_kind == ChatKind::Direct && invitees.contains(&ParticipantState::Declined) {
            CallOutcome::Declined
        } else {
            CallOutcome::Missed
        }
    }
}

/// How a call went, as its record says.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Someone answered.
    Answered,
    /// Nobody answered: the caller gave up, the ringing ran out, or (in a group)
    /// everyone declined.
    Missed,
    /// The other person of a direct chat declined.
    Declined,
    /// Everyone invited was in another call.
    Busy,
}

/// The record of an ended call, in its system message (`system.call`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub call_id: CallId,
    pub media: CallMedia,
    pub outcome: CallOutcome,
    /// From the first answer to the end; only on `answered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
}

impl CallInfo {
    /// The sentence the system message shows: "Voice call (2:05)", "Missed video call".
    pub fn sentence(&self) -> String {
        let media = self.media.word();
        match self.outcome {
            CallOutcome::Answered => {
                let secs = self.duration_secs.unwrap_or(0).max(0);
                let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
                let length = if hours > 0 {
                    format!("{hours}:{minutes:02}:{seconds:02}")
                } else {
                    format!("{minutes}:{seconds:02}")
                };
                format!("{} call ({length})", capitalised(media))
            }
            CallOutcome::Missed => format!("Missed {media} call"),
            CallOutcome::Declined => format!("Declined {media} call"),
            CallOutcome::Busy => format!("{} call: busy", capitalised(media)),
        }
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The answer to a call the caller may not know of: unknown, ended, or not theirs.
pub fn call_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::CallNotFound, "call not found")
}

/// The answer to someone already in another call.
pub fn already_in_call() -> DomainError {
    DomainError::conflict(ErrorCode::AlreadyInCall, "you are already in a call; hang it up first")
}

#[cfg(test)]
mod tests;
