//! Latency: time from a client sending a message to the other member's device
//! receiving it, at a fixed offered rate spread over sender/receiver pairs, with many
//! idle clients connected to the same instance; against the bare server under the
//! same load, in the same run.
//!
//! The load is open-loop: message k of a pair goes out at a fixed time whether or
//! not earlier ones have arrived, so that a server that falls behind shows it in the
//! latencies instead of slowing the senders down. Latency counts from the moment
//! the frame is handed to the socket (tokio's timer wakes the sender up to a
//! millisecond after the due time, which is no part of a server's latency); how late
//! the senders themselves were is reported, to show the client kept up.

use super::insert_latency::{self, InsertLatency};
use super::{send_rate::summarize, Ctx, Running};
use crate::cpu::{self, CpuCost};
use crate::load::{self, Idle, Latency, Socket};
use crate::procs::BareServer;
use crate::report::{self, Table};
use anyhow::{anyhow, Result};
use chitchat_testkit::TestBackend;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Debug, Clone, Serialize)]
pub struct LatencyRun {
    pub offered_per_s: u32,
    pub idle_connected: usize,
    pub sent: u64,
    pub delivered: u64,
    /// Send -> deliver of messages due after the warm-up.
    pub deliver: Latency,
    /// Send -> ack (ChitChat only: the bare server has no acks).
    pub ack: Option<Latency>,
    /// The longest a sender was behind its schedule (a client that cannot keep up).
    pub sender_late_max_ms: f64,
    /// (percentile, milliseconds) points of the delivery latency, for plots.
    pub curve: Vec<(f64, f64)>,
    /// CPU after the warm-up; a message and a delivery are the same here (one
    /// receiving device per message; the sender's own device gets it too).
    pub cpu: CpuCost,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    pub offered_per_s: u32,
    pub chitchat: LatencyRun,
    pub bare: LatencyRun,
    /// ChitChat's p99 over the bare server's.
    pub p99_ratio: f64,
    /// Single-row INSERT + COMMIT offered at the same rate on the same database
    /// (PostgreSQL only).
    pub insert: Option<InsertLatency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    pub backend: &'static str,
    pub pairs: usize,
    pub idle: usize,
    pub duration_s: f64,
    pub rows: Vec<LatencyRow>,
}

impl LatencyReport {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!(
                "Send -> deliver latency, {} ({} idle clients connected, {} sender/receiver pairs, {:.0} s per rate)",
                self.backend, self.idle, self.pairs, self.duration_s
            ),
            &[
                &["msg/s", "server", "delivered", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99 ratio to bare"][..],
                &cpu::HEADER[..],
            ]
            .concat(),
        );
        for row in &self.rows {
            for (name, run, ratio) in [
                ("bare actix-ws", &row.bare, report::ratio(1.0)),
                ("ChitChat", &row.chitchat, report::ratio(row.p99_ratio)),
            ] {
                table.row(
                    vec![
                        row.offered_per_s.to_string(),
                        name.to_owned(),
                        format!("{}/{}", run.delivered, run.sent),
                        report::ms(run.deliver.p50_ms),
                        report::ms(run.deliver.p95_ms),
                        report::ms(run.deliver.p99_ms),
                        report::ms(run.deliver.max_ms),
                        ratio,
                    ]
                    .into_iter()
                    .chain(run.cpu.cells())
                    .collect(),
                );
            }
            if let Some(ack) = row.chitchat.ack {
                table.row(
                    vec![
                        row.offered_per_s.to_string(),
                        "ChitChat send -> ack".to_owned(),
                        ack.count.to_string(),
                        report::ms(ack.p50_ms),
                        report::ms(ack.p95_ms),
                        report::ms(ack.p99_ms),
                        report::ms(ack.max_ms),
                    ]
                    .into_iter()
                    .chain(std::iter::repeat_n(String::new(), 1 + cpu::HEADER.len()))
                    .collect(),
                );
            }
            if let Some(insert) = &row.insert {
                table.row(
                    vec![
                        row.offered_per_s.to_string(),
                        format!("plain INSERT + COMMIT, open loop, {} connections", insert.writers),
                        insert.committed.to_string(),
                        report::ms(insert.latency.p50_ms),
                        report::ms(insert.latency.p95_ms),
                        report::ms(insert.latency.p99_ms),
                        report::ms(insert.latency.max_ms),
                        String::new(),
                    ]
                    .into_iter()
                    .chain(insert.cpu.cells())
                    .collect(),
                );
            }
        }
        table
    }
}

