//! One device's socket: client frames in, events out, heartbeats. What to send
//! so that the device gets every event exactly once and in order is the `ledger`'s
//! decision; this reads the log and writes the socket as it says.
//!
//! Sends and receipts from the client wait for the database; they run one at a
//! time, in the order they came, while the loop goes on delivering live events,
//! so that a device that keeps sending never falls behind on what it receives.

use crate::client_command::{CallAction, ClientCommand, ClientRequest};
use crate::client_frame::{decode_client_frame, ClientFrame, ResumePayload};
use crate::frames;
use crate::ledger::{Ledger, Live, Replay};
use crate::sockets::SocketPermit;
use crate::GatewaySettings;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use chitchat_domain::auth::Caller;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::event::{Delivery, EventDelivery};
use chitchat_domain::message::SendCommand;
use chitchat_domain::ports::Subscription;
use chitchat_domain::{ChatId, DeviceId, DomainError, ErrorCode, Services};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Close code for a device whose session was revoked (logout or device removal)
/// or has expired: do not reconnect with the same token.
const SESSION_REVOKED_CLOSE: u16 = 4001;

/// A device forwards at most one "typing" per chat this often; the indicator
/// expires on the other side unless renewed.
const TYPING_THROTTLE: Duration = Duration::from_secs(3);

/// A client frame being handled in the background; yields the reply frame.
type PendingReply = Pin<Box<dyn Future<Output = String>>>;

/// `work` on the heap, to be awaited there. The loop's task keeps room for its
/// largest await for the socket's whole life, idle or not: awaits that an idle
/// socket never reaches (database reads, commands, catch-ups) run from a box
/// allocated while they do, so the room kept is what delivering and sending need.
/// (A plain function: an `async fn` would hold `work` inline in its own state.)
fn out_of_line<F: Future>(work: F) -> Pin<Box<F>> {
    Box::pin(work)
}

/// Waits until `deadline` (forever without one).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => out_of_line(tokio::time::sleep_until(tokio::time::Instant::from_std(at))).await,
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
    /// This socket, among the user's devices: calls are joined on one.
    pub device: DeviceId,
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

/// The device's side of the conversation: its socket and what it has been sent.
struct Device {
    session: Session,
    /// Which events of each chat the device has, and the ones waiting for earlier ones.
    ledger: Ledger,
    /// How long one send may wait for the client to take it.
    write_wait: Duration,
    /// When this device last forwarded "typing: true" per chat (throttling).
    typing_sent: HashMap<ChatId, Instant>,
}

/// The metrics every socket updates, looked up once per process rather than for
/// every frame or kept by every socket. The recorder is installed at start-up,
/// before any socket opens.
struct SocketMetrics {
    /// `chitchat_ws_frames_sent_total`.
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

impl Device {
    async fn send(&mut self, text: impl Into<ByteString>) -> Result<(), Closed> {
        match tokio::time::timeout(self.write_wait, self.session.text(text.into())).await {
            Ok(Ok(())) => {
                socket_metrics().frames_sent.increment(1);
                Ok(())
            }
            Ok(Err(_)) => Err(GONE),
            Err(_) => Err(Closed { too_slow: true }),
        }
    }

    /// Sends a live event as the ledger decides: with the held events that follow
    /// it, not at all, later, or after what the log holds before it.
    async fn deliver(&mut self, conn: &Connection, delivery: &EventDelivery) -> Result<(), Closed> {
        let chat = delivery.room_id;
        match self.ledger.live(delivery, Instant::now()) {
            Live::Duplicate | Live::Held => Ok(()),
            Live::Send => {
                self.send_live(delivery).await?;
                while let Some(next) = self.ledger.next_held(chat) {
                    self.send_live(&next).await?;
                }
                Ok(())
            }
            Live::CatchUp { from } => out_of_line(self.catch_up(conn, chat, from)).await.map(|_| ()),
        }
    }

    /// Sends a live event the ledger has counted as sent.
    async fn send_live(&mut self, delivery: &EventDelivery) -> Result<(), Closed> {
        self.send(shared_text(&delivery.frame)).await?;
        if let Some(stored_at) = delivery.message_stored_at {
            self.record_delivery(stored_at);
        }
        Ok(())
    }

