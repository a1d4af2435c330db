//! Peers: two people, one sending to the other, on ChitChat (PostgreSQL and
//! SQLite), Synapse and ejabberd, with one message in flight at a time and with 32:
//! messages per second received, send -> receive latency, the servers' CPU per
//! message and their peak memory (`VmHWM`). The peers must be installed first
//! (`crates/bench/peers/install.sh`).
//!
//! A message is in flight from the moment it is handed to its sender's connection
//! until the receiver has it; the sender sends whenever fewer than the window are,
//! so that each server runs as fast as it delivers one person's messages.

use super::send_rate::summarize;
use super::Ctx;
use crate::cpu::{self, CpuCost};
use crate::load::{self, Latency, Socket};
use crate::peers::{ejabberd::Ejabberd, synapse::Synapse, Inbox, Outbox, Queued};
use crate::procs;
use crate::report::{self, Table};
use anyhow::{anyhow, Result};
use chitchat_testkit::TestBackend;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Messages in flight at once, in turn.
const WINDOWS: [usize; 2] = [1, 32];

#[derive(Debug, Clone, Serialize)]
pub struct PeerRun {
    pub server: String,
    pub in_flight: usize,
    pub messages_per_s: f64,
    pub latency: Latency,
    pub cpu: CpuCost,
    /// Peak resident memory of the server process over all its runs, KiB.
    pub peak_rss_kib: Option<u64>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Peers {
    pub runs: Vec<PeerRun>,
    /// Servers that could not be measured, and why.
    pub skipped: Vec<String>,
}

impl Peers {
    pub fn table(&self) -> Table {
        let mut header = vec!["server", "in flight", "messages/s", "p50 ms", "p99 ms", "peak RSS MiB"];
        header.extend(cpu::HEADER);
        let mut table = Table::new("Two people, one sending to the other: ChitChat and its peers", &header);
        for run in &self.runs {
            let rss = run.peak_rss_kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1}", kib as f64 / 1024.0));
            let cells = [
                run.server.clone(),
                run.in_flight.to_string(),
                report::rate(run.messages_per_s),
                report::ms(run.latency.p50_ms),
                report::ms(run.latency.p99_ms),
                rss,
            ];
            table.row(cells.into_iter().chain(run.cpu.cells()).collect());
        }
        table
    }

    pub fn errors(&self) -> Vec<String> {
        let mut errors: Vec<String> = self.skipped.clone();
        for run in &self.runs {
            errors.extend(run.errors.iter().map(|e| format!("{}, {} in flight: {e}", run.server, run.in_flight)));
        }
        errors
    }
}

pub async fn run(ctx: &Ctx) -> Result<Peers> {
    let mut peers = Peers { runs: Vec::new(), skipped: Vec::new() };
    for backend in [TestBackend::Postgres, TestBackend::Sqlite] {
        let name = format!("ChitChat ({})", crate::plan::backend_label(backend));
        load::progress(&name);
        let running = ctx.start_chitchat(backend).await?;
        let runs = async {
            let server = &running.server;
            let api = server.client();
            let people = load::login_users(&api, 0, 2, 1).await;
            let room = api.direct_chat(&people[0], &people[1].user_id()).await;
            let url = |i: usize| load::device_url(&server.ws_url(), &people[i]);
            let sender = load::connect(&url(0), load::source_ip(0, 1)).await?;
            let receiver = load::connect(&url(1), load::source_ip(1, 1)).await?;
            let postgres = backend == TestBackend::Postgres;
            let pair = (chitchat_outbox(sender, room), ChitChatInbox(receiver));
            measure(ctx, &name, pair, running.pid()?, postgres).await
        }
        .await;
        running.finish().await;
        peers.runs.extend(runs?);
    }

    load::progress("Synapse");
    let synapse = async {
        let synapse = Synapse::start().await?;
        let runs = async {
            let pid = synapse.pid().ok_or_else(|| anyhow!("Synapse has exited"))?;
            measure(ctx, "Synapse (SQLite)", synapse.pair().await?, pid, false).await
        }
        .await;
        synapse.stop().await;
        runs
    }
    .await;
    match synapse {
        Ok(runs) => peers.runs.extend(runs),
        Err(error) => peers.skipped.push(format!("Synapse: {error:#}")),
    }

    load::progress("ejabberd");
    let ejabberd = async {
        let ejabberd = Ejabberd::start().await?;
        let runs = async {
            let pid = ejabberd.pid().ok_or_else(|| anyhow!("no pid file of ejabberd"))?;
            measure(ctx, "ejabberd (Mnesia)", ejabberd.pair().await?, pid, false).await
        }
        .await;
        ejabberd.stop().await;
        runs
    }
    .await;
    match ejabberd {
        Ok(runs) => peers.runs.extend(runs),
        Err(error) => peers.skipped.push(format!("ejabberd: {error:#}")),
    }
    Ok(peers)
}

