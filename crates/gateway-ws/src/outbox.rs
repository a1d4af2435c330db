//! One device's outbound frames: the queue its socket's response body writes
//! from, and what the device has been sent (the `ledger`).
//!
//! The bus hands each live delivery straight to the outbox from the publishing
//! task (`DeviceSink`): the ledger decides at once whether the frame goes out, so a
//! delivery costs no hop through the device's own task. The rare deliveries that
//! need the log (a gap to fill, a chat's announced position, a lost relay) and the
//! end of the session are left as work for the connection task. That task's own
//! frames (replies, catch-ups, pings) go through the same queue, so the device gets
//! every frame in the order it was decided.

use crate::frames;
use crate::ledger::{Ledger, Live, Replay};
use actix_web::web::Bytes;
use actix_ws::{CloseReason, Message};
use bytestring::ByteString;
use chitchat_domain::event::{Delivery, EventDelivery};
use chitchat_domain::ports::{DeviceSink, SharedDelivery};
use chitchat_domain::services::CatchUp;
use chitchat_domain::{ChatId, DeviceId, DomainError, SessionId};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The socket is gone, or the device stopped taking frames: stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed {
    /// The device is too far behind (`WS_WRITE_BUFFER_SIZE`, `WS_WRITE_WAIT`):
    /// it is told to reconnect and resume.
    pub too_slow: bool,
}

const GONE: Closed = Closed { too_slow: false };
const TOO_SLOW: Closed = Closed { too_slow: true };

/// What the connection task has to do, left by deliveries it alone can act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Work {
    /// Chats with a gap the ledger will not wait for, and where to fill it from.
    pub catch_up: Vec<(ChatId, i64)>,
    /// Chats whose log reaches further than the device has (announced by other instances).
    pub heads: Vec<(ChatId, i64)>,
    /// Live events may have been lost: compare every chat with its log.
    pub catch_up_all: bool,
    /// This device's session ended.
    pub session_revoked: bool,
    /// The device is too far behind and was dropped from the bus.
    pub too_slow: bool,
    /// A live event waits for an earlier one: the wait's end may have moved.
    pub deadline_moved: bool,
    /// Frames have waited a while with the socket taking none: check again when
    /// `WS_WRITE_WAIT` is over (`stall_deadline`).
    pub watch_stall: bool,
}

/// A frame waiting for the socket.
pub(crate) enum Outgoing {
    /// An event's or update's frame, shared by every device it goes to.
    Shared(Arc<str>),
    /// One of the connection's own frames.
    Own(Message),
}

struct Queued {
    frame: Outgoing,
    /// A live delivery (counted against the device's queue), not the task's own.
    live: bool,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Live frames in `queue`.
    live_queued: usize,
    /// Since when frames have waited with the socket taking none.
    waiting_since: Option<Instant>,
    /// The response body, waiting for frames.
    writer: Option<Waker>,
    ledger: Ledger,
    /// False while deliveries wait in `held_back`: until the socket goes live, and
    /// during a resume, so that what the log replays comes first.
    flowing: bool,
    held_back: VecDeque<SharedDelivery>,
    work: Work,
    /// Nothing more is taken: the socket is closing, or gone.
    ended: bool,
    /// It ended because the device fell too far behind.
    fell_behind: bool,
    /// The body ends once the queue is written.
    finishing: bool,
    /// The connection task waits for room in the queue.
    room_wanted: bool,
    /// The connection task was told to watch a stall (`Work::watch_stall`).
    stall_watched: bool,
}

/// How long frames wait with the socket taking none before the connection task is
/// asked to watch for a stall: longer than a busy machine takes to write them, so
/// that a device that keeps up costs its task no wake-up.
const STALL_NOTICE: Duration = Duration::from_millis(100);

/// The frames that wait for one device's socket, and what the device has been sent.
pub(crate) struct Outbox {
    state: Mutex<State>,
    /// The connection task has work (`take_work`).
    work_ready: Notify,
    /// The queue has room again, for the connection task.
    room: Notify,
    device: DeviceId,
    session: SessionId,
    /// Live frames the device may have waiting (`WS_WRITE_BUFFER_SIZE`).
    capacity: usize,
    /// How long frames may wait with the socket taking none (`WS_WRITE_WAIT`).
    write_wait: Duration,
}

/// The metrics every socket updates, looked up once per process rather than for
/// every frame or kept by every socket. The recorder is installed at start-up,
/// before any socket opens.
struct SocketMetrics {
    /// `chitchat_ws_frames_sent_total`: frames written to sockets.
    frames_sent: metrics::Counter,
    /// `chitchat_messages_delivered_total` and `chitchat_message_delivery_seconds`.
    messages_delivered: metrics::Counter,
    delivery_latency: metrics::Histogram,
}

