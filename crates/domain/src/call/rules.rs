//! How a call moves: each rule takes the call as stored and returns the call as it
//! is to be stored, the frames to send (and to which devices), and whether it ended.

use super::{call_not_found, Call, CallMedia, CallOutcome, CallPolicy, Participant, ParticipantState};
use crate::chat::ChatKind;
use crate::error::{DomainError, DomainResult};
use crate::event::DeviceTarget;
use crate::ids::{CallId, ChatId, DeviceId, UserId};
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A call about to start.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub id: CallId,
    pub chat_id: ChatId,
    pub chat_kind: ChatKind,
    pub caller: UserId,
    pub caller_device: DeviceId,
    pub media: CallMedia,
    /// The other members, each with whether they are in another call.
    pub invitees: Vec<(UserId, bool)>,
}

/// Why a device's part in a call is over (`call_ended`'s `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Another device of the same person answered (or took the call over).
    AnsweredElsewhere,
    Declined,
    Missed,
    Busy,
    /// The call ended after it was answered.
    Hangup,
    /// The device dropped and did not come back in time.
    Left,
}

/// What one outgoing frame says; rendered with the call as it is after the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `call_invite`: ring.
    Invite,
    /// `call_accept`: `user_id` joined (or came back).
    Accepted { user_id: UserId },
    /// `call_decline`
    Declined { user_id: UserId },
    /// `call_busy`: `user_id` is in another call and was not rung.
    Busy { user_id: UserId },
    /// `call_hangup`: `user_id` left.
    HungUp { user_id: UserId },
    /// `call_ended`
    Ended { reason: EndReason },
}

/// A frame for some devices of some people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: Vec<UserId>,
    pub devices: DeviceTarget,
    pub signal: Signal,
}

/// How an ended call went, for its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEnd {
    pub outcome: CallOutcome,
    /// From the first answer to the end, on an answered call.
    pub duration_secs: Option<i64>,
    pub at: DateTime<Utc>,
}

/// The result of a rule: the call as it now is, what to send, and its end if it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub call: Call,
    pub out: Vec<Outgoing>,
    pub end: Option<CallEnd>,
}

fn not_in_call(message: &str) -> DomainError {
    DomainError::conflict(ErrorCode::NotInCall, message)
}

/// A step being built: changes to the call and the frames they cause.
struct Builder {
    call: Call,
    out: Vec<Outgoing>,
}

impl Builder {
    fn new(call: &Call) -> Self {
        Self { call: call.clone(), out: Vec::new() }
    }

    fn set(&mut self, user: UserId, state: ParticipantState) {
        if let Some(p) = self.call.participants.iter_mut().find(|p| p.user_id == user) {
            p.state = state;
        }
    }

    fn send(&mut self, to: Vec<UserId>, devices: DeviceTarget, signal: Signal) {
        if !to.is_empty() {
            self.out.push(Outgoing { to, devices, signal });
        }
    }

    /// To every person's every device.
    fn tell_all_devices_of(&mut self, users: Vec<UserId>, signal: Signal) {
        self.send(users, DeviceTarget::All, signal);
    }

    /// To the devices joined to the call (as it is at this point of the step).
    fn tell_joined(&mut self, signal: Signal) {
        let (users, devices): (Vec<UserId>, Vec<DeviceId>) = self.call.joined().into_iter().unzip();
        self.send(users, DeviceTarget::Only(devices), signal);
    }

    fn tell_device(&mut self, user: UserId, device: DeviceId, signal: Signal) {
        self.send(vec![user], DeviceTarget::Only(vec![device]), signal);
    }

    fn tell_other_devices(&mut self, user: UserId, device: DeviceId, signal: Signal) {
        self.send(vec![user], DeviceTarget::AllBut(vec![device]), signal);
    }

