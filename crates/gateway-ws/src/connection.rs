//! One device's socket: client frames in, heartbeats, and the work live
//! deliveries leave for it. Live events reach the device's `outbox` straight from
//! the bus, which decides there what to send (see `ledger`); this task reads the
//! log when the outbox asks, and queues its own replies behind what was decided.
//!
//! Sends and receipts from the client wait for the database; they run one at a
//! time, in the order they came (sends that came one right after the other go
//! together), while the loop goes on with the rest, so that a device that keeps
//! sending never falls behind on what it receives.

use crate::client_command::{CallAction, ClientCommand, ClientRequest};
use crate::client_frame::{decode_client_frame, ClientFrame, ResumePayload};
use crate::client_frames::{ClientFrames, FrameError};
use crate::frames;
use crate::outbox::{shared_text, Closed, Outbox, Work};
use crate::sockets::SocketPermit;
use crate::GatewaySettings;
use actix_web::web::Bytes;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Message};
use bytestring::ByteString;
use chitchat_domain::auth::Caller;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::event::Delivery;
use chitchat_domain::message::SendCommand;
use chitchat_domain::ports::Subscription;
use chitchat_domain::{ChatId, DeviceId, DomainError, ErrorCode, Services};
use futures_util::StreamExt;
use serde_json::Value;
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

/// Client frames being handled in the background; yields their reply frames, in
/// order.
type PendingReply = Pin<Box<dyn Future<Output = Vec<String>>>>;

/// Sends that wait behind the one in flight go to the store together, up to this
/// many: a device that sends without waiting for each ack (a burst, an outbox
/// emptied after a reconnect) has them stored with one commit rather than one each.
const SENDS_TOGETHER: usize = 64;

/// Client frames waiting behind the command in flight, in the order they came.
#[derive(Default)]
struct Waiting {
    frames: VecDeque<(ClientRequest, usize)>,
    /// Their sizes together, in bytes.
    bytes: usize,
}

impl Waiting {
    fn push(&mut self, request: ClientRequest, bytes: usize) {
        self.bytes += bytes;
        self.frames.push_back((request, bytes));
    }

    fn pop(&mut self) -> Option<ClientRequest> {
        let (request, bytes) = self.frames.pop_front()?;
        self.bytes -= bytes;
        Some(request)
    }

    /// The `message` frames at the front, up to `max`, with their ids.
    fn sends_at_front(&mut self, max: usize) -> Vec<(Option<Value>, SendCommand)> {
        let mut sends = Vec::new();
        while sends.len() < max {
            let Some((ClientRequest { command: Ok(ClientCommand::Message(_)), .. }, _)) = self.frames.front() else {
                break;
            };
            if let Some(ClientRequest { id, command: Ok(ClientCommand::Message(send)) }) = self.pop() {
                sends.push((id, send));
            }
        }
        sends
    }
}

/// `work` on the heap, to be awaited there. The loop's task keeps room for its
/// largest await for the socket's whole life, idle or not: awaits that an idle
/// socket never reaches (database reads, commands, catch-ups) run from a box
/// allocated while they do, so the room kept is what an idle socket needs.
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

/// Why the loop ended, for the close frame and the log.
enum Exit {
    ClientClosed,
    Reason { reason: CloseReason, too_slow: bool },
}

/// A client too slow to take its frames is told to reconnect and resume.
fn exit_for(closed: Closed) -> Exit {
    if closed.too_slow {
        Exit::Reason {
            reason: CloseReason {
                code: CloseCode::Again,
                description: Some("resume: too slow to receive; reconnect and send resume".to_owned()),
            },
            too_slow: true,
        }
    } else {
        Exit::ClientClosed
    }
}

fn close(code: CloseCode, description: &str) -> Exit {
    Exit::Reason { reason: CloseReason { code, description: Some(description.to_owned()) }, too_slow: false }
}