/// One sender/receiver pair: the room and the two URLs.
struct Pair {
    room_id: String,
    sender: String,
    receiver: String,
}

/// Runs every rate of the plan on ChitChat (`backend`) and on the bare server. The
/// bare server's runs are kept in `bare_runs_of_this_run` and reused by a later call
/// (embedded mode) with the same plan.
pub async fn run(
    ctx: &Ctx,
    backend: TestBackend,
    bare_runs_of_this_run: &mut Option<Vec<LatencyRun>>,
) -> Result<LatencyReport> {
    let plan = &ctx.plan;
    let (chitchat, inserts) = chitchat_runs(ctx, backend).await?;
    let bare = match bare_runs_of_this_run {
        Some(runs) => runs.clone(),
        None => bare_runs_of_this_run.insert(bare_runs(ctx).await?).clone(),
    };
    let mut inserts = inserts.into_iter();
    let rows = chitchat
        .into_iter()
        .zip(bare)
        .map(|(chitchat, bare)| LatencyRow {
            offered_per_s: chitchat.offered_per_s,
            p99_ratio: report::div(chitchat.deliver.p99_ms, bare.deliver.p99_ms),
            insert: inserts.next(),
            chitchat,
            bare,
        })
        .collect();
    Ok(LatencyReport {
        backend: crate::plan::backend_label(backend),
        pairs: plan.latency_pairs,
        idle: plan.latency_idle,
        duration_s: plan.latency_duration.as_secs_f64(),
        rows,
    })
}

/// ChitChat's runs, then (on PostgreSQL) the INSERT baseline at each rate on the
/// server's database, the server idle meanwhile.
async fn chitchat_runs(ctx: &Ctx, backend: TestBackend) -> Result<(Vec<LatencyRun>, Vec<InsertLatency>)> {
    let running: Running = ctx.start_chitchat(backend).await?;
    let result = async {
        let plan = &ctx.plan;
        let server = &running.server;
        let (api, ws) = (server.client(), server.ws_url());
        let people = load::login_users(&api, 0, plan.latency_pairs * 2, plan.setup_concurrency).await;
        let mut pairs = Vec::new();
        for pair in people.chunks(2) {
            let room_id = api.direct_chat(&pair[0], &pair[1].user_id()).await;
            pairs.push(Pair {
                room_id,
                sender: load::device_url(&ws, &pair[0]),
                receiver: load::device_url(&ws, &pair[1]),
            });
        }
        let idle_people =
            load::login_users(&api, plan.latency_pairs * 2, plan.latency_idle, plan.setup_concurrency).await;
        let idle_urls: Vec<String> = idle_people.iter().map(|login| load::device_url(&ws, login)).collect();
        let measured =
            Measured { servers: vec![running.pid()?], acks: true, postgres: backend == TestBackend::Postgres };
        let runs = run_rates(ctx, &pairs, &idle_urls, &measured).await?;
        let mut inserts = Vec::new();
        if backend == TestBackend::Postgres {
            for &rate in &plan.latency_rates {
                load::progress(&format!("plain INSERT + COMMIT at {rate}/s"));
                inserts.push(
                    insert_latency::run(
                        &server.database_url,
                        rate,
                        plan.db_connections,
                        plan.warmup,
                        plan.latency_duration,
                    )
                    .await?,
                );
            }
        }
        Ok((runs, inserts))
    }
    .await;
    running.finish().await;
    result
}

async fn bare_runs(ctx: &Ctx) -> Result<Vec<LatencyRun>> {
    let plan = &ctx.plan;
    let bare = BareServer::start(&ctx.binaries.bare).await?;
    let pairs: Vec<Pair> = (0..plan.latency_pairs)
        .map(|i| {
            let room_id = format!("pair-{i}");
            Pair { sender: bare.room_url(&room_id), receiver: bare.room_url(&room_id), room_id }
        })
        .collect();
    let idle_urls: Vec<String> = (0..plan.latency_idle).map(|i| bare.room_url(&format!("idle-{i}"))).collect();
    let measured = Measured { servers: bare.pid().into_iter().collect(), acks: false, postgres: false };
    let result = run_rates(ctx, &pairs, &idle_urls, &measured).await;
    bare.stop().await;
    result
}

