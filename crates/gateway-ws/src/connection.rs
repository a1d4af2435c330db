//! One device's socket: client frames in, events out, heartbeats. The connection
//! remembers, per chat, the last event position it delivered, so the device gets
//! every event exactly once and in order: duplicates are dropped, and a gap (an
//! event that arrives before one it follows) is filled from the chat's log first,
//! unless the missing events come live within a moment (see `early`).
//!
//! Sends and receipts from the client wait for the database; they run one at a
//! time, in the order they came, while the loop goes on delivering live events,
//! so that a device that keeps sending never falls behind on what it receives.

use crate::client_frame::{decode_client_frame, ClientFrame};
use crate::early::Early;
use crate::frames;
use crate::sockets::SocketPermit;
use crate::GatewaySettings;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use chitchat_domain::auth::Caller;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::event::{Delivery, EventDelivery};
use chitchat_domain::ports::Subscription;
use chitchat_domain::services::{CatchUp, SendMessage};
use chitchat_domain::ErrorCode;
use chitchat_domain::{ChatId, DomainError, Services};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Close code for a device whose session was revoked (logout or device removal)
/// or has expired: do not reconnect with the same token.
const SESSION_REVOKED_CLOSE: u16 = 4001;

/// A device forwards at most one "typing" per chat this often; the indicator
/// expires on the other side unless renewed.
const TYPING_THROTTLE: Duration = Duration::from_secs(3);

/// A client frame being handled in the background; yields the reply frame.
type Command = Pin<Box<dyn Future<Output = String>>>;