/// The device's side of the conversation: what waits for its socket, and what it
/// has been sent.
struct Device {
    outbox: Arc<Outbox>,
    /// When this device last forwarded "typing: true" per chat (throttling).
    typing_sent: HashMap<ChatId, Instant>,
}

impl Device {
    /// Queues a frame of this connection's own, then waits while the device has
    /// too many waiting.
    async fn send(&mut self, text: impl Into<ByteString>) -> Result<(), Closed> {
        self.outbox.push(Message::Text(text.into()))?;
        self.outbox.wait_for_room().await
    }

    /// A chat's log reaches `event_seq` (announced by the instance that published
    /// its events): a device behind it lost a live event and catches up.
    async fn catch_up_to(&mut self, conn: &Connection, chat: ChatId, event_seq: i64) -> Result<(), Closed> {
        match self.outbox.behind(chat, event_seq) {
            Some(from) => self.catch_up(conn, chat, from).await.map(|_| ()),
            None => Ok(()),
        }
    }

    /// Fills from the log the gaps whose missing events did not come live in time.
    async fn fill_overdue_gaps(&mut self, conn: &Connection) -> Result<(), Closed> {
        for (chat, from) in self.outbox.overdue() {
            self.catch_up(conn, chat, from).await?;
        }
        Ok(())
    }

