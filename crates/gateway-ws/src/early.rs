//! Live events of a chat that arrive ahead of the one a device needs next wait here
//! a moment before the gap is filled from the chat's log. One batch of messages is
//! published by its senders' tasks in whatever order those run, so event 9 may come
//! a few microseconds before event 8; reading the log for every such gap would cost
//! each device of the chat a query (the fan-out profile in docs/benchmarks.md).

use chitchat_domain::event::EventDelivery;
use chitchat_domain::ChatId;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How long an early event waits for the ones before it.
pub(crate) const HOLD: Duration = Duration::from_millis(100);
/// Early events held per chat at most; past it the gap is filled at once.
const MAX_HELD: usize = 256;

/// The early events of a device, per chat.
#[derive(Default)]
pub(crate) struct Early {
    chats: HashMap<ChatId, Waiting>,
}

struct Waiting {
    /// When the chat's first held event came.
    since: Instant,
    events: BTreeMap<i64, EventDelivery>,
}

impl Early {
    /// Holds `event` until the ones before it come; false when its chat holds too
    /// many already, and the gap should be filled from the log now.
    pub(crate) fn hold(&mut self, event: &EventDelivery, now: Instant) -> bool {
        let waiting =
            self.chats.entry(event.room_id).or_insert_with(|| Waiting { since: now, events: BTreeMap::new() });
        if waiting.events.len() >= MAX_HELD {
            return false;
        }
        waiting.events.insert(event.event_seq, event.clone());
        true
    }

    /// The held event that directly follows `last` in `chat`, if it is held. Held
    /// events at or below `last` are dropped: the device has them.
    pub(crate) fn next_after(&mut self, chat: ChatId, last: i64) -> Option<EventDelivery> {
        let waiting = self.chats.get_mut(&chat)?;
        while waiting.events.first_key_value().is_some_and(|(seq, _)| *seq <= last) {
            waiting.events.pop_first();
        }
        let next = match waiting.events.first_key_value() {
            Some((seq, _)) if *seq == last + 1 => waiting.events.pop_first().map(|(_, event)| event),
            _ => None,
        };
        if waiting.events.is_empty() {
            self.chats.remove(&chat);
        }
        next
    }

    /// Drops what `chat` holds.
    pub(crate) fn forget(&mut self, chat: ChatId) {
        self.chats.remove(&chat);
    }

    /// Drops the events `chat` holds up to `last`: its log has been read that far.
    pub(crate) fn drop_through(&mut self, chat: ChatId, last: i64) {
        if let Some(waiting) = self.chats.get_mut(&chat) {
            waiting.events.retain(|seq, _| *seq > last);
            if waiting.events.is_empty() {
                self.chats.remove(&chat);
            }
        }
    }

    /// When the oldest wait ends, if anything is held.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.chats.values().map(|waiting| waiting.since + HOLD).min()
    }

    /// The chats whose wait has ended by `now`.
    pub(crate) fn overdue(&self, now: Instant) -> Vec<ChatId> {
        self.chats.iter().filter(|(_, waiting)| waiting.since + HOLD <= now).map(|(chat, _)| *chat).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn event(chat: ChatId, seq: i64) -> EventDelivery {
        EventDelivery { room_id: chat, event_seq: seq, frame: Arc::from(format!("{seq}")), message_stored_at: None }
    }

    #[test]
    fn held_events_come_out_in_order_once_the_missing_one_is_there() {
        let (mut early, chat, now) = (Early::default(), ChatId::new(), Instant::now());
        assert!(early.hold(&event(chat, 10), now));
        assert!(early.hold(&event(chat, 9), now));
        // Event 8 is delivered live; then 9 and 10 follow, and nothing more.
        assert_eq!(early.next_after(chat, 8).map(|e| e.event_seq), Some(9));
        assert_eq!(early.next_after(chat, 9).map(|e| e.event_seq), Some(10));
        assert_eq!(early.next_after(chat, 10), None);
        assert_eq!(early.deadline(), None, "nothing is held any more");
    }

    #[test]
    fn a_gap_that_stays_open_is_overdue_after_the_hold() {
        let (mut early, chat, other, now) = (Early::default(), ChatId::new(), ChatId::new(), Instant::now());
        early.hold(&event(chat, 12), now);
        early.hold(&event(other, 3), now + HOLD / 2);
        assert_eq!(early.next_after(chat, 10), None, "11 is still missing");
        assert_eq!(early.deadline(), Some(now + HOLD));
        assert!(early.overdue(now + HOLD / 2).is_empty());
        assert_eq!(early.overdue(now + HOLD), vec![chat]);
        early.forget(chat);
        assert_eq!(early.deadline(), Some(now + HOLD / 2 + HOLD), "the other chat still waits");
    }

    #[test]
    fn events_the_device_has_are_dropped_and_a_full_chat_refuses_more() {
        let (mut early, chat, now) = (Early::default(), ChatId::new(), Instant::now());
        for seq in 0..MAX_HELD as i64 {
            assert!(early.hold(&event(chat, 100 + seq), now));
        }
        assert!(!early.hold(&event(chat, 1000), now), "past the limit the gap is filled at once");
        // The log was read up to 150: held events up to there are dropped.
        assert_eq!(early.next_after(chat, 150).map(|e| e.event_seq), Some(151));
    }
}
