//! Peers: two people on ChitChat (PostgreSQL and SQLite), Synapse and ejabberd
//! (Mnesia, and SQLite with every message archived), one sending to the other and
//! then both answering each other, with one message in flight at a time and with
//! 32: messages per second received, send -> receive latency, the servers' CPU per
//! message and their peak memory (`VmHWM`). The peers must be installed first
//! (`crates/bench/peers/install.sh`).
//!
//! A message is in flight from the moment it is handed to its sender's connection
//! until the receiver has it. One way, the sender sends whenever fewer than the
//! window are, so that each server runs as fast as it delivers one person's
//! messages; answering, the window's messages are sent at the start, in turn by
//! the two people, and each message received is answered at once.

use super::send_rate::summarize;
use super::Ctx;
use crate::cpu::{self, CpuCost};
use crate::load::{self, Latency, Socket};
use crate::peers::ejabberd::{Ejabberd, Storage};
use crate::peers::{synapse::Synapse, Inbox, Outbox, Person, Queued};
use crate::procs;
use crate::report::{self, Table};
use anyhow::{anyhow, Result};
use chitchat_testkit::TestBackend;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Messages in flight at once, in turn (both people's together when they answer).
const WINDOWS: [usize; 2] = [1, 32];

/// Who sends in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Turns {
    /// One person sends, the other only receives.
    OneWay,
    /// Both send, and each answers every message they receive with one of their own.
    Answering,
}

impl Turns {
    fn label(self) -> &'static str {
        match self {
            Turns::OneWay => "one way",
            Turns::Answering => "both, answering",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerRun {
    pub server: String,
    pub turns: Turns,
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
        let mut header = vec!["server", "who sends", "in flight", "messages/s", "p50 ms", "p99 ms", "peak RSS MiB"];
        header.extend(cpu::HEADER);
        let mut table =
            Table::new("Two people, one sending to the other or both answering: ChitChat and its peers", &header);
        for run in &self.runs {
            let rss = run.peak_rss_kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1}", kib as f64 / 1024.0));
            let cells = [
                run.server.clone(),
                run.turns.label().to_owned(),
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
            errors.extend(
                run.errors
                    .iter()
                    .map(|e| format!("{}, {}, {} in flight: {e}", run.server, run.turns.label(), run.in_flight)),
            );
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
            let alice = load::connect(&url(0), load::source_ip(0, 1)).await?;
            let bob = load::connect(&url(1), load::source_ip(1, 1)).await?;
            let postgres = backend == TestBackend::Postgres;
            let pair = [
                chitchat_person(alice, room.clone(), people[0].user_id()),
                chitchat_person(bob, room, people[1].user_id()),
            ];
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

    for storage in [Storage::Mnesia, Storage::MamSqlite] {
        let name = storage.label();
        load::progress(name);
        let ejabberd = async {
            let ejabberd = Ejabberd::start(storage).await?;
            let runs = async {
                let pid = ejabberd.pid().ok_or_else(|| anyhow!("no pid file of ejabberd"))?;
                measure(ctx, name, ejabberd.pair().await?, pid, false).await
            }
            .await;
            ejabberd.stop().await;
            runs
        }
        .await;
        match ejabberd {
            Ok(runs) => peers.runs.extend(runs),
            Err(error) => peers.skipped.push(format!("{name}: {error:#}")),
        }
    }
    Ok(peers)
}

/// Every kind of run and window on one server, over the same connections;
/// `postgres` when the server keeps its data there (otherwise in its own process:
/// no PostgreSQL columns).
async fn measure<O: Outbox, I: Inbox>(
    ctx: &Ctx,
    server: &str,
    [alice, bob]: [Person<O, I>; 2],
    pid: u32,
    postgres: bool,
) -> Result<Vec<PeerRun>> {
    let outboxes = [Arc::new(alice.outbox), Arc::new(bob.outbox)];
    let mut inboxes = [alice.inbox, bob.inbox];
    let mut runs = Vec::new();
    for turns in [Turns::OneWay, Turns::Answering] {
        for window in WINDOWS {
            let (mut run, back) = exchange(ctx, server, &outboxes, inboxes, turns, window, pid).await?;
            inboxes = back;
            if !postgres {
                run.cpu = run.cpu.server_only();
            }
            runs.push(run);
        }
    }
    let peak = procs::peak_rss_kib(pid);
    runs.iter_mut().for_each(|run| run.peak_rss_kib = peak);
    Ok(runs)
}

/// One person on ChitChat over one socket: message frames queued for the socket's
/// writer, and the reading half as their inbox.
fn chitchat_person(socket: Socket, room: String, user_id: String) -> Person<Queued, ChitChatInbox> {
    let (mut sink, stream) = socket.split();
    let (frames, mut queue) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(WsMessage::text(frame)).await.is_err() {
                break;
            }
        }
    });
    let outbox =
        Queued::new(frames, move |number, content| load::message_frame(number, &room, content, &format!("p{number}")));
    Person { outbox, inbox: ChitChatInbox { stream, user_id } }
}

/// What comes on a person's socket besides the other's messages (acks, their own
/// messages coming back) is read and dropped.
struct ChitChatInbox {
    stream: SplitStream<Socket>,
    user_id: String,
}

impl Inbox for ChitChatInbox {
    async fn next(&mut self) -> Result<Vec<String>> {
        loop {
            match self.stream.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    let incoming = load::Incoming::parse(text.as_str())?;
                    if incoming.kind == "message" && incoming.sender != Some(self.user_id.as_str()) {
                        return Ok(incoming.payload.and_then(|p| p.content).map(str::to_owned).into_iter().collect());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(anyhow!("{}: {error}", self.user_id)),
                None => return Err(anyhow!("{}: connection ended", self.user_id)),
            }
        }
    }
}

