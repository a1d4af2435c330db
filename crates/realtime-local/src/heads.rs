//! The newest event of each chat this instance published lately, announced to the
//! other instances a moment later. A live event can fail to reach another instance
//! (a `PUBLISH` that times out, a subscriber dropped by Redis); the announcement
//! tells that instance's devices how far the chat's log reaches, so a device that
//! lost the chat's last event catches up from the log at once rather than at the
//! chat's next event. An announcement is repeated until it got through
//! `ANNOUNCEMENTS` times, so that a failed publish is made good once the relay is back.

use chitchat_domain::{ChatId, UserId};
use std::collections::HashMap;
use std::sync::Arc;

/// How many successful announcements a chat's newest event gets.
const ANNOUNCEMENTS: u8 = 2;

/// One announcement: the chat's log reaches `event_seq`; for `recipients`' devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Announcement {
    pub(crate) chat: ChatId,
    pub(crate) event_seq: i64,
    pub(crate) recipients: Arc<[UserId]>,
}

struct Head {
    /// The newest event published, and who got it.
    latest: i64,
    recipients: Arc<[UserId]>,
    /// `latest` as it was at the previous tick: its events have had a whole tick to
    /// arrive live, so a device behind it lost one.
    settled: Option<i64>,
    /// The newest position announced successfully, and how many times.
    announced: i64,
    times: u8,
}

/// Per chat, what this instance published and has still to announce.
#[derive(Default)]
pub(crate) struct Heads {
    chats: HashMap<ChatId, Head>,
}

impl Heads {
    /// Notes that event `event_seq` of `chat` was published to `recipients`.
    pub(crate) fn record(&mut self, chat: ChatId, event_seq: i64, recipients: &[UserId]) {
        let head = self.chats.entry(chat).or_insert_with(|| Head {
            latest: event_seq,
            recipients: Arc::from(recipients),
            settled: None,
            announced: 0,
            times: 0,
        });
        if event_seq >= head.latest {
            head.latest = event_seq;
            if *head.recipients != *recipients {
                head.recipients = Arc::from(recipients);
            }
        }
    }

    /// What to announce at this tick: each chat's position as of the previous tick,
    /// unless it has been announced often enough. Then takes this tick's positions.
    pub(crate) fn due(&mut self) -> Vec<Announcement> {
        let mut due = Vec::new();
        for (chat, head) in &mut self.chats {
            if let Some(settled) = head.settled {
                if settled > head.announced || head.times < ANNOUNCEMENTS {
                    due.push(Announcement { chat: *chat, event_seq: settled, recipients: head.recipients.clone() });
                }
            }
            head.settled = Some(head.latest);
        }
        due
    }

    /// Counts an announcement that got through; a chat with nothing newer to say is
    /// forgotten once announced `ANNOUNCEMENTS` times.
    pub(crate) fn announced(&mut self, chat: ChatId, event_seq: i64) {
        let Some(head) = self.chats.get_mut(&chat) else { return };
        if event_seq > head.announced {
            head.announced = event_seq;
            head.times = 1;
        } else if event_seq == head.announced {
            head.times = head.times.saturating_add(1);
        }
        if head.announced == head.latest && head.times >= ANNOUNCEMENTS {
            self.chats.remove(&chat);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.chats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(due: &[Announcement]) -> Vec<i64> {
        due.iter().map(|a| a.event_seq).collect()
    }

    #[test]
    fn a_position_is_announced_one_tick_after_it_was_published_and_then_forgotten() {
        let (mut heads, chat, users) = (Heads::default(), ChatId::new(), [UserId::new(), UserId::new()]);
        heads.record(chat, 4, &users);
        heads.record(chat, 5, &users);
        assert!(heads.due().is_empty(), "events published since the last tick may still be on their way");
        let due = heads.due();
        assert_eq!(seqs(&due), [5]);
        assert_eq!(*due[0].recipients, users);
        heads.announced(chat, 5);
        assert_eq!(seqs(&heads.due()), [5], "announced once more");
        heads.announced(chat, 5);
        assert_eq!(heads.len(), 0, "nothing left to say");
    }

    #[test]
    fn an_announcement_that_failed_is_made_again_at_every_tick() {
        let (mut heads, chat) = (Heads::default(), ChatId::new());
        heads.record(chat, 1, &[UserId::new()]);
        heads.due();
        for _ in 0..5 {
            // The publish failed: `announced` is not called.
            assert_eq!(seqs(&heads.due()), [1]);
        }
        heads.announced(chat, 1);
        heads.announced(chat, 1);
        assert_eq!(heads.len(), 0);
    }

    #[test]
    fn a_busy_chat_announces_where_it_stood_a_tick_ago() {
        let (mut heads, chat, users) = (Heads::default(), ChatId::new(), [UserId::new()]);
        heads.record(chat, 1, &users);
        heads.due();
        heads.record(chat, 2, &users);
        assert_eq!(seqs(&heads.due()), [1]);
        heads.announced(chat, 1);
        heads.record(chat, 3, &users);
        assert_eq!(seqs(&heads.due()), [2], "the newer position is due, however often the older one was said");
        heads.announced(chat, 2);
        heads.announced(chat, 2);
        assert_eq!(heads.len(), 1, "event 3 is still to be announced");
        assert_eq!(seqs(&heads.due()), [3]);
    }
}
