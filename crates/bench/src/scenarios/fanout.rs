//! Fan-out: deliveries per second to N connected receivers of one room, against the
//! bare actix-ws broadcast server with the same N, the same senders and the same
//! client code, in the same run.
//!
//! The load is closed-loop: each sender sends its next message once its own socket
//! has received the previous one back (both servers send a message to the sender's
//! connection too), and all senders together keep at most `window` messages per
//! sender on their way to every receiver, so that each server runs as fast as it
//! delivers and no queue grows without bound.

use super::{send_rate::summarize, Ctx};
use crate::cpu::{self, CpuCost, CpuWindow};
use crate::load::{self, Socket};
use crate::procs::BareServer;
use crate::report::{self, Table};
use anyhow::{anyhow, Result};
use chitchat_testkit::{ApiClient, Login, TestServer};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Where the load goes: one room, its senders' and receivers' URLs.
pub struct Room {
    pub room_id: String,
    pub senders: Vec<String>,
    pub receivers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FanoutRun {
    pub receivers: usize,
    pub deliveries_per_s: f64,
    pub messages_per_s: f64,
    /// Messages each receiver got over the whole run (warm-up included).
    pub min_per_receiver: u64,
    pub max_per_receiver: u64,
    /// Deliveries still missing 3 s after the senders stopped.
    pub missing: u64,
    /// CPU of the server and PostgreSQL in the measurement window.
    pub cpu: CpuCost,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FanoutRow {
    pub receivers: usize,
    /// How ChitChat's room was made: a group, or N devices of one user.
    pub room: String,
    pub chitchat: FanoutRun,
    pub bare: FanoutRun,
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fanout {
    pub backend: &'static str,
    pub senders: usize,
    pub window: usize,
    pub rows: Vec<FanoutRow>,
}

impl Fanout {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!("Fan-out, {} ({} sending connections)", self.backend, self.senders),
            &[
                "receivers",
                "ChitChat room",
                "ChitChat deliveries/s",
                "ChitChat messages/s",
                "bare deliveries/s",
                "bare messages/s",
                "ratio to bare",
                "ChitChat server CPU µs/msg",
                "ChitChat PostgreSQL CPU µs/msg",
                "ChitChat server CPU µs/delivery",
                "ChitChat PostgreSQL CPU µs/delivery",
                "bare server CPU µs/msg",
                "bare server CPU µs/delivery",
            ],
        );
        for row in &self.rows {
            table.row(vec![
                row.receivers.to_string(),
                row.room.clone(),
                report::rate(row.chitchat.deliveries_per_s),
                report::rate(row.chitchat.messages_per_s),
                report::rate(row.bare.deliveries_per_s),
                report::rate(row.bare.messages_per_s),
                report::ratio(row.ratio),
                cpu::micros(row.chitchat.cpu.server_us_per_message),
                cpu::micros(row.chitchat.cpu.postgres_us_per_message),
                cpu::micros(row.chitchat.cpu.server_us_per_delivery),
                cpu::micros(row.chitchat.cpu.postgres_us_per_delivery),
                cpu::micros(row.bare.cpu.server_us_per_message),
                cpu::micros(row.bare.cpu.server_us_per_delivery),
            ]);
        }
        table
    }
}

pub async fn run(ctx: &Ctx) -> Result<Fanout> {
    let plan = &ctx.plan;
    let mut rows = Vec::new();
    for (k, &n) in plan.fanout_sizes.iter().enumerate() {
        let running = ctx.start_chitchat(plan.backend).await?;
        let chitchat = async {
            let (room, label) = chitchat_room(&running.server, n, plan.fanout_senders, 1 + k * 10_000, ctx).await?;
            let mut run = drive(&room, &[running.pid()?], ctx).await?;
            if running.backend != chitchat_testkit::TestBackend::Postgres {
                run.cpu = run.cpu.server_only();
            }
            Ok::<_, anyhow::Error>((run, label))
        }
        .await;
        running.finish().await;
        let (chitchat, label) = chitchat?;

        let bare_server = BareServer::start(&ctx.binaries.bare).await?;
        let room_id = format!("fanout-{n}");
        let room = Room {
            senders: vec![bare_server.room_url(&room_id); plan.fanout_senders],
            receivers: vec![bare_server.room_url(&room_id); n],
            room_id,
        };
        let bare = drive(&room, &bare_server.pid().into_iter().collect::<Vec<_>>(), ctx).await;
        bare_server.stop().await;
        let mut bare = bare?;
        bare.cpu = bare.cpu.server_only();
        rows.push(FanoutRow {
            receivers: n,
            room: label,
            ratio: report::div(chitchat.deliveries_per_s, bare.deliveries_per_s),
            chitchat,
            bare,
        });
    }
    Ok(Fanout { backend: plan.backend_label(), senders: plan.fanout_senders, window: plan.fanout_window, rows })
}

/// ChitChat's room of `n` receivers on one server.
async fn chitchat_room(
    server: &TestServer,
    n: usize,
    senders: usize,
    first_user: usize,
    ctx: &Ctx,
) -> Result<(Room, String)> {
    let members = chitchat_members(&server.client(), n, senders, first_user, ctx).await?;
    let label = members.label.clone();
    Ok((members.spread_over(&[server.ws_url()]), label))
}

/// The devices of a ChitChat room: who sends, who receives, in which chat.
pub struct Members {
    pub room_id: String,
    pub senders: Vec<Login>,
    pub receivers: Vec<Login>,
    /// How the room was made: a group, or N devices of one user.
    pub label: String,
}

impl Members {
    /// The room with its devices' connections spread over servers in turn (one
    /// server, or the instances of one deployment).
    pub fn spread_over(&self, ws_bases: &[String]) -> Room {
        let urls = |logins: &[Login]| -> Vec<String> {
            logins.iter().enumerate().map(|(i, login)| load::device_url(&ws_bases[i % ws_bases.len()], login)).collect()
        };
        Room { room_id: self.room_id.clone(), senders: urls(&self.senders), receivers: urls(&self.receivers) }
    }
}

/// The members of a room of `n` receivers, logged in through `api`: a group of `n`
/// members when the server has groups, otherwise the direct chat of the sender with
/// one user logged in on `n` devices (every device of a member receives every
/// message of the chat). The senders are `senders` devices of one user.
pub async fn chitchat_members(
    api: &ApiClient,
    n: usize,
    senders: usize,
    first_user: usize,
    ctx: &Ctx,
) -> Result<Members> {
    let sender_devices = load::login_devices(api, first_user, senders).await;
    let sender = &sender_devices[0];

    let probe = load::login_users(api, first_user + 1, 1, 1).await;
    let group = json!({ "type": "group", "name": "bench", "user_ids": [probe[0].user_id()] });
    let groups = api.post("/api/chats", &sender.token, group).await;
    if groups.status.is_success() {
        let mut members = probe;
        members.extend(load::login_users(api, first_user + 2, n - 1, ctx.plan.setup_concurrency).await);
        let ids: Vec<String> = members.iter().map(|m| m.user_id()).collect();
        let reply =
            api.post("/api/chats", &sender.token, json!({ "type": "group", "name": "bench", "user_ids": ids })).await;
        if reply.status.is_success() {
            let room_id = reply.body["id"].as_str().unwrap_or_default().to_owned();
            return Ok(Members {
                room_id,
                senders: sender_devices,
                receivers: members,
                label: format!("group of {} members", n + 1),
            });
        }
        return Err(anyhow!("creating a group of {} members: {} {}", n + 1, reply.status, reply.body));
    }
    let recipient = load::login_devices(api, first_user + 1, n).await;
    let room_id = api.direct_chat(sender, &recipient[0].user_id()).await;
    Ok(Members {
        room_id,
        senders: sender_devices,
        receivers: recipient,
        label: format!("{n} devices of one user (direct chat)"),
    })
}

struct Shared {
    delivered: AtomicU64,
    sent: AtomicU64,
    stop: AtomicBool,
    progress: Notify,
}

/// Drives one room: every sender sends as fast as the window allows; deliveries are
/// counted at the receivers during the measurement window, and the CPU of the
/// server processes `servers` and of PostgreSQL with them.
pub async fn drive(room: &Room, servers: &[u32], ctx: &Ctx) -> Result<FanoutRun> {
    let plan = &ctx.plan;
    let receivers = load::connect_all(&room.receivers, plan.source_addresses, plan.setup_concurrency).await?;
    let senders = load::connect_all(&room.senders, plan.source_addresses, plan.setup_concurrency).await?;
    let n = receivers.len() as u64;
    let limit = (plan.fanout_window * senders.len()) as u64 * n;
    let shared = Arc::new(Shared {
        delivered: AtomicU64::new(0),
        sent: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        progress: Notify::new(),
    });
    let (finish, finished) = watch::channel(false);

    let receiving: Vec<_> =
        receivers.into_iter().map(|socket| tokio::spawn(receive(socket, shared.clone(), finished.clone()))).collect();
    let (mut sending, mut senders_done) = (Vec::new(), Vec::new());
    for (i, socket) in senders.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        let own = Arc::new(Echoes::default());
        senders_done.push(tokio::spawn(send(sink, room.room_id.clone(), i, shared.clone(), own.clone(), n, limit)));
        let mut finished = finished.clone();
        // Read the sender's socket: acks, everybody's messages, and its own coming back.
        let prefix = format!("f{i}-");
        sending.push(tokio::spawn(async move {
            let mut stream = stream;
            load::read_frames(&mut stream, &mut finished, |incoming, _| {
                if incoming.kind == "message" && incoming.client_msg_id().is_some_and(|id| id.starts_with(&prefix)) {
                    own.echoed.fetch_add(1, Ordering::Relaxed);
                    own.progress.notify_waiters();
                }
            })
            .await
        }));
    }