/// The server measured: its processes, whether it answers with acks (ChitChat)
/// and whether it keeps its data in PostgreSQL.
struct Measured {
    servers: Vec<u32>,
    acks: bool,
    postgres: bool,
}

/// Connects the idle clients, then runs each rate with fresh pair connections.
async fn run_rates(ctx: &Ctx, pairs: &[Pair], idle_urls: &[String], measured: &Measured) -> Result<Vec<LatencyRun>> {
    let plan = &ctx.plan;
    let idle = Idle::hold(load::connect_all(idle_urls, plan.source_addresses, plan.setup_concurrency).await?);
    let mut runs = Vec::new();
    for &rate in &plan.latency_rates {
        match one_rate(ctx, pairs, rate, measured).await {
            Ok(mut run) => {
                run.idle_connected = idle.len();
                runs.push(run);
            }
            Err(error) => {
                idle.close().await;
                return Err(error);
            }
        }
    }
    let dropped = idle.close().await;
    if dropped > 0 {
        if let Some(run) = runs.last_mut() {
            run.errors.push(format!("{dropped} idle clients were disconnected by the server"));
        }
    }
    Ok(runs)
}

struct Counters {
    sent: AtomicU64,
    delivered: AtomicU64,
    /// The longest a sender sent after a message's due time.
    late_max_us: AtomicU64,
}

async fn one_rate(ctx: &Ctx, pairs: &[Pair], rate: u32, measured: &Measured) -> Result<LatencyRun> {
    let plan = &ctx.plan;
    let senders: Vec<String> = pairs.iter().map(|p| p.sender.clone()).collect();
    let receivers: Vec<String> = pairs.iter().map(|p| p.receiver.clone()).collect();
    let receivers = load::connect_all(&receivers, plan.source_addresses, plan.setup_concurrency).await?;
    let senders = load::connect_all(&senders, plan.source_addresses, plan.setup_concurrency).await?;

    let start = Instant::now() + Duration::from_millis(200);
    let measured_from_us = load::us_at(start + plan.warmup);
    let run = load::now_us();
    let end = start + plan.warmup + plan.latency_duration;
    let counters =
        Arc::new(Counters { sent: AtomicU64::new(0), delivered: AtomicU64::new(0), late_max_us: AtomicU64::new(0) });
    let (finish, finished) = watch::channel(false);
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let count = pairs.len();

    let mut receiving = Vec::new();
    for socket in receivers {
        let histogram = load::histogram()?;
        receiving.push(tokio::spawn(receive(socket, histogram, measured_from_us, counters.clone(), finished.clone())));
    }
    let mut sending = Vec::new();
    let mut acking = Vec::new();
    for (i, (socket, pair)) in senders.into_iter().zip(pairs).enumerate() {
        let (sink, stream) = socket.split();
        let schedule =
            Schedule { run, first: start + interval.mul_f64(i as f64), every: interval.mul_f64(count as f64), end };
        sending.push(tokio::spawn(send(sink, pair.room_id.clone(), i, schedule, counters.clone())));
        acking.push(tokio::spawn(read_acks(stream, load::histogram()?, measured_from_us, finished.clone())));
    }
    let cpu_window = cpu::window_between(measured.servers.clone(), start + plan.warmup, end);
    let mut errors = Vec::new();
    for task in sending {
        errors.extend(task.await.map_err(|e| anyhow!("sender task: {e}"))?);
    }
    let used = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    let settle_until = Instant::now() + Duration::from_secs(5);
    while counters.delivered.load(Ordering::Relaxed) < counters.sent.load(Ordering::Relaxed)
        && Instant::now() < settle_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = finish.send(true);
    let mut deliver = load::histogram()?;
    for task in receiving {
        let (histogram, errs) = task.await.map_err(|e| anyhow!("receiver task: {e}"))?;
        deliver.add(&histogram).map_err(|e| anyhow!("{e}"))?;
        errors.extend(errs);
    }
    let mut ack = load::histogram()?;
    for task in acking {
        let (histogram, errs) = task.await.map_err(|e| anyhow!("ack reader task: {e}"))?;
        ack.add(&histogram).map_err(|e| anyhow!("{e}"))?;
        errors.extend(errs);
    }
    let (sent, delivered) = (counters.sent.load(Ordering::Relaxed), counters.delivered.load(Ordering::Relaxed));
    if delivered < sent {
        errors.push(format!("{} of {sent} messages not delivered within 5 s of the end", sent - delivered));
    }
    Ok(LatencyRun {
        offered_per_s: rate,
        idle_connected: 0,
        sent,
        delivered,
        deliver: Latency::of(&deliver),
        ack: measured.acks.then(|| Latency::of(&ack)),
        curve: curve(&deliver),
        cpu: if measured.postgres {
            CpuCost::of(used, deliver.len(), deliver.len())
        } else {
            CpuCost::of(used, deliver.len(), deliver.len()).server_only()
        },
        sender_late_max_ms: counters.late_max_us.load(Ordering::Relaxed) as f64 / 1000.0,
        errors: summarize(errors),
    })
}

