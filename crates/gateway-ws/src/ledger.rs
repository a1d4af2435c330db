//! Which events of each chat a device has, and what to do with each event that
//! comes so that it gets every one exactly once and in order: a duplicate is
//! dropped, and a gap (an event that arrives before one it follows) is filled from
//! the chat's log first, unless the missing events come live within a moment (see
//! `early`). No I/O: the connection reads the log and writes the socket, and tells
//! the ledger what it read; the ledger says what to send.

use crate::early::Early;
use chitchat_domain::event::EventDelivery;
use chitchat_domain::services::CatchUp;
use chitchat_domain::{ChatId, DomainError};
use std::collections::HashMap;
use std::time::Instant;

/// The events of one chat this device has: all up to `last`, except that it may
/// lack those before `first` (which it never asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    first: i64,
    last: i64,
}

/// What a device has been sent, per chat, and the live events waiting for earlier ones.
#[derive(Default)]
pub(crate) struct Ledger {
    spans: HashMap<ChatId, Span>,
    /// Live events that came before the ones they follow, waiting for them.
    early: Early,
    /// False until live events may flow: at once, or once the first frame of a
    /// client that resumes first (`?resume=1`) is answered, so that replayed events
    /// come first.
    live: bool,
    /// Where the chats stood just after the socket subscribed, to read what was
    /// stored while it did (`go_live`).
    stored_while_subscribing: Vec<(ChatId, i64)>,
}

/// What to do with a live event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Live {
    /// The device has it: drop it.
    Duplicate,
    /// Send it (the ledger counts it as sent), then the events `next_held` gives.
    Send,
    /// It waits for the events before it.
    Held,
    /// Send the chat's events after `from` from the log (`replayed`).
    CatchUp { from: i64 },
}

/// What to send after reading a chat's log from a position.
#[derive(Debug)]
pub(crate) enum Replay {
    /// These events, in order; the device is then at `reached`.
    Events { events: Vec<EventDelivery>, reached: i64 },
    /// Too much is missing: a `resync` frame; the device continues from `reached`.
    Resync { reached: i64 },
    /// Nothing: the caller may not read the chat, which the ledger forgets.
    NotReadable,
    /// The log could not be read: an `error` frame. The device stays at `reached`,
    /// so the chat's next live event finds the gap again and retries.
    Failed { error: DomainError, reached: i64 },
}

impl Ledger {
    /// The device has every event of the chats in `before_subscribing` up to the
    /// position given, read just before the socket subscribed to live events;
    /// `after_subscribing`, read just after, tells which chats moved in between.
    pub(crate) fn start(&mut self, before_subscribing: Vec<(ChatId, i64)>, after_subscribing: Vec<(ChatId, i64)>) {
        self.spans =
            before_subscribing.into_iter().map(|(chat, last)| (chat, Span { first: last + 1, last })).collect();
        self.stored_while_subscribing = after_subscribing;
    }

    /// Whether live events may flow; until then they wait in the socket's queue.
    pub(crate) fn is_live(&self) -> bool {
        self.live
    }

    /// Lets live events flow. Returns, the first time only, the positions the chats
    /// reached while the socket subscribed: catch up to them (`behind`) before the
    /// first live event.
    pub(crate) fn go_live(&mut self) -> Vec<(ChatId, i64)> {
        self.live = true;
        std::mem::take(&mut self.stored_while_subscribing)
    }

    /// Decides what becomes of a live event. An event that comes before one it
    /// follows waits a moment for it (events of one batch are published in no
    /// particular order); if the gap stays (`overdue`), or too many wait, it is
    /// filled from the log.
    pub(crate) fn live(&mut self, event: &EventDelivery, now: Instant) -> Live {
        match self.spans.get(&event.room_id).copied() {
            Some(span) if event.event_seq <= span.last => Live::Duplicate,
            Some(span) if event.event_seq > span.last + 1 => {
                if self.early.hold(event, now) {
                    Live::Held
                } else {
                    Live::CatchUp { from: span.last }
                }
            }
            // Also a chat the device has no position in (created or joined after the
            // socket opened): its span starts at the first event it gets.
            known => {
                self.record_next(event.room_id, event.event_seq, known);
                Live::Send
            }
        }
    }