    /// Lets live events flow: first the events stored while the socket subscribed,
    /// then who is online now, then what came meanwhile.
    async fn go_live(&mut self, conn: &Connection) -> Result<(), Closed> {
        for (chat, event_seq) in self.outbox.go_live() {
            self.catch_up_to(conn, chat, event_seq).await?;
        }
        self.send_presence(conn).await?;
        self.outbox.flow();
        Ok(())
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
                for (chat, last) in self.outbox.positions() {
                    self.catch_up(conn, chat, last).await?;
                }
            }
        }
        Ok(())
    }

    /// Queues what the chat's log holds after `from` that the device does not have;
    /// returns the position reached, or None when the caller may not read the chat.
    async fn catch_up(&mut self, conn: &Connection, chat: ChatId, from: i64) -> Result<Option<i64>, Closed> {
        let answer = conn.services.sync.catch_up(conn.caller, chat, from).await;
        let reached = self.outbox.replayed(chat, from, answer);
        self.outbox.wait_for_room().await?;
        Ok(reached)
    }

    /// Acts on what live deliveries left for this task; Err with how the socket
    /// ends, when it does.
    async fn work(&mut self, conn: &Connection, work: Work, stall_check: &mut Option<Instant>) -> Result<(), Exit> {
        if work.too_slow {
            return Err(exit_for(Closed { too_slow: true }));
        }
        if work.session_revoked {
            let _ = self.send(frames::session_revoked()).await;
            return Err(close(CloseCode::Other(SESSION_REVOKED_CLOSE), "session revoked: log in again"));
        }
        if work.watch_stall {
            *stall_check = self.outbox.stall_deadline();
        }
        if work.catch_up_all {
            self.catch_up_all(conn).await.map_err(exit_for)?;
        }
        for (chat, event_seq) in work.heads {
            self.catch_up_to(conn, chat, event_seq).await.map_err(exit_for)?;
        }
        for (chat, from) in work.catch_up {
            self.catch_up(conn, chat, from).await.map_err(exit_for)?;
        }
        Ok(())
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one select! over the socket, the outbox's work and the timers; what it decides is in ledger.rs"
)]
pub(crate) async fn run(
    conn: Connection,
    outbox: Arc<Outbox>,
    mut stream: ClientFrames,
    subscription: Box<dyn Subscription>,
    start: Option<Vec<(ChatId, i64)>>,
    hold_live_until_first_frame: bool,
) {
    let mut device = Device { outbox, typing_sent: HashMap::new() };
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
        device.outbox.start(start, now);
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
    let mut waiting = Waiting::default();
    // When to check whether frames still wait with the socket taking none.
    let mut stall_check: Option<Instant> = None;

    let exit = loop {
        let early_deadline = device.outbox.deadline();
        tokio::select! {
            replies = finish(&mut in_flight), if in_flight.is_some() => {
                in_flight = None;
                let mut step = Ok(());
                for reply in replies {
                    step = device.send(reply).await;
                    if step.is_err() {
                        break;
                    }
                }
                if let Err(closed) = step {
                    break exit_for(closed);
                }
                // The frames that waited: those up to the next command are answered
                // now, and that command goes in flight.
                while let Some(request) = waiting.pop() {
                    match out_of_line(handle(&conn, &mut device, request, &mut waiting)).await {
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
            () = device.outbox.work_ready() => {
                let work = device.outbox.take_work();
                if let Err(exit) = out_of_line(device.work(&conn, work, &mut stall_check)).await {
                    break exit;
                }
            }
            // While client frames fill the read buffer, leave the next ones in the socket.
            incoming = stream.next(), if waiting.frames.is_empty() || waiting.bytes < conn.settings.read_buffer_bytes => {
                last_heard = Instant::now();
                let step = match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        let step = match decode_client_frame(&text).map(ClientFrame::into_request) {
                            Err(_) => device.send(frames::error(None, ErrorCode::InvalidFrame, "frames are JSON objects with a \"type\"")).await,
                            // Behind a command in flight every frame waits its turn, so
                            // that answers come in the order the frames were sent.
                            Ok(request) if in_flight.is_some() => {
                                waiting.push(request, text.len());
                                Ok(())
                            }
                            Ok(request) => out_of_line(handle(&conn, &mut device, request, &mut waiting)).await.map(|pending| {
                                in_flight = pending;
                            }),
                        };
                        if step.is_ok() && !device.outbox.is_live() {
                            out_of_line(device.go_live(&conn)).await
                        } else {
                            step
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        device.send(frames::error(None, ErrorCode::InvalidFrame, "send JSON text frames")).await
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => device.outbox.push(Message::Pong(bytes)),
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
            // Frames have waited a while: cut the device off if they still wait.
            _ = sleep_until(stall_check), if stall_check.is_some() => {
                stall_check = None;
                if device.outbox.stalled() {
                    break exit_for(Closed { too_slow: true });
                }
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
                if device.outbox.stalled() {
                    break exit_for(Closed { too_slow: true });
                }
                if device.outbox.push(Message::Ping(Bytes::new())).is_err() {
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
    // A device too far behind gets the close frame before what waited: it resumes.
    match exit {
        Exit::Reason { reason, too_slow } => device.outbox.close(Some(reason), too_slow),
        Exit::ClientClosed => device.outbox.close(None, false),
    }
}

/// How a socket that broke the WebSocket protocol is closed (RFC 6455 §7.4.1):
/// 1007 for text that is not UTF-8, 1009 for a frame over the size limit, 1002
/// for the rest.
fn protocol_error_exit(error: &FrameError) -> Exit {
    match error {
        FrameError::TooLarge => close(CloseCode::Size, "frame too large"),
        FrameError::NotUtf8 => close(CloseCode::Invalid, "text frame is not UTF-8"),
        FrameError::Protocol(_) => close(CloseCode::Protocol, "frame breaks the WebSocket protocol"),
        FrameError::Connection(_) => Exit::ClientClosed,
    }
}

/// Waits for the command in flight (the caller makes sure there is one).
async fn finish(in_flight: &mut Option<PendingReply>) -> Vec<String> {
    match in_flight {
        Some(command) => command.await,
        None => std::future::pending().await,
    }
}

/// Handles a client's frame. A `message` or `status_update` waits for a database
/// write without touching what the device has been sent: it is returned to run in
/// the background (one at a time, in order; a `message` with the `message` frames
/// right behind it in `waiting`), and yields its replies when done. Any
/// other frame is answered at once, before the frames its change sends through the
/// bus: those wait (with every live delivery) until the answer is queued.
async fn handle(
    conn: &Connection,
    device: &mut Device,
    request: ClientRequest,
    waiting: &mut Waiting,
) -> Result<Option<PendingReply>, Closed> {
    let request = match in_background(conn, request, waiting) {
        Handling::Background(pending) => return Ok(Some(pending)),
        Handling::Now(request) => request,
    };
    let was_flowing = device.outbox.pause();
    let answered = answer(conn, device, request).await;
    if was_flowing {
        device.outbox.flow();
    }
    answered.map(|()| None)
}

/// Where a client's frame is handled.
enum Handling {
    /// A `message` or `status_update`: its reply, to wait for in the background.
    Background(PendingReply),
    /// Any other frame, answered at once.
    Now(ClientRequest),
}

fn in_background(conn: &Connection, request: ClientRequest, waiting: &mut Waiting) -> Handling {
    let (services, caller) = (conn.services.clone(), conn.caller);
    match request {
        ClientRequest { id, command: Ok(ClientCommand::Message(send_command)) } => {
            let mut sends = vec![(id, send_command)];
            sends.extend(waiting.sends_at_front(SENDS_TOGETHER - 1));
            Handling::Background(Box::pin(async move {
                let (ids, commands): (Vec<_>, Vec<_>) = sends.into_iter().unzip();
                let answers = services.messages.send_all(caller, commands).await;
                let sent = answers.iter().filter(|answer| answer.is_ok()).count();
                metrics::counter!("chitchat_messages_sent_total", "via" => "ws").increment(sent as u64);
                ids.iter()
                    .zip(answers)
                    .map(|(id, answer)| match answer {
                        Ok(appended) => frames::ack(id.as_ref(), &appended.message),
                        Err(error) => frames::domain_error(id.as_ref(), &error),
                    })
                    .collect()
            }))
        }
        ClientRequest { id, command: Ok(ClientCommand::StatusUpdate { chat, receipt, seq }) } => {
            Handling::Background(Box::pin(async move {
                vec![match services.receipts.mark(caller, chat, receipt, seq).await {
                    Ok(()) => frames::ack_empty(id.as_ref()),
                    Err(error) => frames::domain_error(id.as_ref(), &error),
                }]
            }))
        }
        other => Handling::Now(other),
    }
}

/// Answers a frame that is not sent to the background, and queues the answer.
async fn answer(conn: &Connection, device: &mut Device, request: ClientRequest) -> Result<(), Closed> {
    let ClientRequest { id, command } = request;
    let reply = match command {
        // Sent to the background by `handle`.
        Ok(ClientCommand::Message(_) | ClientCommand::StatusUpdate { .. }) => return Ok(()),
        Ok(ClientCommand::Typing { chat, typing: starts }) => match typing(conn, device, chat, starts).await {
            // Typing needs no answer unless the client asked for one with an id.
            Ok(()) if id.is_none() => return Ok(()),
            Ok(()) => frames::ack_empty(id.as_ref()),
            Err(error) => frames::domain_error(id.as_ref(), &error),
        },
        // Live events wait while the log replays (see `handle`).
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
                Ok(()) if id.is_none() => return Ok(()),
                Ok(()) => frames::ack_empty(id.as_ref()),
                Err(error) => frames::domain_error(id.as_ref(), &error),
            }
        }
        Ok(ClientCommand::CallSignal(signal)) => {
            match conn.services.calls.relay(conn.caller, conn.device, signal).await {
                Ok(()) if id.is_none() => return Ok(()),
                Ok(()) => frames::ack_empty(id.as_ref()),
                Err(error) => frames::domain_error(id.as_ref(), &error),
            }
        }
        Err(error) => frames::domain_error(id.as_ref(), &error),
    };
    device.send(reply).await
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
