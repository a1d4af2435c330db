//! The ledger driven as the connection drives it, against a chat log and a device
//! that records what it gets: each test asserts what the device would notice.

use super::*;
use crate::early::HOLD;
use std::sync::Arc;

fn event(chat: ChatId, seq: i64) -> EventDelivery {
    EventDelivery { room_id: chat, event_seq: seq, frame: Arc::from(format!("{seq}")), message_stored_at: None }
}

/// What the device was sent.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Event(i64),
    Resync(i64),
    Error,
}

/// One device's connection: the ledger, the chats' logs, what the device got and
/// how often the log was read.
struct Socket {
    ledger: Ledger,
    logs: HashMap<ChatId, i64>,
    /// Chats whose log answers `Reload` (too much to replay), or fails.
    reload: Vec<ChatId>,
    log_down: bool,
    got: HashMap<ChatId, Vec<Got>>,
    log_reads: usize,
    now: Instant,
}

impl Socket {
    /// A socket live at once, whose device had the chats up to the positions given.
    fn live_from(positions: Vec<(ChatId, i64)>) -> Self {
        let mut socket = Self::not_live_yet(positions, Vec::new());
        socket.go_live();
        socket
    }

    /// A socket not yet live (the client resumes first), whose device had the chats
    /// up to `before_subscribing`; `after_subscribing` as the connection read it.
    fn not_live_yet(before_subscribing: Vec<(ChatId, i64)>, after_subscribing: Vec<(ChatId, i64)>) -> Self {
        let mut ledger = Ledger::default();
        ledger.start(before_subscribing, after_subscribing);
        Self {
            ledger,
            logs: HashMap::new(),
            reload: Vec::new(),
            log_down: false,
            got: HashMap::new(),
            log_reads: 0,
            now: Instant::now(),
        }
    }

    /// The chat's log now reaches `seq`.
    fn stored(&mut self, chat: ChatId, seq: i64) {
        self.logs.insert(chat, seq);
    }

    fn push(&mut self, chat: ChatId, got: Got) {
        self.got.entry(chat).or_default().push(got);
    }

    /// A live event comes from the bus.
    fn live(&mut self, chat: ChatId, seq: i64) {
        self.logs.entry(chat).and_modify(|last| *last = (*last).max(seq)).or_insert(seq);
        match self.ledger.live(&event(chat, seq), self.now) {
            Live::Duplicate | Live::Held => {}
            Live::Send => {
                self.push(chat, Got::Event(seq));
                while let Some(next) = self.ledger.next_held(chat) {
                    self.push(chat, Got::Event(next.event_seq));
                }
            }
            Live::CatchUp { from } => {
                self.catch_up(chat, from);
            }
        }
    }

    /// Live events come from the bus, in this order.
    fn live_in_turn(&mut self, chat: ChatId, seqs: impl IntoIterator<Item = i64>) {
        for seq in seqs {
            self.live(chat, seq);
        }
    }

    /// Reads the chat's log after `from` and sends what the ledger says.
    fn catch_up(&mut self, chat: ChatId, from: i64) -> Option<i64> {
        self.log_reads += 1;
        let head = self.logs.get(&chat).copied();
        let answer = match head {
            _ if self.log_down => Err(DomainError::unavailable("database down")),
            None => Err(DomainError::chat_not_found()),
            Some(head) if self.reload.contains(&chat) => Ok(CatchUp::Reload { last_event_seq: head }),
            Some(head) => Ok(CatchUp::Events((1..=head).map(|seq| event(chat, seq)).collect())),
        };
        match self.ledger.replayed(chat, from, answer) {
            Replay::Events { events, reached } => {
                for event in events {
                    self.push(chat, Got::Event(event.event_seq));
                }
                while let Some(next) = self.ledger.next_held(chat) {
                    self.push(chat, Got::Event(next.event_seq));
                }
                Some(reached)
            }
            Replay::Resync { reached } => {
                self.push(chat, Got::Resync(reached));
                Some(reached)
            }
            Replay::NotReadable => None,
            Replay::Failed { reached, .. } => {
                self.push(chat, Got::Error);
                Some(reached)
            }
        }
    }

    /// The bus says the chat's log reaches `seq` (`Delivery::Head`).
    fn head(&mut self, chat: ChatId, seq: i64) {
        if let Some(from) = self.ledger.behind(chat, seq) {
            self.catch_up(chat, from);
        }
    }