/// Every window on one server, over the same two connections; `postgres` when the
/// server keeps its data there (otherwise in its own process: no PostgreSQL columns).
async fn measure<O: Outbox, I: Inbox>(
    ctx: &Ctx,
    server: &str,
    (outbox, mut inbox): (O, I),
    pid: u32,
    postgres: bool,
) -> Result<Vec<PeerRun>> {
    let outbox = Arc::new(outbox);
    let mut runs = Vec::new();
    for window in WINDOWS {
        let (mut run, back) = exchange(ctx, server, outbox.clone(), inbox, window, pid).await?;
        inbox = back;
        if !postgres {
            run.cpu = run.cpu.server_only();
        }
        runs.push(run);
    }
    let peak = procs::peak_rss_kib(pid);
    runs.iter_mut().for_each(|run| run.peak_rss_kib = peak);
    Ok(runs)
}

/// ChitChat's sender: message frames queued for the socket's writer; what comes
/// back on the sender's own socket (acks, its own messages) is read and dropped.
fn chitchat_outbox(socket: Socket, room: String) -> Queued {
    let (mut sink, mut stream) = socket.split();
    let (frames, mut queue) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(WsMessage::text(frame)).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    Queued::new(frames, move |number, content| load::message_frame(number, &room, content, &format!("p{number}")))
}

struct ChitChatInbox(Socket);

impl Inbox for ChitChatInbox {
    async fn next(&mut self) -> Result<Vec<String>> {
        loop {
            match self.0.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    let incoming = load::Incoming::parse(text.as_str())?;
                    if incoming.kind == "message" {
                        return Ok(incoming.payload.and_then(|p| p.content).map(str::to_owned).into_iter().collect());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(anyhow!("receiver: {error}")),
                None => return Err(anyhow!("receiver: connection ended")),
            }
        }
    }
}

/// Runs the exchange for the warm-up and the measurement; hands the inbox back
/// for the next window.
async fn exchange<O: Outbox, I: Inbox>(
    ctx: &Ctx,
    server: &str,
    outbox: Arc<O>,
    mut inbox: I,
    window: usize,
    pid: u32,
) -> Result<(PeerRun, I)> {
    let plan = &ctx.plan;
    let start = Instant::now();
    let (from, until) = (start + plan.warmup, start + plan.warmup + plan.measure);
    let measured_from_us = load::us_at(from);
    let in_flight = Arc::new(Semaphore::new(window));
    let received = Arc::new(AtomicU64::new(0));
    let receiving = {
        let (in_flight, received) = (in_flight.clone(), received.clone());
        tokio::spawn(async move {
            let mut histogram = load::histogram()?;
            let mut errors = Vec::new();
            // Messages still on their way when the window closes may arrive for a second more.
            while let Ok(next) = tokio::time::timeout_at((until + Duration::from_secs(1)).into(), inbox.next()).await {
                match next {
                    Ok(contents) => {
                        let now = load::now_us();
                        for content in contents {
                            in_flight.add_permits(1);
                            let sent = load::sent_us(&content).unwrap_or(0);
                            if sent >= measured_from_us && now <= load::us_at(until) {
                                received.fetch_add(1, Ordering::Relaxed);
                                load::record(&mut histogram, now.saturating_sub(sent));
                            }
                        }
                    }
                    Err(error) => {
                        errors.push(error.to_string());
                        break;
                    }
                }
            }
            Ok::<_, anyhow::Error>((histogram, errors, inbox))
        })
    };
    let cpu_window = cpu::window_between(vec![pid], from, until);
    let mut sending = tokio::task::JoinSet::new();
    while Instant::now() < until {
        let Ok(Ok(permit)) = tokio::time::timeout_at(until.into(), in_flight.acquire()).await else { break };
        permit.forget();
        let outbox = outbox.clone();
        sending.spawn(async move { outbox.send(load::content(load::now_us())).await });
    }
    let mut errors = Vec::new();
    while let Some(sent) = sending.join_next().await {
        if let Err(error) = sent.map_err(|e| anyhow!("{e}")).and_then(|r| r) {
            errors.push(format!("send: {error}"));
        }
    }
    let used = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    let (histogram, receive_errors, inbox) = receiving.await.map_err(|e| anyhow!("receiver task: {e}"))??;
    errors.extend(receive_errors);
    let count = received.load(Ordering::Relaxed);
    let run = PeerRun {
        server: server.to_owned(),
        in_flight: window,
        messages_per_s: count as f64 / plan.measure.as_secs_f64(),
        latency: Latency::of(&histogram),
        cpu: CpuCost::of(used, count, count),
        peak_rss_kib: None,
        errors: summarize(errors),
    };
    // Let what is still on its way arrive before the next window starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok((run, inbox))
}
