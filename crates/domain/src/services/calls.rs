//! Calls: who may call whom, ringing every device, the call's shared state and its
//! record in the chat. The rules are `crate::call`'s; this reads the facts,
//! stores each decision with compare-and-swap, and sends what was decided.

use super::guards::{refuse_if_call_blocked, require_member};
use super::messages::publish_message;
use super::Ports;
use crate::auth::Caller;
use crate::call::{
    already_in_call, call_not_found, Call, CallEnd, CallInfo, CallMedia, CallPolicy, CallerProfile, NewCall,
    ParticipantState, RelaySignal, Signal, Step,
};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::ids::{CallId, ChatId, DeviceId, MessageId, UserId};
use crate::message::{ContentType, MessageBody, NewMessage, SystemAction, SystemInfo};
use crate::ports::{CallRegistry, ChatRepo, ContactRepo, EventBus, MessageRepo, PushQueue, UserRepo};
use crate::ErrorCode;
use std::sync::Arc;

/// How often a change is decided again when another instance changed the call first.
const CAS_ATTEMPTS: usize = 8;

pub struct CallService {
    chats: Arc<dyn ChatRepo>,
    contacts: Arc<dyn ContactRepo>,
    users: Arc<dyn UserRepo>,
    messages: Arc<dyn MessageRepo>,
    calls: Arc<dyn CallRegistry>,
    bus: Arc<dyn EventBus>,
    push_queue: Arc<dyn PushQueue>,
    clock: Arc<dyn Clock>,
    policy: CallPolicy,
}