    /// Time passes; gaps still open past the wait are filled.
    fn wait(&mut self, for_how_long: std::time::Duration) {
        self.now += for_how_long;
        if self.ledger.deadline().is_some_and(|deadline| deadline <= self.now) {
            for (chat, from) in self.ledger.overdue(self.now) {
                self.catch_up(chat, from);
            }
        }
    }

    fn go_live(&mut self) {
        for (chat, seq) in self.ledger.go_live() {
            self.head(chat, seq);
        }
    }

    fn events(&self, chat: ChatId) -> Vec<i64> {
        self.got
            .get(&chat)
            .map(|got| got.iter().filter_map(|g| if let Got::Event(seq) = g { Some(*seq) } else { None }).collect())
            .unwrap_or_default()
    }
}

fn seqs(range: std::ops::RangeInclusive<i64>) -> Vec<i64> {
    range.collect()
}

#[test]
fn live_events_in_order_are_sent_as_they_come_and_duplicates_are_dropped() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 0)]);
    socket.live_in_turn(chat, [1, 2, 2, 1, 3]);
    assert_eq!(socket.events(chat), seqs(1..=3));
    assert_eq!(socket.log_reads, 0);
}

#[test]
fn events_of_one_batch_that_arrive_reversed_come_out_in_order_without_reading_the_log() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 4)]);
    socket.live_in_turn(chat, [7, 6, 5]);
    assert_eq!(socket.events(chat), seqs(5..=7));
    assert_eq!(socket.log_reads, 0);
    assert_eq!(socket.ledger.deadline(), None, "nothing waits any more");
}

#[test]
fn a_lost_event_is_filled_from_the_log_after_the_wait_and_not_sent_twice() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 0)]);
    socket.live(chat, 1);
    socket.stored(chat, 2); // published, but lost on the way
    socket.live(chat, 3);
    assert_eq!(socket.events(chat), vec![1], "3 waits for 2");
    socket.wait(HOLD / 2);
    assert_eq!(socket.events(chat), vec![1], "still waiting");
    socket.wait(HOLD);
    assert_eq!(socket.events(chat), seqs(1..=3));
    socket.live(chat, 2);
    socket.live(chat, 3);
    socket.live(chat, 4);
    assert_eq!(socket.events(chat), seqs(1..=4));
    assert_eq!(socket.log_reads, 1);
}

#[test]
fn too_many_early_events_fill_the_gap_at_once() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 0)]);
    socket.stored(chat, 1);
    let last = 2 + 256;
    socket.live_in_turn(chat, 2..=last);
    assert_eq!(socket.events(chat), seqs(1..=last), "no wait for the hold to end");
    assert_eq!(socket.log_reads, 1);
    assert_eq!(socket.ledger.deadline(), None);
}

#[test]
fn a_gap_in_one_chat_holds_back_no_other_chat() {
    let (slow, other) = (ChatId::new(), ChatId::new());
    let mut socket = Socket::live_from(vec![(slow, 0), (other, 0)]);
    socket.stored(slow, 1);
    socket.live(slow, 2);
    socket.live(other, 1);
    socket.live(other, 2);
    assert_eq!(socket.events(other), seqs(1..=2));
    assert!(socket.events(slow).is_empty());
    socket.wait(HOLD);
    assert_eq!(socket.events(slow), seqs(1..=2));
}

#[test]
fn with_resume_first_live_events_wait_and_the_replay_comes_first() {
    let chat = ChatId::new();
    let mut socket = Socket::not_live_yet(vec![(chat, 8)], vec![(chat, 8)]);
    socket.stored(chat, 8);
    assert!(!socket.ledger.is_live(), "live events wait for the resume");
    // The device had up to 5: the resume replays 6..=8.
    assert_eq!(socket.catch_up(chat, 5), Some(8));
    socket.go_live();
    assert!(socket.ledger.is_live());
    // Live events that waited meanwhile, some of them replayed already.
    socket.live_in_turn(chat, [7, 8, 9]);
    assert_eq!(socket.events(chat), seqs(6..=9));
}