    tokio::time::sleep(plan.warmup).await;
    let (d0, s0, t0) = (shared.delivered.load(Ordering::Relaxed), shared.sent.load(Ordering::Relaxed), Instant::now());
    let cpu_window = CpuWindow::start(servers);
    tokio::time::sleep(plan.measure).await;
    let (d1, s1, elapsed) =
        (shared.delivered.load(Ordering::Relaxed), shared.sent.load(Ordering::Relaxed), t0.elapsed().as_secs_f64());
    let cpu = CpuCost::of(cpu_window.stop(), s1 - s0, d1 - d0);
    shared.stop.store(true, Ordering::Relaxed);
    shared.progress.notify_waiters();

    // Let what was sent arrive, then stop everything.
    let settle_until = Instant::now() + Duration::from_secs(3);
    while shared.delivered.load(Ordering::Relaxed) < shared.sent.load(Ordering::Relaxed) * n
        && Instant::now() < settle_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut errors = Vec::new();
    let mut sinks = Vec::new();
    for task in senders_done {
        let (sink, errs) = task.await.map_err(|e| anyhow!("sender task: {e}"))?;
        sinks.push(sink);
        errors.extend(errs.into_iter().map(|e| format!("sending device: {e}")));
    }
    let _ = finish.send(true);
    let (mut min, mut max) = (u64::MAX, 0);
    for task in receiving {
        let (count, errs) = task.await.map_err(|e| anyhow!("receiver task: {e}"))?;
        (min, max) = (min.min(count), max.max(count));
        errors.extend(errs.into_iter().map(|e| format!("receiving device: {e}")));
    }
    for task in sending {
        let errs = task.await.map_err(|e| anyhow!("sender task: {e}"))?;
        errors.extend(errs.into_iter().map(|e| format!("sending device: {e}")));
    }
    let expected = shared.sent.load(Ordering::Relaxed) * n;
    Ok(FanoutRun {
        receivers: n as usize,
        deliveries_per_s: (d1 - d0) as f64 / elapsed,
        messages_per_s: (s1 - s0) as f64 / elapsed,
        min_per_receiver: if n == 0 { 0 } else { min },
        max_per_receiver: max,
        missing: expected.saturating_sub(shared.delivered.load(Ordering::Relaxed)),
        cpu,
        errors: summarize(errors),
    })
}