    /// Ends the call when it is over: the caller left before anyone answered, or
    /// fewer than two people are in it and nobody rings any more. Everyone still
    /// ringing or in it is told why.
    fn settle(mut self, now: DateTime<Utc>) -> Step {
        let in_call = self.call.engaged().len();
        let ringing = self.call.ringing();
        let caller_gave_up =
            self.call.answered_at.is_none() && self.call.state_of(self.call.caller) == Some(ParticipantState::Left);
        if !caller_gave_up && (in_call >= 2 || !ringing.is_empty()) {
            return Step { call: self.call, out: self.out, end: None };
        }
        let outcome = self.call.outcome();
        let reason = match outcome {
            CallOutcome::Answered => EndReason::Hangup,
            CallOutcome::Missed => EndReason::Missed,
            CallOutcome::Declined => EndReason::Declined,
            CallOutcome::Busy => EndReason::Busy,
        };
        // A dropped device may be back on another socket: all of that person's devices hear it.
        let mut anywhere = ringing;
        anywhere.extend(
            self.call
                .participants
                .iter()
                .filter(|p| matches!(p.state, ParticipantState::Dropped { .. }))
                .map(|p| p.user_id),
        );
        self.tell_all_devices_of(anywhere, Signal::Ended { reason });
        self.tell_joined(Signal::Ended { reason });
        for participant in &mut self.call.participants {
            participant.state = match participant.state {
                ParticipantState::Ringing { .. } => ParticipantState::Missed,
                ParticipantState::Joined { .. } | ParticipantState::Dropped { .. } => ParticipantState::Left,
                done => done,
            };
        }
        let duration_secs = self.call.answered_at.map(|answered| (now - answered).num_seconds().max(0));
        Step { call: self.call, out: self.out, end: Some(CallEnd { outcome, duration_secs, at: now }) }
    }

    /// Nothing to store and nothing to send.
    fn unchanged(self) -> Step {
        Step { call: self.call, out: Vec::new(), end: None }
    }
}

impl Call {
    /// A new call: the caller is in it on their device, every invitee who is not
    /// in another call rings (the others are reported busy to the caller).
    pub fn start(new: NewCall, now: DateTime<Utc>, policy: &CallPolicy) -> Step {
        let mut participants = vec![Participant {
            user_id: new.caller,
            state: ParticipantState::Joined { device: new.caller_device, since: now },
        }];
        participants.extend(new.invitees.iter().map(|(user_id, busy)| Participant {
            user_id: *user_id,
            state: if *busy {
                ParticipantState::Busy
            } else {
                ParticipantState::Ringing { until: now + policy.ring_timeout }
            },
        }));
        let call = Call {
            id: new.id,
            chat_id: new.chat_id,
            chat_kind: new.chat_kind,
            caller: new.caller,
            media: new.media,
            participants,
            started_at: now,
            answered_at: None,
            version: 0,
        };
        let mut step = Builder::new(&call);
        step.tell_all_devices_of(call.ringing(), Signal::Invite);
        for (user_id, _) in new.invitees.iter().filter(|(_, busy)| *busy) {
            step.tell_device(new.caller, new.caller_device, Signal::Busy { user_id: *user_id });
        }
        step.settle(now)
    }

    /// `user` answers on `device`, or comes back to the call on it (after a drop,
    /// or moving from another device of theirs).
    pub fn accept(&self, user: UserId, device: DeviceId, now: DateTime<Utc>) -> DomainResult<Step> {
        let mut step = Builder::new(self);
        let previous_device = match self.state_of(user) {
            Some(ParticipantState::Joined { device: joined, .. }) if joined == device => {
                // Already in on this device: it is told again who is in.
                step.tell_device(user, device, Signal::Accepted { user_id: user });
                return Ok(Step { call: self.clone(), out: step.out, end: None });
            }
            Some(
                ParticipantState::Joined { device: joined, .. } | ParticipantState::Dropped { device: joined, .. },
            ) => Some(joined),
            Some(ParticipantState::Ringing { .. }) => None,
            _ => return Err(call_not_found()),
        };
        step.set(user, ParticipantState::Joined { device, since: now });
        if user != self.caller && self.answered_at.is_none() {
            step.call.answered_at = Some(now);
        }
        step.tell_joined(Signal::Accepted { user_id: user });
        match previous_device {
            Some(previous) => step.tell_device(user, previous, Signal::Ended { reason: EndReason::AnsweredElsewhere }),
            None => step.tell_other_devices(user, device, Signal::Ended { reason: EndReason::AnsweredElsewhere }),
        }
        Ok(step.settle(now))
    }