impl CallService {
    pub fn new(ports: &Ports, policy: CallPolicy) -> Self {
        Self {
            chats: ports.chats.clone(),
            contacts: ports.contacts.clone(),
            users: ports.users.clone(),
            messages: ports.messages.clone(),
            calls: ports.calls.clone(),
            bus: ports.bus.clone(),
            push_queue: ports.push_queue.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    pub fn policy(&self) -> CallPolicy {
        self.policy
    }

    /// Starts a call in `chat` from the caller's `device`: every other member's
    /// devices ring (those in another call are reported busy). Returns the call.
    pub async fn invite(&self, caller: Caller, device: DeviceId, chat: ChatId, media: CallMedia) -> DomainResult<Call> {
        require_member(self.chats.as_ref(), chat, caller.user_id).await?;
        let found = self.chats.get(chat).await?.ok_or_else(DomainError::chat_not_found)?;
        let others: Vec<UserId> = self
            .chats
            .members(chat)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .filter(|user| *user != caller.user_id)
            .collect();
        if others.len() + 1 > self.policy.max_participants {
            let max = self.policy.max_participants;
            return Err(DomainError::forbidden(
                ErrorCode::CallTooLarge,
                format!("calls are for chats of at most {max} members"),
            ));
        }
        refuse_if_call_blocked(self.contacts.as_ref(), found.kind, caller.user_id, &others).await?;
        if self.engaged_elsewhere(caller.user_id, None).await? {
            return Err(already_in_call());
        }
        let mut invitees = Vec::with_capacity(others.len());
        for user in others {
            invitees.push((user, self.engaged_elsewhere(user, None).await?));
        }
        let new = NewCall {
            id: CallId::new(),
            chat_id: chat,
            chat_kind: found.kind,
            caller: caller.user_id,
            caller_device: device,
            media,
            invitees,
        };
        let step = Call::start(new, self.clock.now(), &self.policy);
        // A call that ended as it started (everyone busy) is never stored.
        if step.end.is_none() && !self.calls.insert(&step.call).await? {
            return Err(already_in_call());
        }
        tracing::info!(call_id = %step.call.id, chat_id = %chat, caller = %caller.user_id, ?media, "call started");
        self.announce(&step).await;
        Ok(step.call)
    }

    /// Answers the call on `device`, or comes back to it after a drop.
    pub async fn accept(&self, caller: Caller, device: DeviceId, call: CallId) -> DomainResult<()> {
        let current = self.calls.get(call).await?.ok_or_else(call_not_found)?;
        if current.state_of(caller.user_id).is_none() {
            return Err(call_not_found());
        }
        // A member removed from the group since the call began may not join it.
        require_member(self.chats.as_ref(), current.chat_id, caller.user_id).await.map_err(|_| call_not_found())?;
        if self.engaged_elsewhere(caller.user_id, Some(call)).await? {
            return Err(already_in_call());
        }
        let now = self.clock.now();
        self.apply(call, |c| c.accept(caller.user_id, device, now)).await
    }

    pub async fn decline(&self, caller: Caller, device: DeviceId, call: CallId) -> DomainResult<()> {
        let now = self.clock.now();
        self.apply(call, |c| c.decline(caller.user_id, device, now)).await
    }

    pub async fn hang_up(&self, caller: Caller, device: DeviceId, call: CallId) -> DomainResult<()> {
        let now = self.clock.now();
        self.apply(call, |c| c.hang_up(caller.user_id, device, now)).await
    }

    /// Passes an offer, answer or ICE candidate on to the device with which its
    /// addressee joined the call; the sender's `device` must be joined too.
    pub async fn relay(&self, caller: Caller, device: DeviceId, signal: RelaySignal) -> DomainResult<()> {
        let call = self.calls.get(signal.call_id).await?.ok_or_else(call_not_found)?;
        let to_device = call.relay_target(caller.user_id, device, signal.to_user)?;
        self.bus.publish(&[signal.to_user], signal.to_delivery(call.chat_id, caller.user_id, to_device)).await
    }

    /// A socket of `user` closed: if it was in a call, the drop timeout starts.
    pub async fn device_closed(&self, user: UserId, device: DeviceId) -> DomainResult<()> {
        let Some(call) = self.calls.active_call_of(user).await? else { return Ok(()) };
        self.drop_device(call, user, device).await
    }

    /// Starts the drop timeout of `user`'s `device` in `call` (nothing if it ended).
    async fn drop_device(&self, call: CallId, user: UserId, device: DeviceId) -> DomainResult<()> {
        let (now, policy) = (self.clock.now(), self.policy);
        match self.apply(call, |c| Ok(c.device_closed(user, device, now, &policy))).await {
            Err(DomainError::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// `users` lost every device with an instance that died, without their
    /// sockets closing: a call they were joined to starts their drop timeout.
    pub async fn people_gone(&self, users: &[UserId]) {
        for user in users {
            let dropped = match self.joined_device_of(*user).await {
                Ok(Some((call, device))) => self.drop_device(call, *user, device).await,
                Ok(None) => Ok(()),
                Err(error) => Err(error),
            };
            if let Err(error) = dropped {
                tracing::warn!(user = %user, %error, "could not start the drop timeout of someone gone");
            }
        }
    }

    /// The call `user` is joined to and the device they joined with, if they are.
    async fn joined_device_of(&self, user: UserId) -> DomainResult<Option<(CallId, DeviceId)>> {
        let Some(call) = self.calls.active_call_of(user).await? else { return Ok(None) };
        Ok(match self.calls.get(call).await?.and_then(|found| found.state_of(user)) {
            Some(ParticipantState::Joined { device, .. }) => Some((call, device)),
            _ => None,
        })
    }

    /// Applies every deadline that has passed (ringing, drops). Each instance
    /// calls it every second; compare-and-swap lets one of them apply each.
    pub async fn expire_due(&self) -> DomainResult<()> {
        let now = self.clock.now();
        for call in self.calls.due(now).await? {
            match self.apply(call.id, |c| Ok(c.expire(now))).await {
                Ok(()) | Err(DomainError::NotFound { .. }) => {}
                Err(error) => tracing::warn!(call_id = %call.id, %error, "could not apply a call's deadline"),
            }
        }
        Ok(())
    }

    /// Whether `user` is in a live call other than `except`.
    async fn engaged_elsewhere(&self, user: UserId, except: Option<CallId>) -> DomainResult<bool> {
        Ok(self.calls.active_call_of(user).await?.is_some_and(|call| Some(call) != except))
    }

    /// Decides with `rule` on the stored call and stores the decision if the call
    /// did not change meanwhile (else decides again), then sends what it says.
    async fn apply(&self, id: CallId, rule: impl Fn(&Call) -> DomainResult<Step>) -> DomainResult<()> {
        for _ in 0..CAS_ATTEMPTS {
            let current = self.calls.get(id).await?.ok_or_else(call_not_found)?;
            let mut step = rule(&current)?;
            let stored = if step.end.is_some() {
                self.calls.remove(id, current.version).await?
            } else if step.call == current {
                true
            } else {
                step.call.version = current.version + 1;
                self.calls.replace(current.version, &step.call).await?
            };
            if stored {
                self.announce(&step).await;
                return Ok(());
            }
        }
        Err(DomainError::unavailable("the call kept changing; try again"))
    }

    /// Sends the step's frames and, when the call ended, writes its record.
    async fn announce(&self, step: &Step) {
        let caller = if step.out.iter().any(|o| o.signal == Signal::Invite) {
            Some(self.caller_profile(step.call.caller).await)
        } else {
            None
        };
        for out in &step.out {
            let delivery = out.to_delivery(&step.call, step.end.as_ref(), caller.as_ref());
            if let Err(error) = self.bus.publish(&out.to, delivery).await {
                tracing::warn!(call_id = %step.call.id, %error, "a call frame could not be sent");
            }
        }
        if let Some(end) = &step.end {
            self.record(&step.call, end).await;
        }
    }

    async fn caller_profile(&self, caller: UserId) -> CallerProfile {
        let display_name = match self.users.get(caller).await {
            Ok(Some(user)) => user.name,
            Ok(None) => String::new(),
            Err(error) => {
                tracing::warn!(user = %caller, %error, "could not read the caller's name for an invitation");
                String::new()
            }
        };
        CallerProfile { id: caller, display_name, avatar_url: None }
    }

    /// Writes the ended call once, as a system message in its chat, and sends it
    /// to the members like any new message. A failure is only logged.
    async fn record(&self, call: &Call, end: &CallEnd) {
        let info =
            CallInfo { call_id: call.id, media: call.media, outcome: end.outcome, duration_secs: end.duration_secs };
        tracing::info!(call_id = %call.id, chat_id = %call.chat_id, outcome = ?end.outcome, duration_secs = ?end.duration_secs, "call ended");
        let content = match MessageBody::parse(info.sentence()) {
            Ok(content) => content,
            Err(error) => {
                tracing::error!(call_id = %call.id, %error, "a call's record has no sentence");
                return;
            }
        };
        let invitees = call.user_ids().into_iter().filter(|user| *user != call.caller).collect();
        let message = NewMessage {
            id: MessageId::new(),
            chat_id: call.chat_id,
            sender_id: call.caller,
            content,
            content_type: ContentType::System,
            client_msg_id: None,
            created_at: end.at,
            system: Some(SystemInfo {
                action: SystemAction::Call,
                actor_id: call.caller,
                user_ids: invitees,
                role: None,
                call: Some(info),
            }),
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        };
        let appended = match self.messages.append(&message).await {
            Ok(appended) => appended,
            Err(error) => {
                tracing::error!(call_id = %call.id, chat_id = %call.chat_id, %error, "could not store a call's record");
                return;
            }
        };
        let Some(event_seq) = appended.event_seq else { return };
        match self.chats.members(call.chat_id).await {
            Ok(members) => {
                let recipients: Vec<UserId> = members.into_iter().map(|m| m.user_id).collect();
                publish_message(self.bus.as_ref(), self.push_queue.as_ref(), &recipients, &appended.message, event_seq)
                    .await;
            }
            Err(error) => {
                // The record is durable; devices catch up from the log.
                tracing::warn!(chat_id = %call.chat_id, %error, "could not load members to send a call's record");
            }
        }
    }
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