type Sink = futures_util::stream::SplitSink<Socket, WsMessage>;

/// Sends while the window allows until told to stop; hands the sink back, still
/// open, so that the socket closes only after its reader has finished.
async fn send(
    mut sink: Sink,
    room_id: String,
    sender: usize,
    shared: Arc<Shared>,
    own: Arc<Echoes>,
    n: u64,
    limit: u64,
) -> (Sink, Vec<String>) {
    let mut seq = 0u64;
    let mut errors = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        // The previous message came back to this sender, and every receiver is within the window.
        wait_until(&own.progress, &shared.stop, || own.echoed.load(Ordering::Relaxed) >= seq).await;
        wait_until(&shared.progress, &shared.stop, || {
            let expected = shared.sent.load(Ordering::Relaxed) * n;
            expected.saturating_sub(shared.delivered.load(Ordering::Relaxed)) < limit
        })
        .await;
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        seq += 1;
        let frame = load::message_frame(seq, &room_id, &load::content(load::now_us()), &format!("f{sender}-{seq}"));
        if let Err(error) = sink.send(WsMessage::text(frame)).await {
            errors.push(format!("send: {error}"));
            break;
        }
        shared.sent.fetch_add(1, Ordering::Relaxed);
    }
    (sink, errors)
}

/// Waits until `ready()` or `stop`, woken by `progress` (and every 5 ms regardless).
pub async fn wait_until(progress: &Notify, stop: &AtomicBool, ready: impl Fn() -> bool) {
    loop {
        let woken = progress.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if ready() || stop.load(Ordering::Relaxed) {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_millis(5), woken).await;
    }
}

/// A sender's own messages that came back to its socket.
#[derive(Default)]
struct Echoes {
    echoed: AtomicU64,
    progress: Notify,
}

async fn receive(mut socket: Socket, shared: Arc<Shared>, mut finished: watch::Receiver<bool>) -> (u64, Vec<String>) {
    let mut count = 0;
    let errors = load::read_frames(&mut socket, &mut finished, |incoming, _| {
        if incoming.kind == "message" {
            count += 1;
            shared.delivered.fetch_add(1, Ordering::Relaxed);
            shared.progress.notify_waiters();
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    (count, errors)
}