    /// `user` declines on `device`: their devices stop ringing. Declining a call
    /// one no longer rings for changes nothing.
    pub fn decline(&self, user: UserId, device: DeviceId, now: DateTime<Utc>) -> DomainResult<Step> {
        let step = Builder::new(self);
        match self.state_of(user) {
            None => Err(call_not_found()),
            Some(ParticipantState::Ringing { .. }) => {
                let mut step = step;
                step.set(user, ParticipantState::Declined);
                step.tell_joined(Signal::Declined { user_id: user });
                step.tell_other_devices(user, device, Signal::Ended { reason: EndReason::Declined });
                Ok(step.settle(now))
            }
            Some(_) => Ok(step.unchanged()),
        }
    }

    /// `user` hangs up from `device`: they leave (from whichever device they
    /// joined on); a ringing invitee declines. Hanging up a call one is no
    /// longer in changes nothing.
    pub fn hang_up(&self, user: UserId, device: DeviceId, now: DateTime<Utc>) -> DomainResult<Step> {
        let mut step = Builder::new(self);
        let joined_on = match self.state_of(user) {
            None => return Err(call_not_found()),
            Some(ParticipantState::Ringing { .. }) => return self.decline(user, device, now),
            Some(ParticipantState::Joined { device: on, .. } | ParticipantState::Dropped { device: on, .. }) => on,
            Some(_) => return Ok(step.unchanged()),
        };
        step.set(user, ParticipantState::Left);
        step.tell_joined(Signal::HungUp { user_id: user });
        if joined_on != device {
            step.tell_device(user, joined_on, Signal::Ended { reason: EndReason::Hangup });
        }
        Ok(step.settle(now))
    }

    /// The socket of `device` closed: if `user` is in the call on it, they have
    /// `drop_timeout` to come back.
    pub fn device_closed(&self, user: UserId, device: DeviceId, now: DateTime<Utc>, policy: &CallPolicy) -> Step {
        let mut step = Builder::new(self);
        if let Some(ParticipantState::Joined { device: joined, .. }) = self.state_of(user) {
            if joined == device {
                step.set(user, ParticipantState::Dropped { device, until: now + policy.drop_timeout });
            }
        }
        Step { call: step.call, out: Vec::new(), end: None }
    }

    /// Applies the deadlines passed at `now`: ringing invitees who did not answer
    /// stop ringing, dropped devices that did not come back have left.
    pub fn expire(&self, now: DateTime<Utc>) -> Step {
        let mut step = Builder::new(self);
        for participant in &self.participants {
            match participant.state {
                ParticipantState::Ringing { until } if until <= now => {
                    step.set(participant.user_id, ParticipantState::Missed);
                    step.tell_all_devices_of(vec![participant.user_id], Signal::Ended { reason: EndReason::Missed });
                }
                ParticipantState::Dropped { until, .. } if until <= now => {
                    step.set(participant.user_id, ParticipantState::Left);
                    step.tell_all_devices_of(vec![participant.user_id], Signal::Ended { reason: EndReason::Left });
                }
                _ => {}
            }
        }
        let left: Vec<UserId> = self
            .participants
            .iter()
            .filter(|p| matches!(p.state, ParticipantState::Dropped { until, .. } if until <= now))
            .map(|p| p.user_id)
            .collect();
        for user_id in left {
            step.tell_joined(Signal::HungUp { user_id });
        }
        step.settle(now)
    }

    /// The device of `to` that a signal from `from` on `from_device` goes to:
    /// both must be joined.
    pub fn relay_target(&self, from: UserId, from_device: DeviceId, to: UserId) -> DomainResult<DeviceId> {
        match self.state_of(from) {
            None => return Err(call_not_found()),
            Some(ParticipantState::Joined { device, .. }) if device == from_device => {}
            Some(_) => return Err(not_in_call("this device has not joined the call")),
        }
        match self.state_of(to) {
            Some(ParticipantState::Joined { device, .. }) if to != from => Ok(device),
            _ => Err(not_in_call("that person has not joined the call")),
        }
    }
}