    /// A chat's log reaches `event_seq` (announced by the instance that published
    /// its events): a device behind it lost a live event and catches up.
    async fn catch_up_to(&mut self, conn: &Connection, chat: ChatId, event_seq: i64) -> Result<(), Closed> {
        match self.ledger.behind(chat, event_seq) {
            Some(from) => self.catch_up(conn, chat, from).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Fills from the log the gaps whose missing events did not come live in time.
    async fn fill_overdue_gaps(&mut self, conn: &Connection) -> Result<(), Closed> {
        for (chat, from) in self.ledger.overdue(Instant::now()) {
            self.catch_up(conn, chat, from).await?;
        }
        Ok(())
    }

    /// Counts a new message written to this device live, and how long after it
    /// was stored (messages a device catches up on are not counted: their
    /// latency is the device's absence, not the server's).
    fn record_delivery(&self, stored_at_micros: i64) {
        let metrics = socket_metrics();
        metrics.messages_delivered.increment(1);
        let age_micros = chrono::Utc::now().timestamp_micros().saturating_sub(stored_at_micros).max(0);
        metrics.delivery_latency.record(age_micros as f64 / 1e6);
    }

    /// Lets live events flow: first the events stored while the socket subscribed,
    /// then who is online now.
    async fn go_live(&mut self, conn: &Connection) -> Result<(), Closed> {
        for (chat, event_seq) in self.ledger.go_live() {
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
                for (chat, last) in self.ledger.positions() {
                    self.catch_up(conn, chat, last).await?;
                }
            }
        }
        Ok(())
    }

    /// Sends what the chat's log holds after `from` that the device does not have;
    /// returns the position reached, or None when the caller may not read the chat.
    async fn catch_up(&mut self, conn: &Connection, chat: ChatId, from: i64) -> Result<Option<i64>, Closed> {
        let answer = conn.services.sync.catch_up(conn.caller, chat, from).await;
        match self.ledger.replayed(chat, from, answer) {
            Replay::Events { events, reached } => {
                for event in &events {
                    self.send(shared_text(&event.frame)).await?;
                }
                Ok(Some(reached))
            }
            Replay::Resync { reached } => {
                self.send(frames::resync(chat, reached)).await?;
                Ok(Some(reached))
            }
            Replay::NotReadable => Ok(None),
            Replay::Failed { error, reached } => {
                self.send(frames::domain_error(None, &error)).await?;
                Ok(Some(reached))
            }
        }
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one select! over the socket, the bus and the timers; what it decides is in ledger.rs"
)]
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
        ledger: Ledger::default(),
        write_wait: conn.settings.write_wait,
        typing_sent: HashMap::new(),
    };
    // The device gets every event stored after `start` (read before it subscribed),
    // and live events are checked for gaps from the first one on. Events stored
    // between that read and the subscription are read from the log when it goes live.
    if let Some(start) = start {
        let now = match out_of_line(conn.services.sync.positions(conn.caller)).await {
            Ok(now) => now,
            Err(error) => {
                tracing::warn!(user = %conn.caller.user_id, %error, "could not read where the chats stand");
                Vec::new()
            }
        };
        device.ledger.start(start, now);
    }
    metrics::gauge!("chitchat_ws_connections").increment(1.0);
    if let Err(error) = out_of_line(conn.services.presence.device_connected(conn.caller)).await {
        tracing::warn!(user = %conn.caller.user_id, session = %conn.caller.session_id, %error, "could not announce presence");
    }
    // Live at once, or after the first frame when the client resumes first.
    if !hold_live_until_first_frame {
        if let Err(closed) = out_of_line(device.go_live(&conn)).await {
            let _ = closed;
        }
    }
    let mut shutdown = conn.shutdown.clone();
    // Without a relay, a session ended by another process (the operator's command
    // line) cannot be announced here: each ping also asks whether it still holds.
    let recheck_session =
        out_of_line(conn.services.bus.relay_status()).await == chitchat_domain::ports::RelayStatus::NotConfigured;
    let mut last_heard = Instant::now();
    let session_left = (conn.session_expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
    // One timer for the next ping and the end of the session, whichever comes
    // first: every idle socket keeps it.
    let session_ends = tokio::time::Instant::now() + session_left;
    let ping_period = conn.settings.ping_period;
    let next_timer = move |now: tokio::time::Instant| (now + ping_period).min(session_ends);
    let timer = tokio::time::sleep_until(next_timer(tokio::time::Instant::now()));
    tokio::pin!(timer);
    let mut in_flight: Option<PendingReply> = None;
    // Client frames waiting behind the one in flight, with their sizes in bytes.
    let mut queued: VecDeque<(ClientRequest, usize)> = VecDeque::new();
    let mut queued_bytes = 0usize;

    let exit = loop {
        let early_deadline = device.ledger.deadline();
        tokio::select! {
            reply = finish(&mut in_flight), if in_flight.is_some() => {
                in_flight = None;
                if let Err(closed) = device.send(reply).await {
                    break exit_for(closed);
                }
                // The frames that waited: those up to the next command are answered
                // now, and that command goes in flight.
                let mut step = Ok(());
                while let Some((request, bytes)) = queued.pop_front() {
                    queued_bytes -= bytes;
                    match out_of_line(handle(&conn, &mut device, request)).await {
                        Ok(None) => {}
                        Ok(Some(pending)) => {
                            in_flight = Some(pending);
                            break;
                        }
                        Err(closed) => {
                            step = Err(closed);
                            break;
                        }
                    }
                }
                if let Err(closed) = step {
                    break exit_for(closed);
                }
            }
            // While held, live events wait in the device's bounded queue.
            delivery = subscription.next(), if device.ledger.is_live() => match delivery.as_deref() {
                Some(Delivery::Event(event)) => {
                    if let Err(closed) = device.deliver(&conn, event).await {
                        break exit_for(closed);
                    }
                }
                // Live-only updates have no place in the log: they go out as they
                // come, to the devices they are for.
                Some(Delivery::Ephemeral(update)) if update.devices.includes(conn.device) => {
                    if let Err(closed) = device.send(shared_text(&update.frame)).await {
                        break exit_for(closed);
                    }
                }
                Some(Delivery::Ephemeral(_)) => {}
                Some(Delivery::CatchUp) => {
                    if let Err(closed) = out_of_line(device.catch_up_all(&conn)).await {
                        break exit_for(closed);
                    }
                }
                Some(Delivery::Head { room_id, event_seq }) => {
                    if let Err(closed) = out_of_line(device.catch_up_to(&conn, *room_id, *event_seq)).await {
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
                        let step = match decode_client_frame(&text).map(ClientFrame::into_request) {
                            Err(_) => device.send(frames::error(None, ErrorCode::InvalidFrame, "frames are JSON objects with a \"type\"")).await,
                            // Behind a command in flight every frame waits its turn, so
                            // that answers come in the order the frames were sent.
                            Ok(request) if in_flight.is_some() => {
                                queued_bytes += text.len();
                                queued.push_back((request, text.len()));
                                Ok(())
                            }
                            Ok(request) => out_of_line(handle(&conn, &mut device, request)).await.map(|pending| {
                                in_flight = pending;
                            }),
                        };
                        if step.is_ok() && !device.ledger.is_live() {
                            out_of_line(device.go_live(&conn)).await
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
            _ = shutdown.wait_for(|stopping| *stopping) => {
                break close(CloseCode::Restart, "resume: server restarting; reconnect");
            }
            // A live event came before one it follows, and the wait for it is over.
            _ = sleep_until(early_deadline), if early_deadline.is_some() => {
                if let Err(closed) = out_of_line(device.fill_overdue_gaps(&conn)).await {
                    break exit_for(closed);
                }
            }
            () = &mut timer => {
                let now = tokio::time::Instant::now();
                if now >= session_ends {
                    let _ = device.send(frames::error(None, ErrorCode::SessionExpired, "the session has expired; log in again")).await;
                    break close(CloseCode::Other(SESSION_REVOKED_CLOSE), "session expired: log in again");
                }
                timer.as_mut().reset(next_timer(now));
                if last_heard.elapsed() > conn.settings.pong_wait {
                    break close(CloseCode::Normal, "no pong in time");
                }
                if device.session.ping(b"").await.is_err() {
                    break Exit::ClientClosed;
                }
                if recheck_session && !out_of_line(conn.services.auth.still_signed_in(conn.caller)).await {
                    let _ = device.send(frames::session_revoked()).await;
                    break close(CloseCode::Other(SESSION_REVOKED_CLOSE), "session revoked: log in again");
                }
            }
        }
    };

    drop(subscription);
    metrics::gauge!("chitchat_ws_connections").decrement(1.0);
    tracing::info!(user = %conn.caller.user_id, session = %conn.caller.session_id, "websocket disconnected");
    let (services, caller, grace) = (conn.services.clone(), conn.caller, conn.settings.presence_grace);
    // A call joined on this socket waits for the device to come back.
    let (calls, socket) = (conn.services.calls.clone(), conn.device);
    actix_web::rt::spawn(async move {
        if let Err(error) = calls.device_closed(caller.user_id, socket).await {
            tracing::warn!(user = %caller.user_id, %error, "could not record a call's device leaving");
        }
    });
    actix_web::rt::spawn(async move {
        tokio::time::sleep(grace).await;
        if let Err(error) = services.presence.device_disconnected(caller).await {
            tracing::warn!(user = %caller.user_id, session = %caller.session_id, %error, "could not record the device leaving");
        }
    });
    if let Exit::Reason(reason) = exit {
        // A client that stopped reading may not take the close frame either.
        let _ = out_of_line(tokio::time::timeout(device.write_wait, device.session.close(Some(reason)))).await;
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
async fn finish(in_flight: &mut Option<PendingReply>) -> String {
    match in_flight {
        Some(command) => command.await,
        None => std::future::pending().await,
    }
}

/// Handles a client's frame. A `message` or `status_update` waits for a database
/// write without touching what the device has been sent: it is returned to run in
/// the background (one at a time, in order), and yields its reply when done. Any
/// other frame is answered at once (a call frame before the frames its change
/// sends through the bus, which wait in the device's queue meanwhile).
async fn handle(
    conn: &Connection,
    device: &mut Device,
    request: ClientRequest,
) -> Result<Option<PendingReply>, Closed> {
    let ClientRequest { id, command } = request;
    let reply = match command {
        Ok(ClientCommand::Message(send_command)) => {
            let (services, caller) = (conn.services.clone(), conn.caller);
            return Ok(Some(Box::pin(async move {
                match send(&services, caller, send_command).await {
                    Ok(message) => {
                        metrics::counter!("chitchat_messages_sent_total", "via" => "ws").increment(1);
                        frames::ack(id.as_ref(), &message)
                    }
                    Err(error) => frames::domain_error(id.as_ref(), &error),
                }
            })));
        }
        Ok(ClientCommand::StatusUpdate { chat, receipt, seq }) => {
            let (services, caller) = (conn.services.clone(), conn.caller);
            return Ok(Some(Box::pin(async move {
                match services.receipts.mark(caller, chat, receipt, seq).await {
                    Ok(()) => frames::ack_empty(id.as_ref()),
                    Err(error) => frames::domain_error(id.as_ref(), &error),
                }
            })));
        }
        Ok(ClientCommand::Typing { chat, typing: starts }) => match typing(conn, device, chat, starts).await {
            // Typing needs no answer unless the client asked for one with an id.
            Ok(()) if id.is_none() => return Ok(None),
            Ok(()) => frames::ack_empty(id.as_ref()),
            Err(error) => frames::domain_error(id.as_ref(), &error),
        },
        Ok(ClientCommand::Resume(payload)) => frames::resumed(id.as_ref(), &resume(conn, device, payload).await?),
        Ok(ClientCommand::CallInvite { chat, media }) => {
            match conn.services.calls.invite(conn.caller, conn.device, chat, media).await {
                Ok(call) => chitchat_domain::call::ringing_frame(&call, id.as_ref()),
                Err(error) => frames::domain_error(id.as_ref(), &error),
            }
        }
        Ok(ClientCommand::Call { call, action }) => {
            let calls = &conn.services.calls;
            let done = match action {
                CallAction::Accept => calls.accept(conn.caller, conn.device, call).await,
                CallAction::Decline => calls.decline(conn.caller, conn.device, call).await,
                CallAction::Hangup => calls.hang_up(conn.caller, conn.device, call).await,
            };
            match done {
                // What changed reaches the devices through the bus; an id asks for an ack too.
                Ok(()) if id.is_none() => return Ok(None),
                Ok(()) => frames::ack_empty(id.as_ref()),
                Err(error) => frames::domain_error(id.as_ref(), &error),
            }
        }
        Ok(ClientCommand::CallSignal(signal)) => {
            match conn.services.calls.relay(conn.caller, conn.device, signal).await {
                Ok(()) if id.is_none() => return Ok(None),
                Ok(()) => frames::ack_empty(id.as_ref()),
                Err(error) => frames::domain_error(id.as_ref(), &error),
            }
        }
        Err(error) => frames::domain_error(id.as_ref(), &error),
    };
    device.send(reply).await.map(|()| None)
}

/// Forwards "typing" to the chat's other members, at most once per throttle period
/// per chat (a stop is always forwarded after a start).
async fn typing(conn: &Connection, device: &mut Device, chat: ChatId, typing: bool) -> Result<(), DomainError> {
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
async fn resume(conn: &Connection, device: &mut Device, payload: ResumePayload) -> Result<Resumed, Closed> {
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
    Ok(resumed)
}

async fn send(
    services: &Services,
    caller: Caller,
    command: SendCommand,
) -> Result<chitchat_domain::message::Message, DomainError> {
    let appended = services.messages.send(caller, command).await?;
    Ok(appended.message)
}