/// Runs the exchange for the warm-up and the measurement; hands the inboxes back
/// for the next run.
async fn exchange<O: Outbox, I: Inbox>(
    ctx: &Ctx,
    server: &str,
    outboxes: &[Arc<O>; 2],
    inboxes: [I; 2],
    turns: Turns,
    window: usize,
    pid: u32,
) -> Result<(PeerRun, [I; 2])> {
    let plan = &ctx.plan;
    let start = Instant::now();
    let (from, until) = (start + plan.warmup, start + plan.warmup + plan.measure);
    // One way, the sender waits for a free place in the window; answering, each
    // message received is what lets the next one go, so no window is kept.
    let in_flight = Arc::new(Semaphore::new(if turns == Turns::OneWay { window } else { 0 }));
    let mut receiving = Vec::new();
    for (inbox, outbox) in inboxes.into_iter().zip(outboxes) {
        let answer = (turns == Turns::Answering).then(|| outbox.clone());
        receiving.push(tokio::spawn(receive(inbox, answer, in_flight.clone(), from, until)));
    }
    let cpu_window = cpu::window_between(vec![pid], from, until);
    let mut errors = Vec::new();
    match turns {
        Turns::OneWay => {
            let mut sending = tokio::task::JoinSet::new();
            while Instant::now() < until {
                let Ok(Ok(permit)) = tokio::time::timeout_at(until.into(), in_flight.acquire()).await else { break };
                permit.forget();
                let outbox = outboxes[0].clone();
                sending.spawn(async move { outbox.send(load::content(load::now_us())).await });
            }
            while let Some(sent) = sending.join_next().await {
                if let Err(error) = sent.map_err(|e| anyhow!("{e}")).and_then(|r| r) {
                    errors.push(format!("send: {error}"));
                }
            }
        }
        Turns::Answering => {
            // The openers, taken in turn by the two people; the answers keep them going.
            for opener in 0..window {
                if let Err(error) = outboxes[opener % 2].send(load::content(load::now_us())).await {
                    errors.push(format!("send: {error}"));
                }
            }
            tokio::time::sleep_until(until.into()).await;
        }
    }
    let used = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    let mut histogram = load::histogram()?;
    let mut count = 0;
    let mut back = Vec::new();
    for person in receiving {
        let received = person.await.map_err(|e| anyhow!("receiver task: {e}"))??;
        histogram.add(&received.histogram).map_err(|e| anyhow!("histogram: {e}"))?;
        count += received.counted;
        errors.extend(received.errors);
        back.push(received.inbox);
    }
    let inboxes: [I; 2] = back.try_into().map_err(|_| anyhow!("two inboxes"))?;
    let run = PeerRun {
        server: server.to_owned(),
        turns,
        in_flight: window,
        messages_per_s: count as f64 / plan.measure.as_secs_f64(),
        latency: Latency::of(&histogram),
        cpu: CpuCost::of(used, count, count),
        peak_rss_kib: None,
        errors: summarize(errors),
    };
    // Let what is still on its way arrive before the next run starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok((run, inboxes))
}

/// What one person received in a run.
struct Received<I> {
    histogram: Histogram<u64>,
    /// Messages sent and received within the measurement.
    counted: u64,
    errors: Vec<String>,
    inbox: I,
}

/// Reads one person's inbox until a second after the measurement; each message
/// frees a place in the window or, with `answer`, is answered at once while the
/// run lasts.
async fn receive<O: Outbox, I: Inbox>(
    mut inbox: I,
    answer: Option<Arc<O>>,
    in_flight: Arc<Semaphore>,
    from: Instant,
    until: Instant,
) -> Result<Received<I>> {
    let (measured_from_us, measured_until_us) = (load::us_at(from), load::us_at(until));
    let mut histogram = load::histogram()?;
    let mut counted = 0;
    let mut errors = Vec::new();
    // Answers over HTTP take a request each: they go out concurrently.
    let mut answers = tokio::task::JoinSet::new();
    // Messages still on their way when the window closes may arrive for a second more.
    while let Ok(next) = tokio::time::timeout_at((until + Duration::from_secs(1)).into(), inbox.next()).await {
        let contents = match next {
            Ok(contents) => contents,
            Err(error) => {
                errors.push(error.to_string());
                break;
            }
        };
        let now = load::now_us();
        for content in contents {
            in_flight.add_permits(1);
            let sent = load::sent_us(&content).unwrap_or(0);
            if sent >= measured_from_us && now <= measured_until_us {
                counted += 1;
                load::record(&mut histogram, now.saturating_sub(sent));
            }
            if let Some(outbox) = answer.as_ref().filter(|_| Instant::now() < until) {
                let outbox = outbox.clone();
                answers.spawn(async move { outbox.send(load::content(load::now_us())).await });
            }
        }
        while let Some(sent) = answers.try_join_next() {
            if let Err(error) = sent.map_err(|e| anyhow!("{e}")).and_then(|r| r) {
                errors.push(format!("answer: {error}"));
            }
        }
    }
    while let Some(sent) = answers.join_next().await {
        if let Err(error) = sent.map_err(|e| anyhow!("{e}")).and_then(|r| r) {
            errors.push(format!("answer: {error}"));
        }
    }
    Ok(Received { histogram, counted, errors, inbox })
}