/// Points of the latency-by-percentile curve: 0, 50, 90, 99, 99.9 ... percent.
fn curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0]
        .iter()
        .map(|&q| (q * 100.0, histogram.value_at_quantile(q) as f64 / 1000.0))
        .collect()
}

/// When a sender's messages are due: `first`, then every `every`, until `end`.
#[derive(Clone, Copy)]
struct Schedule {
    /// Unique to the run: the pairs send again in the next run, and a reused
    /// `client_msg_id` would be taken for a retry (acknowledged, not delivered again).
    run: u64,
    first: Instant,
    every: Duration,
    end: Instant,
}

type Sink = futures_util::stream::SplitSink<Socket, WsMessage>;
type Stream = futures_util::stream::SplitStream<Socket>;

async fn send(
    mut sink: Sink,
    room_id: String,
    sender: usize,
    schedule: Schedule,
    counters: Arc<Counters>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut due = schedule.first;
    let mut seq = 0u64;
    while due <= schedule.end {
        tokio::time::sleep_until(due.into()).await;
        seq += 1;
        let now = load::now_us();
        counters.late_max_us.fetch_max(now.saturating_sub(load::us_at(due)), Ordering::Relaxed);
        let client_msg_id = format!("l{}-{sender}-{seq}", schedule.run);
        let frame = load::message_frame(seq, &room_id, &load::content(now), &client_msg_id);
        if let Err(error) = sink.send(WsMessage::text(frame)).await {
            errors.push(format!("send: {error}"));
            break;
        }
        counters.sent.fetch_add(1, Ordering::Relaxed);
        due += schedule.every;
    }
    errors
}

async fn receive(
    mut socket: Socket,
    mut histogram: Histogram<u64>,
    measured_from_us: u64,
    counters: Arc<Counters>,
    mut finished: watch::Receiver<bool>,
) -> (Histogram<u64>, Vec<String>) {
    let errors = load::read_frames(&mut socket, &mut finished, |incoming, now| {
        if incoming.kind == "message" {
            counters.delivered.fetch_add(1, Ordering::Relaxed);
            if let Some(sent) = incoming.sent_us().filter(|&sent| sent >= measured_from_us) {
                load::record(&mut histogram, now.saturating_sub(sent));
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
    (histogram, errors)
}

/// Reads a sender's socket: the `ack` of each message (its payload is the stored
/// message, with the content that was sent) gives send -> ack.
async fn read_acks(
    mut stream: Stream,
    mut histogram: Histogram<u64>,
    measured_from_us: u64,
    mut finished: watch::Receiver<bool>,
) -> (Histogram<u64>, Vec<String>) {
    let errors = load::read_frames(&mut stream, &mut finished, |incoming, now| {
        if incoming.kind == "ack" {
            if let Some(sent) = incoming.sent_us().filter(|&sent| sent >= measured_from_us) {
                load::record(&mut histogram, now.saturating_sub(sent));
            }
        }
    })
    .await;
    (histogram, errors)
}