    /// The held event that directly follows what the device has of `chat`, counted
    /// as sent; call after `Live::Send` until None.
    pub(crate) fn next_held(&mut self, chat: ChatId) -> Option<EventDelivery> {
        let known = self.spans.get(&chat).copied()?;
        let next = self.early.next_after(chat, known.last)?;
        self.record_next(chat, next.event_seq, Some(known));
        Some(next)
    }

    fn record_next(&mut self, chat: ChatId, event_seq: i64, known: Option<Span>) {
        let first = known.map_or(event_seq, |span| span.first);
        self.spans.insert(chat, Span { first, last: event_seq });
    }

    /// The position to catch up `chat` from when its log reaches `event_seq`
    /// (announced, or read) and the device is behind it; None when it is not, or
    /// does not follow the chat.
    pub(crate) fn behind(&self, chat: ChatId, event_seq: i64) -> Option<i64> {
        self.spans.get(&chat).filter(|span| span.last < event_seq).map(|span| span.last)
    }

    /// The chats whose gap stayed open past the wait, with the position to fill it from.
    pub(crate) fn overdue(&self, now: Instant) -> Vec<(ChatId, i64)> {
        let from = |chat: &ChatId| self.spans.get(chat).map_or(0, |span| span.last);
        self.early.overdue(now).into_iter().map(|chat| (chat, from(&chat))).collect()
    }

    /// When the oldest wait for a missing event ends, if any event waits.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.early.deadline()
    }

    /// Every chat the device follows, with the last position it has.
    pub(crate) fn positions(&self) -> Vec<(ChatId, i64)> {
        self.spans.iter().map(|(chat, span)| (*chat, span.last)).collect()
    }

    /// Takes what the log of `chat` answered when asked for the events after
    /// `from`, and says what the device must be sent: the events it does not have.
    /// Live events held for the chat that the answer covers are dropped; those past
    /// it (they may have come while the log was read) keep waiting: send
    /// `next_held` after the replayed events.
    pub(crate) fn replayed(&mut self, chat: ChatId, from: i64, answer: Result<CatchUp, DomainError>) -> Replay {
        let known = self.spans.get(&chat).copied();
        let had = |seq: i64| known.is_some_and(|span| seq >= span.first && seq <= span.last);
        match answer {
            Ok(CatchUp::Events(mut events)) => {
                events.retain(|event| event.event_seq > from && !had(event.event_seq));
                let reached = events
                    .iter()
                    .map(|event| event.event_seq)
                    .fold(known.map_or(from, |span| span.last.max(from)), i64::max);
                let first = known.map_or(from + 1, |span| span.first.min(from + 1));
                self.spans.insert(chat, Span { first, last: reached });
                self.early.drop_through(chat, reached);
                Replay::Events { events, reached }
            }
            Ok(CatchUp::Reload { last_event_seq }) => {
                self.spans.insert(chat, Span { first: last_event_seq + 1, last: last_event_seq });
                self.early.drop_through(chat, last_event_seq);
                Replay::Resync { reached: last_event_seq }
            }
            Err(DomainError::NotFound { .. }) => {
                self.spans.remove(&chat);
                self.early.forget(chat);
                Replay::NotReadable
            }
            // Record what the device says it has, so that the next live event finds
            // the gap and retries the catch-up (not the held ones: their wait is
            // over, and would retry at once while the log is down).
            Err(error) => {
                self.early.forget(chat);
                let span = *self.spans.entry(chat).or_insert(Span { first: from + 1, last: from });
                Replay::Failed { error, reached: span.last }
            }
        }
    }
}

#[cfg(test)]
mod tests;