/// Waits until `deadline` (forever without one).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// A shared serialised frame as a WebSocket text payload, without copying it:
/// every device that gets the event sends the same bytes.
fn shared_text(frame: &Arc<str>) -> ByteString {
    struct Shared(Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    // Always valid UTF-8 (it is a `str`); the copy is only a fallback.
    ByteString::try_from(Bytes::from_owner(Shared(frame.clone()))).unwrap_or_else(|_| ByteString::from(&**frame))
}

pub(crate) struct Connection {
    pub caller: Caller,
    pub services: Arc<Services>,
    pub settings: GatewaySettings,
    /// Turns true when the instance shuts down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// When the device session ends: the socket closes then, as after a logout.
    pub session_expires_at: chrono::DateTime<chrono::Utc>,
    /// This socket's place among the user's and the session's; freed when it closes.
    pub _permit: SocketPermit,
}

/// The socket is gone, or the client stopped reading (a send waited longer than
/// `WS_WRITE_WAIT`); stop.
struct Closed {
    too_slow: bool,
}

const GONE: Closed = Closed { too_slow: false };

/// Why the loop ended, for the close frame and the log.
enum Exit {
    ClientClosed,
    Reason(CloseReason),
}

/// A client too slow to take its frames is told to reconnect and resume.
fn exit_for(closed: Closed) -> Exit {
    if closed.too_slow {
        close(CloseCode::Again, "resume: too slow to receive; reconnect and send resume")
    } else {
        Exit::ClientClosed
    }
}

fn close(code: CloseCode, description: &str) -> Exit {
    Exit::Reason(CloseReason { code, description: Some(description.to_owned()) })
}

/// The events of one chat this device has: all up to `last`, except that it may
/// lack those before `first` (which it never asked for).
#[derive(Debug, Clone, Copy)]
struct Span {
    first: i64,
    last: i64,
}

/// The device's side of the conversation: its socket and what it has been sent.
struct Device {
    session: Session,
    /// Per chat, which events this device has been sent or already had.
    positions: HashMap<ChatId, Span>,
    /// Live events that came before the ones they follow, waiting for them.
    early: Early,
    /// How long one send may wait for the client to take it.
    write_wait: Duration,
    /// True until the client's first frame when it asked (`?resume=1`) to resume
    /// before any live event, so that replayed events come first and in order.
    holding_live: bool,
    /// Where the chats stood just after the socket subscribed, to read what was
    /// stored while it did (`go_live`).
    stored_while_subscribing: Vec<(ChatId, i64)>,
    /// When this device last forwarded "typing: true" per chat (throttling).
    typing_sent: HashMap<ChatId, Instant>,
    /// `chitchat_ws_frames_sent_total`, looked up once rather than for every frame.
    frames_sent: metrics::Counter,
    /// `chitchat_messages_delivered_total` and `chitchat_message_delivery_seconds`.
    messages_delivered: metrics::Counter,
    delivery_latency: metrics::Histogram,
}

impl Device {
    async fn send(&mut self, text: impl Into<ByteString>) -> Result<(), Closed> {
        match tokio::time::timeout(self.write_wait, self.session.text(text.into())).await {
            Ok(Ok(())) => {
                self.frames_sent.increment(1);
                Ok(())
            }
            Ok(Err(_)) => Err(GONE),
            Err(_) => Err(Closed { too_slow: true }),
        }
    }

    /// Sends a live event unless the device has it. An event that comes before one
    /// it follows waits a moment for it (events of one batch are published in no
    /// particular order); if the gap stays, or too many wait, it is filled from the
    /// log (`fill_overdue_gaps`).
    async fn deliver(&mut self, conn: &Connection, delivery: &EventDelivery) -> Result<(), Closed> {
        let chat = delivery.room_id;
        match self.positions.get(&chat).copied() {
            Some(span) if delivery.event_seq <= span.last => Ok(()),
            Some(span) if delivery.event_seq > span.last + 1 => {
                if self.early.hold(delivery, Instant::now()) {
                    return Ok(());
                }
                self.catch_up(conn, chat, span.last).await.map(|_| ())
            }
            // Also a chat the device has no position in (created or joined after the
            // socket opened): its span starts at the first event it gets.
            known => self.send_in_order(delivery, known).await,
        }
    }

    /// Sends `delivery`, which directly follows what the device has of its chat,
    /// then the held events that follow it.
    async fn send_in_order(&mut self, delivery: &EventDelivery, known: Option<Span>) -> Result<(), Closed> {
        let chat = delivery.room_id;
        self.send_next(delivery, known).await?;
        let mut last = delivery.event_seq;
        while let Some(next) = self.early.next_after(chat, last) {
            let known = self.positions.get(&chat).copied();
            self.send_next(&next, known).await?;
            last = next.event_seq;
        }
        Ok(())
    }

    /// A chat's log reaches `event_seq` (announced by the instance that published
    /// its events): a device behind it lost a live event and catches up.
    async fn catch_up_to(&mut self, conn: &Connection, chat: ChatId, event_seq: i64) -> Result<(), Closed> {
        match self.positions.get(&chat).copied() {
            Some(span) if span.last < event_seq => self.catch_up(conn, chat, span.last).await.map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Sends the event that directly follows what the device has of its chat.
    async fn send_next(&mut self, delivery: &EventDelivery, known: Option<Span>) -> Result<(), Closed> {
        let first = known.map_or(delivery.event_seq, |span| span.first);
        self.positions.insert(delivery.room_id, Span { first, last: delivery.event_seq });
        self.send(shared_text(&delivery.frame)).await?;
        if let Some(stored_at) = delivery.message_stored_at {
            self.record_delivery(stored_at);
        }
        Ok(())
    }

    /// Fills from the log the gaps whose missing events did not come live in time.
    async fn fill_overdue_gaps(&mut self, conn: &Connection) -> Result<(), Closed> {
        for chat in self.early.overdue(Instant::now()) {
            let last = self.positions.get(&chat).map_or(0, |span| span.last);
            self.catch_up(conn, chat, last).await?;
        }
        Ok(())
    }

    /// Counts a new message written to this device live, and how long after it
    /// was stored (messages a device catches up on are not counted: their
    /// latency is the device's absence, not the server's).
    fn record_delivery(&self, stored_at_micros: i64) {
        self.messages_delivered.increment(1);
        let age_micros = chrono::Utc::now().timestamp_micros().saturating_sub(stored_at_micros).max(0);
        self.delivery_latency.record(age_micros as f64 / 1e6);
    }

    /// Once live events flow: the events stored while the socket subscribed, then
    /// who is online now.
    async fn go_live(&mut self, conn: &Connection) -> Result<(), Closed> {
        for (chat, event_seq) in std::mem::take(&mut self.stored_while_subscribing) {
            self.catch_up_to(conn, chat, event_seq).await?;
        }
        self.send_presence(conn).await
    }

    /// Tells the device who is online now among the people it shares chats with.
    async fn send_presence(&mut self, conn: &Connection) -> Result<(), Closed> {
        match conn.services.presence.online_now(conn.caller).await {
            Ok(frames) => {
                for delivery in frames {
                    if let Delivery::Ephemeral(presence) = delivery {
                        self.send(shared_text(&presence.frame)).await?;
                    }
                }
                Ok(())
            }
            Err(error) => {
                tracing::warn!(user = %conn.caller.user_id, %error, "could not tell who is online");
                Ok(())
            }
        }
    }

    /// Catches up every chat this device follows whose log is ahead of it, after
    /// live events may have been lost.
    async fn catch_up_all(&mut self, conn: &Connection) -> Result<(), Closed> {
        match conn.services.sync.positions(conn.caller).await {
            Ok(now) => {
                for (chat, event_seq) in now {
                    self.catch_up_to(conn, chat, event_seq).await?;
                }
            }
            Err(error) => {
                tracing::warn!(user = %conn.caller.user_id, %error, "could not read where the chats stand");
                let chats: Vec<(ChatId, i64)> = self.positions.iter().map(|(chat, span)| (*chat, span.last)).collect();
                for (chat, last) in chats {
                    self.catch_up(conn, chat, last).await?;
                }
            }
        }
        Ok(())
    }

    /// Sends what the chat's log holds after `from` that the device does not have;
    /// returns the position reached, or None when the caller may not read the chat.
    async fn catch_up(&mut self, conn: &Connection, chat: ChatId, from: i64) -> Result<Option<i64>, Closed> {
        // Events held early were stored before they were published: the log has them.
        self.early.forget(chat);
        let known = self.positions.get(&chat).copied();
        let had = |seq: i64| known.is_some_and(|span| seq >= span.first && seq <= span.last);
        match conn.services.sync.catch_up(conn.caller, chat, from).await {
            Ok(CatchUp::Events(events)) => {
                let mut last = known.map_or(from, |span| span.last.max(from));
                for event in events.iter().filter(|e| e.event_seq > from && !had(e.event_seq)) {
                    last = last.max(event.event_seq);
                    self.send(shared_text(&event.frame)).await?;
                }
                let first = known.map_or(from + 1, |span| span.first.min(from + 1));
                self.positions.insert(chat, Span { first, last });
                Ok(Some(last))
            }
            Ok(CatchUp::Reload { last_event_seq }) => {
                self.positions.insert(chat, Span { first: last_event_seq + 1, last: last_event_seq });
                self.send(frames::resync(chat, last_event_seq)).await?;
                Ok(Some(last_event_seq))
            }
            Err(DomainError::NotFound { .. }) => {
                self.positions.remove(&chat);
                Ok(None)
            }
            Err(error) => {
                // The log is unreachable: record what the device says it has, so that
                // the next live event finds the gap and retries the catch-up.
                let span = *self.positions.entry(chat).or_insert(Span { first: from + 1, last: from });
                self.send(frames::domain_error(None, &error)).await?;
                Ok(Some(span.last))
            }
        }
    }
}

pub(crate) async fn run(
    conn: Connection,
    session: Session,
    mut stream: AggregatedMessageStream,
    mut subscription: Box<dyn Subscription>,
    start: Option<Vec<(ChatId, i64)>>,
    hold_live_until_first_frame: bool,
) {
    let mut device = Device {
        session,
        positions: HashMap::new(),
        early: Early::default(),
        write_wait: conn.settings.write_wait,
        holding_live: hold_live_until_first_frame,
        stored_while_subscribing: Vec::new(),
        typing_sent: HashMap::new(),
        frames_sent: metrics::counter!("chitchat_ws_frames_sent_total"),
        messages_delivered: metrics::counter!("chitchat_messages_delivered_total"),
        delivery_latency: metrics::histogram!("chitchat_message_delivery_seconds"),
    };
    // The device gets every event stored after `start` (read before it subscribed),
    // and live events are checked for gaps from the first one on. Events stored
    // between that read and the subscription are read from the log when it goes live.
    if let Some(start) = start {
        device.positions = start.into_iter().map(|(chat, last)| (chat, Span { first: last + 1, last })).collect();
        match conn.services.sync.positions(conn.caller).await {
            Ok(now) => device.stored_while_subscribing = now,
            Err(error) => tracing::warn!(user = %conn.caller.user_id, %error, "could not read where the chats stand"),
        }
    }
    metrics::gauge!("chitchat_ws_connections").increment(1.0);
    if let Err(error) = conn.services.presence.device_connected(conn.caller).await {
        tracing::warn!(user = %conn.caller.user_id, %error, "could not announce presence");
    }
    // Live at once, or after the first frame when the client resumes first.
    let mut went_live = false;
    if !device.holding_live {
        went_live = true;
        if let Err(closed) = device.go_live(&conn).await {
            let _ = closed;
        }
    }
    let mut shutdown = conn.shutdown.clone();
    let mut heartbeat = tokio::time::interval(conn.settings.ping_period);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let session_left = (conn.session_expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
    let session_ends = tokio::time::sleep(session_left);
    tokio::pin!(session_ends);
    let mut in_flight: Option<Command> = None;
    // Client frames waiting behind the one in flight, with their sizes in bytes.
    let mut queued: VecDeque<(ClientFrame, usize)> = VecDeque::new();
    let mut queued_bytes = 0usize;

    let exit = loop {
        let early_deadline = device.early.deadline();
        tokio::select! {
            reply = finish(&mut in_flight), if in_flight.is_some() => {
                in_flight = None;
                if let Err(closed) = device.send(reply).await {
                    break exit_for(closed);
                }
                // The frames that waited: those up to the next command are answered
                // now, and that command goes in flight.
                let mut step = Ok(());
                while let Some((frame, bytes)) = queued.pop_front() {
                    queued_bytes -= bytes;
                    if is_command(&frame) {
                        in_flight = Some(command(&conn, frame));
                        break;
                    }
                    step = handle_frame(&conn, &mut device, frame).await;
                    if step.is_err() {
                        break;
                    }
                }
                if let Err(closed) = step {
                    break exit_for(closed);
                }
            }
            // While held, live events wait in the device's bounded queue.
            delivery = subscription.next(), if !device.holding_live => match delivery.as_deref() {
                Some(Delivery::Event(event)) => {
                    if let Err(closed) = device.deliver(&conn, event).await {
                        break exit_for(closed);
                    }
                }
                // Live-only updates have no place in the log: they go out as they come.
                Some(Delivery::Ephemeral(update)) => {
                    if let Err(closed) = device.send(shared_text(&update.frame)).await {
                        break exit_for(closed);
                    }
                }
                Some(Delivery::CatchUp) => {
                    if let Err(closed) = device.catch_up_all(&conn).await {
                        break exit_for(closed);
                    }
                }
                Some(Delivery::Head { room_id, event_seq }) => {
                    if let Err(closed) = device.catch_up_to(&conn, *room_id, *event_seq).await {
                        break exit_for(closed);
                    }
                }
                Some(Delivery::SessionRevoked { session_id }) => {
                    if *session_id == conn.caller.session_id {
                        let _ = device.send(frames::session_revoked()).await;
                        break close(CloseCode::Other(SESSION_REVOKED_CLOSE), "session revoked: log in again");
                    }
                }
                // The bus dropped this device (it fell too far behind): reconnect and resume.
                None => break close(CloseCode::Again, "resume: reconnect and send resume"),
            },
            // While client frames fill the read buffer, leave the next ones in the socket.
            incoming = stream.next(), if queued.is_empty() || queued_bytes < conn.settings.read_buffer_bytes => {
                last_heard = Instant::now();
                let step = match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        let step = match decode_client_frame(&text) {
                            Err(_) => device.send(frames::error(None, ErrorCode::InvalidFrame, "frames are JSON objects with a \"type\"")).await,
                            // Behind a command in flight every frame waits its turn, so
                            // that answers come in the order the frames were sent.
                            Ok(frame) if in_flight.is_some() => {
                                queued_bytes += text.len();
                                queued.push_back((frame, text.len()));
                                Ok(())
                            }
                            Ok(frame) if is_command(&frame) => {
                                in_flight = Some(command(&conn, frame));
                                Ok(())
                            }
                            Ok(frame) => handle_frame(&conn, &mut device, frame).await,
                        };
                        device.holding_live = false;
                        if step.is_ok() && !went_live {
                            went_live = true;
                            device.go_live(&conn).await
                        } else {
                            step
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        device.send(frames::error(None, ErrorCode::InvalidFrame, "send JSON text frames")).await
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => device.session.pong(&bytes).await.map_err(|_| GONE),
                    Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
                    Some(Ok(AggregatedMessage::Close(_))) | None => break Exit::ClientClosed,
                    Some(Err(error)) => {
                        tracing::info!(user = %conn.caller.user_id, %error, "websocket protocol error");
                        break protocol_error_exit(&error);
                    }
                };
                if let Err(closed) = step {
                    break exit_for(closed);
                }
            }
            () = &mut session_ends => {
                let _ = device.send(frames::error(None, ErrorCode::SessionExpired, "the session has expired; log in again")).await;
                break close(CloseCode::Other(SESSION_REVOKED_CLOSE), "session expired: log in again");
            }
            _ = shutdown.wait_for(|stopping| *stopping) => {
                break close(CloseCode::Restart, "resume: server restarting; reconnect");
            }
            // A live event came before one it follows, and the wait for it is over.
            _ = sleep_until(early_deadline), if early_deadline.is_some() => {
                if let Err(closed) = device.fill_overdue_gaps(&conn).await {
                    break exit_for(closed);
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > conn.settings.pong_wait {
                    break close(CloseCode::Normal, "no pong in time");
                }
                if device.session.ping(b"").await.is_err() {
                    break Exit::ClientClosed;
                }
            }
        }
    };

    drop(subscription);
    metrics::gauge!("chitchat_ws_connections").decrement(1.0);
    tracing::info!(user = %conn.caller.user_id, session = %conn.caller.session_id, "websocket disconnected");
    let (services, caller, grace) = (conn.services.clone(), conn.caller, conn.settings.presence_grace);
    actix_web::rt::spawn(async move {
        tokio::time::sleep(grace).await;
        if let Err(error) = services.presence.device_disconnected(caller).await {
            tracing::warn!(user = %caller.user_id, %error, "could not record the device leaving");
        }
    });
    if let Exit::Reason(reason) = exit {
        // A client that stopped reading may not take the close frame either.
        let _ = tokio::time::timeout(device.write_wait, device.session.close(Some(reason))).await;
    }
}

/// How a socket that broke the WebSocket protocol is closed (RFC 6455 §7.4.1):
/// 1007 for text that is not UTF-8, 1009 for a frame over the size limit, 1002
/// for the rest.
fn protocol_error_exit(error: &actix_ws::ProtocolError) -> Exit {
    use actix_ws::ProtocolError;
    // actix-ws reports some of these as I/O errors that only their text tells apart.
    let too_large = |io: &std::io::Error| {
        io.get_ref().is_some_and(|inner| inner.is::<actix_web::error::PayloadError>())
            || io.to_string().contains("maximum continuation size")
    };
    let not_utf8 = |io: &std::io::Error| {
        io.kind() == std::io::ErrorKind::InvalidData
            && (io.get_ref().is_some_and(|inner| inner.is::<std::str::Utf8Error>()) || io.to_string().contains("utf-8"))
    };
    match error {
        ProtocolError::Overflow => close(CloseCode::Size, "frame too large"),
        ProtocolError::Io(io) if too_large(io) => close(CloseCode::Size, "frame too large"),
        ProtocolError::Io(io) if not_utf8(io) => close(CloseCode::Invalid, "text frame is not UTF-8"),
        _ => close(CloseCode::Protocol, "frame breaks the WebSocket protocol"),
    }
}

/// Waits for the command in flight (the caller makes sure there is one).
async fn finish(in_flight: &mut Option<Command>) -> String {
    match in_flight {
        Some(command) => command.await,
        None => std::future::pending().await,
    }
}

/// Frames answered after a database write, without touching what the device has
/// been sent: handled in the background, one at a time, in order.
fn is_command(frame: &ClientFrame) -> bool {
    matches!(frame.kind.as_str(), "message" | "status_update")
}

/// Handles a `message` or `status_update` frame; yields the reply frame.
fn command(conn: &Connection, frame: ClientFrame) -> Command {
    let (services, caller) = (conn.services.clone(), conn.caller);
    Box::pin(async move {
        let id = frame.id.as_ref();
        if frame.kind == "message" {
            match send(&services, caller, &frame).await {
                Ok(message) => {
                    metrics::counter!("chitchat_messages_sent_total", "via" => "ws").increment(1);
                    frames::ack(id, &message)
                }
                Err(error) => frames::domain_error(id, &error),
            }
        } else {
            match receipt(&services, caller, &frame).await {
                Ok(()) => frames::ack_empty(id),
                Err(error) => frames::domain_error(id, &error),
            }
        }
    })
}

/// Answers a client frame that is not a command, at once.
async fn handle_frame(conn: &Connection, device: &mut Device, frame: ClientFrame) -> Result<(), Closed> {
    let id = frame.id.as_ref();
    let reply = match frame.kind.as_str() {
        "typing" => match typing(conn, device, &frame).await {
            // Typing needs no answer unless the client asked for one with an id.
            Ok(()) if id.is_none() => return Ok(()),
            Ok(()) => frames::ack_empty(id),
            Err(error) => frames::domain_error(id, &error),
        },
        "resume" => match resume(conn, device, &frame).await? {
            Ok(reached) => frames::resumed(id, &reached),
            Err(error) => frames::domain_error(id, &error),
        },
        other => frames::error(id, ErrorCode::UnknownType, &format!("unknown frame type {other:?}")),
    };
    device.send(reply).await
}

/// Forwards "typing" to the chat's other members, at most once per throttle period
/// per chat (a stop is always forwarded after a start).
async fn typing(conn: &Connection, device: &mut Device, frame: &ClientFrame) -> Result<(), DomainError> {
    let chat = frame.chat()?;
    let typing = frame.typing()?;
    if typing {
        if device.typing_sent.get(&chat).is_some_and(|at| at.elapsed() < TYPING_THROTTLE) {
            return Ok(());
        }
        device.typing_sent.insert(chat, Instant::now());
    } else if device.typing_sent.remove(&chat).is_none() {
        return Ok(());
    }
    conn.services.presence.typing(conn.caller, chat, typing).await
}

/// `{"type":"status_update","room_id","payload":{"status":"delivered"|"read","seq"}}`:
/// this device has (or showed) the chat's messages up to `seq`.
async fn receipt(services: &Services, caller: Caller, frame: &ClientFrame) -> Result<(), DomainError> {
    let chat = frame.chat()?;
    let (kind, seq) = frame.receipt()?;
    services.receipts.mark(caller, chat, kind, seq).await
}

/// What `resume` answers: the position reached in each chat, and the chats the
/// caller may not read.
pub(crate) struct Resumed {
    pub chats: BTreeMap<ChatId, i64>,
    pub not_found: Vec<String>,
    /// The caller's settings of the resumed chats that differ from the defaults;
    /// None when they could not be read.
    pub settings: Option<BTreeMap<ChatId, ChatSettings>>,
}

/// Replays, chat by chat, everything after the positions the device reports.
async fn resume(
    conn: &Connection,
    device: &mut Device,
    frame: &ClientFrame,
) -> Result<Result<Resumed, DomainError>, Closed> {
    let payload = match frame.resume_payload() {
        Ok(payload) => payload,
        Err(error) => return Ok(Err(error)),
    };
    let mut resumed = Resumed { chats: BTreeMap::new(), not_found: Vec::new(), settings: None };
    for (raw_id, position) in payload.chats {
        let Ok(chat) = raw_id.parse::<ChatId>() else {
            resumed.not_found.push(raw_id);
            continue;
        };
        match device.catch_up(conn, chat, position.max(0)).await? {
            Some(reached) => {
                resumed.chats.insert(chat, reached);
            }
            None => resumed.not_found.push(raw_id),
        }
    }
    // Settings are state, not events: the device gets them as they are now.
    let reached: Vec<ChatId> = resumed.chats.keys().copied().collect();
    match conn.services.chats.changed_settings(conn.caller, &reached).await {
        Ok(settings) => resumed.settings = Some(settings.into_iter().collect()),
        Err(error) => tracing::warn!(user = %conn.caller.user_id, %error, "could not read chat settings for a resume"),
    }
    Ok(Ok(resumed))
}

async fn send(
    services: &Services,
    caller: Caller,
    frame: &ClientFrame,
) -> Result<chitchat_domain::message::Message, DomainError> {
    let chat_id = frame.chat()?;
    let payload = frame.send_payload()?;
    let appended = services
        .messages
        .send(
            caller,
            SendMessage {
                chat_id,
                content: payload.text()?,
                content_type: payload.content_type,
                client_msg_id: payload.client_msg_id,
                reply_to_id: payload.reply_to_id,
                attachment_ids: payload.attachment_ids,
            },
        )
        .await?;
    Ok(appended.message)
}