fn socket_metrics() -> &'static SocketMetrics {
    static METRICS: OnceLock<SocketMetrics> = OnceLock::new();
    METRICS.get_or_init(|| SocketMetrics {
        frames_sent: metrics::counter!("chitchat_ws_frames_sent_total"),
        messages_delivered: metrics::counter!("chitchat_messages_delivered_total"),
        delivery_latency: metrics::histogram!("chitchat_message_delivery_seconds"),
    })
}

/// A shared serialised frame as a WebSocket text payload, without copying it:
/// every device that gets the event sends the same bytes.
pub(crate) fn shared_text(frame: &Arc<str>) -> ByteString {
    struct Shared(Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    // Always valid UTF-8 (it is a `str`); the copy is only a fallback.
    ByteString::try_from(Bytes::from_owner(Shared(frame.clone()))).unwrap_or_else(|_| ByteString::from(&**frame))
}

/// Counts a new message written to a device live, and how long after it was
/// stored (messages a device catches up on are not counted: their latency is the
/// device's absence, not the server's).
fn record_delivery(stored_at_micros: i64) {
    let metrics = socket_metrics();
    metrics.messages_delivered.increment(1);
    let age_micros = chrono::Utc::now().timestamp_micros().saturating_sub(stored_at_micros).max(0);
    metrics.delivery_latency.record(age_micros as f64 / 1e6);
}

/// Frees the room of a queue that a burst grew, once it is empty: an idle socket
/// keeps no more than a few frames' worth.
fn shrink_if_empty<T>(queue: &mut VecDeque<T>) {
    const KEPT: usize = 16;
    if queue.is_empty() && queue.capacity() > KEPT {
        queue.shrink_to(KEPT);
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // Every update leaves the state whole (a panic cannot stop one half-way in a
    // way that matters), so a poisoned lock is taken as it is.
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    /// Why nothing more is taken: the device fell behind (it is told to resume),
    /// or the socket is gone.
    fn why_ended(&self) -> Closed {
        if self.fell_behind {
            TOO_SLOW
        } else {
            GONE
        }
    }

    fn enqueue(&mut self, frame: Outgoing, live: bool, now: impl FnOnce() -> Instant) {
        if self.queue.is_empty() {
            self.waiting_since = Some(now());
        }
        self.queue.push_back(Queued { frame, live });
        self.live_queued += usize::from(live);
    }

    fn enqueue_live_event(&mut self, event: &EventDelivery, now: Instant) {
        self.enqueue(Outgoing::Shared(event.frame.clone()), true, || now);
        if let Some(stored_at) = event.message_stored_at {
            record_delivery(stored_at);
        }
    }

    /// Queues a live event, then the held ones that follow it.
    fn send_in_order(&mut self, event: &EventDelivery, now: Instant) {
        self.enqueue_live_event(event, now);
        while let Some(next) = self.ledger.next_held(event.room_id) {
            self.enqueue_live_event(&next, now);
        }
    }
}

impl Outbox {
    pub(crate) fn new(device: DeviceId, session: SessionId, capacity: usize, write_wait: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            work_ready: Notify::new(),
            room: Notify::new(),
            device,
            session,
            capacity: capacity.max(1),
            write_wait,
        })
    }

    /// See `Ledger::start`.
    pub(crate) fn start(&self, before_subscribing: Vec<(ChatId, i64)>, after_subscribing: Vec<(ChatId, i64)>) {
        lock(&self.state).ledger.start(before_subscribing, after_subscribing);
    }

    /// Whether the socket went live (`go_live`).
    pub(crate) fn is_live(&self) -> bool {
        lock(&self.state).ledger.is_live()
    }

    /// See `Ledger::go_live`; deliveries keep waiting until `flow`.
    pub(crate) fn go_live(&self) -> Vec<(ChatId, i64)> {
        lock(&self.state).ledger.go_live()
    }

    /// Lets deliveries flow, those that waited first.
    pub(crate) fn flow(&self) {
        let mut state = lock(&self.state);
        state.flowing = true;
        while let Some(delivery) = state.held_back.pop_front() {
            if !self.decide(&mut state, &delivery, Instant::now()) {
                break;
            }
        }
        shrink_if_empty(&mut state.held_back);
        self.wake(state);
    }

    /// Makes deliveries wait (until `flow`), as during a resume; returns whether
    /// they flowed.
    pub(crate) fn pause(&self) -> bool {
        std::mem::replace(&mut lock(&self.state).flowing, false)
    }

    /// Where to catch `chat` up from when its log reaches `event_seq`, if behind it.
    pub(crate) fn behind(&self, chat: ChatId, event_seq: i64) -> Option<i64> {
        lock(&self.state).ledger.behind(chat, event_seq)
    }

    /// See `Ledger::overdue`.
    pub(crate) fn overdue(&self) -> Vec<(ChatId, i64)> {
        lock(&self.state).ledger.overdue(Instant::now())
    }

    /// See `Ledger::deadline`.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        lock(&self.state).ledger.deadline()
    }

    /// See `Ledger::positions`.
    pub(crate) fn positions(&self) -> Vec<(ChatId, i64)> {
        lock(&self.state).ledger.positions()
    }

    /// Queues what the log of `chat` answered after `from` that the device does not
    /// have, then the live events held for it; returns the position reached, or
    /// None when the caller may not read the chat.
    pub(crate) fn replayed(&self, chat: ChatId, from: i64, answer: Result<CatchUp, DomainError>) -> Option<i64> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        let reached = match state.ledger.replayed(chat, from, answer) {
            Replay::Events { events, reached } => {
                for event in &events {
                    state.enqueue(Outgoing::Shared(event.frame.clone()), false, || now);
                }
                Some(reached)
            }
            Replay::Resync { reached } => {
                state.enqueue(Outgoing::Own(Message::Text(frames::resync(chat, reached).into())), false, || now);
                Some(reached)
            }
            Replay::NotReadable => None,
            Replay::Failed { error, reached } => {
                state.enqueue(Outgoing::Own(Message::Text(frames::domain_error(None, &error).into())), false, || now);
                Some(reached)
            }
        };
        // Live events that came while the log was read, and wait for what it held.
        while let Some(next) = state.ledger.next_held(chat) {
            state.enqueue_live_event(&next, now);
        }
        self.wake(state);
        reached
    }

    /// Queues one of the connection's own frames (a reply, a ping); Err once the
    /// socket is closing or gone.
    pub(crate) fn push(&self, message: Message) -> Result<(), Closed> {
        let mut state = lock(&self.state);
        if state.ended {
            return Err(state.why_ended());
        }
        state.enqueue(Outgoing::Own(message), false, Instant::now);
        self.wake(state);
        Ok(())
    }

    /// Waits until the queue has room for more of the connection's own frames; Err
    /// when the socket took none for `WS_WRITE_WAIT`, or is gone.
    pub(crate) async fn wait_for_room(&self) -> Result<(), Closed> {
        let deadline = tokio::time::Instant::now() + self.write_wait;
        loop {
            // Asked for before the check, so that room made in between is not missed.
            let room = self.room.notified();
            {
                let mut state = lock(&self.state);
                if state.ended {
                    return Err(state.why_ended());
                }
                if state.queue.len() < self.capacity {
                    return Ok(());
                }
                state.room_wanted = true;
            }
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                return Err(TOO_SLOW);
            }
        }
    }

    /// Resolves when there is work for the connection task.
    pub(crate) async fn work_ready(&self) {
        self.work_ready.notified().await;
    }

    /// The work left for the connection task; it acts on all of it.
    pub(crate) fn take_work(&self) -> Work {
        std::mem::take(&mut lock(&self.state).work)
    }

    /// Whether frames waited longer than `WS_WRITE_WAIT` with the socket taking none.
    pub(crate) fn stalled(&self) -> bool {
        lock(&self.state).waiting_since.is_some_and(|since| since.elapsed() > self.write_wait)
    }

    /// When frames that wait now will have waited `WS_WRITE_WAIT`, if any wait;
    /// the stall is watched again once the socket takes frames.
    pub(crate) fn stall_deadline(&self) -> Option<Instant> {
        let mut state = lock(&self.state);
        let deadline = state.waiting_since.map(|since| since + self.write_wait);
        state.stall_watched = deadline.is_some();
        deadline
    }

    /// Ends the socket: with a close frame when `reason` is given (after the frames
    /// already queued, or at once for a device too far behind to want them), then
    /// the response body ends.
    pub(crate) fn close(&self, reason: Option<CloseReason>, drop_queued: bool) {
        let mut state = lock(&self.state);
        if state.finishing {
            return;
        }
        if drop_queued {
            state.queue.clear();
            state.live_queued = 0;
        }
        if let Some(reason) = reason {
            state.enqueue(Outgoing::Own(Message::Close(Some(reason))), false, Instant::now);
        }
        state.ended = true;
        state.finishing = true;
        self.wake(state);
    }

    /// Writes waiting frames with `write` while it wants more, for the response
    /// body: Ready(None) once the body is to end.
    pub(crate) fn write_waiting(
        &self,
        cx: &mut Context<'_>,
        mut write: impl FnMut(Outgoing) -> bool,
    ) -> Poll<Option<()>> {
        let mut state = lock(&self.state);
        if state.queue.is_empty() {
            if state.finishing {
                return Poll::Ready(None);
            }
            if !state.writer.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                state.writer = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let mut written = 0;
        while let Some(queued) = state.queue.pop_front() {
            state.live_queued -= usize::from(queued.live);
            written += 1;
            let is_close = matches!(queued.frame, Outgoing::Own(Message::Close(_)));
            let wants_more = write(queued.frame);
            if is_close {
                // A close frame is the last one.
                state.queue.clear();
                state.live_queued = 0;
                state.ended = true;
                state.finishing = true;
            }
            if !wants_more {
                break;
            }
        }
        shrink_if_empty(&mut state.queue);
        // The socket took frames: what still waits, waits from now.
        state.waiting_since = if state.queue.is_empty() { None } else { Some(Instant::now()) };
        state.stall_watched = false;
        let room_made = state.room_wanted && state.queue.len() < self.capacity;
        state.room_wanted &= !room_made;
        drop(state);
        socket_metrics().frames_sent.increment(written);
        if room_made {
            self.room.notify_one();
        }
        Poll::Ready(Some(()))
    }

    /// The response body is gone (the connection closed): nothing more is taken,
    /// and a task waiting for room stops waiting.
    pub(crate) fn writer_gone(&self) {
        let mut state = lock(&self.state);
        state.ended = true;
        state.queue.clear();
        state.live_queued = 0;
        drop(state);
        self.room.notify_one();
        self.work_ready.notify_one();
    }

    /// Decides what becomes of a delivery for this device; false when the device
    /// is too far behind to take it (and is then closed).
    fn decide(&self, state: &mut State, delivery: &SharedDelivery, now: Instant) -> bool {
        if !state.flowing {
            if state.held_back.len() >= self.capacity {
                return self.too_slow(state);
            }
            state.held_back.push_back(delivery.clone());
            return true;
        }
        let waited = state.waiting_since.map(|since| now.saturating_duration_since(since));
        if waited.is_some_and(|waited| waited > self.write_wait) || state.live_queued >= self.capacity {
            return self.too_slow(state);
        }
        if waited.is_some_and(|waited| waited > STALL_NOTICE) && !state.stall_watched {
            state.stall_watched = true;
            state.work.watch_stall = true;
        }
        match &**delivery {
            Delivery::Event(event) => match state.ledger.live(event, now) {
                Live::Duplicate => {}
                Live::Send => state.send_in_order(event, now),
                Live::Held => state.work.deadline_moved = true,
                Live::CatchUp { from } => {
                    // Once per chat: the catch-up reads all that is missing.
                    if !state.work.catch_up.iter().any(|(chat, _)| *chat == event.room_id) {
                        state.work.catch_up.push((event.room_id, from));
                    }
                }
            },
            // Live-only updates have no place in the log: they go out as they
            // come, to the devices they are for.
            Delivery::Ephemeral(update) if update.devices.includes(self.device) => {
                state.enqueue(Outgoing::Shared(update.frame.clone()), true, || now);
            }
            Delivery::Ephemeral(_) => {}
            Delivery::CatchUp => state.work.catch_up_all = true,
            Delivery::Head { room_id, event_seq } => {
                if state.ledger.behind(*room_id, *event_seq).is_some() {
                    state.work.heads.push((*room_id, *event_seq));
                }
            }
            Delivery::SessionRevoked { session_id } if *session_id == self.session => {
                state.work.session_revoked = true;
            }
            Delivery::SessionRevoked { .. } => {}
        }
        true
    }

    fn too_slow(&self, state: &mut State) -> bool {
        state.work.too_slow = true;
        state.ended = true;
        state.fell_behind = true;
        false
    }

    /// Releases the lock, then wakes the body for new frames and the connection
    /// task for new work.
    fn wake(&self, mut state: MutexGuard<'_, State>) {
        let writer = if state.queue.is_empty() && !state.finishing { None } else { state.writer.take() };
        let has_work = state.work != Work::default();
        drop(state);
        if let Some(writer) = writer {
            writer.wake();
        }
        if has_work {
            self.work_ready.notify_one();
        }
    }
}

impl DeviceSink for Outbox {
    fn take(&self, delivery: &SharedDelivery) -> bool {
        let mut state = lock(&self.state);
        if state.ended {
            return false;
        }
        let taken = self.decide(&mut state, delivery, Instant::now());
        self.wake(state);
        taken
    }
}

#[cfg(test)]
mod tests;