#[test]
fn events_stored_while_the_socket_subscribed_are_read_from_the_log_when_it_goes_live() {
    let chat = ChatId::new();
    let mut socket = Socket::not_live_yet(vec![(chat, 5)], vec![(chat, 7)]);
    socket.stored(chat, 7);
    socket.go_live();
    assert_eq!(socket.events(chat), seqs(6..=7));
    assert!(socket.ledger.go_live().is_empty(), "read once");
    socket.live_in_turn(chat, [6, 7, 8]);
    assert_eq!(socket.events(chat), seqs(6..=8));
}

#[test]
fn a_replay_from_before_what_was_sent_live_sends_only_what_the_device_lacks() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 3)]);
    socket.live(chat, 4);
    socket.live(chat, 5);
    socket.stored(chat, 6);
    // The client resumes from 0: it lacks 1..=3, and 6, but has 4 and 5.
    assert_eq!(socket.catch_up(chat, 0), Some(6));
    assert_eq!(socket.events(chat), vec![4, 5, 1, 2, 3, 6]);
    socket.live(chat, 6);
    socket.live(chat, 7);
    assert_eq!(socket.events(chat), vec![4, 5, 1, 2, 3, 6, 7]);
}

#[test]
fn an_announced_head_catches_up_a_device_behind_it_only() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 2)]);
    socket.stored(chat, 4);
    socket.head(chat, 4);
    socket.head(chat, 4);
    socket.head(chat, 3);
    assert_eq!(socket.events(chat), seqs(3..=4));
    assert_eq!(socket.log_reads, 1);
    assert_eq!(socket.ledger.behind(ChatId::new(), 9), None, "a chat the device does not follow");
}

#[test]
fn too_much_missed_is_a_resync_and_the_device_continues_from_there() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 1)]);
    socket.stored(chat, 1500);
    socket.reload.push(chat);
    socket.head(chat, 1500);
    socket.live(chat, 1500);
    socket.live(chat, 1501);
    assert_eq!(socket.got[&chat], vec![Got::Resync(1500), Got::Event(1501)]);
}

#[test]
fn when_the_log_is_down_the_device_is_told_and_the_next_event_retries() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 1)]);
    socket.stored(chat, 2);
    socket.log_down = true;
    socket.head(chat, 2);
    assert_eq!(socket.got[&chat], vec![Got::Error]);
    socket.log_down = false;
    socket.live(chat, 3);
    socket.wait(HOLD);
    assert_eq!(socket.events(chat), seqs(2..=3));
}

#[test]
fn a_chat_the_caller_may_not_read_is_forgotten_and_a_new_chat_starts_at_its_first_event() {
    let (left, joined) = (ChatId::new(), ChatId::new());
    let mut socket = Socket::live_from(vec![(left, 3)]);
    assert_eq!(socket.catch_up(ChatId::new(), 0), None, "not readable");
    socket.logs.remove(&left);
    assert_eq!(socket.catch_up(left, 3), None);
    assert!(socket.ledger.positions().is_empty());
    socket.live(joined, 10);
    socket.live(joined, 11);
    assert_eq!(socket.events(joined), seqs(10..=11));
    assert_eq!(socket.ledger.positions(), vec![(joined, 11)]);
}

#[test]
fn a_live_event_that_comes_while_the_log_is_read_is_sent_after_the_replay() {
    let chat = ChatId::new();
    let mut socket = Socket::live_from(vec![(chat, 0)]);
    socket.live(chat, 1);
    socket.stored(chat, 3); // 2 and 3 published, but lost on the way
    socket.live(chat, 4);
    // The wait is over and the log is read for the gap after 1 (it reaches 4); 5 is
    // stored and comes live before the answer is taken, and waits for it.
    let answer = Ok(CatchUp::Events((1..=4).map(|seq| event(chat, seq)).collect()));
    assert_eq!(socket.ledger.live(&event(chat, 5), socket.now), Live::Held);
    let Replay::Events { events, reached } = socket.ledger.replayed(chat, 1, answer) else {
        panic!("the log answered events");
    };
    let mut got: Vec<i64> = events.iter().map(|event| event.event_seq).collect();
    got.extend(std::iter::from_fn(|| socket.ledger.next_held(chat)).map(|event| event.event_seq));
    assert_eq!((got, reached), (seqs(2..=5), 4), "every event once, in order");
    assert_eq!(socket.ledger.deadline(), None, "nothing waits any more");
}
