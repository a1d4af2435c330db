//! Durable send rate: messages per second acknowledged over WebSocket by N
//! concurrent senders, each in a direct chat of its own and waiting for each `ack`
//! before sending the next message, against plain single-row autocommit INSERTs of
//! rows of the same shape into a scratch table of the same database, in the same run.

use super::Ctx;
use crate::cpu::{self, CpuCost};
use crate::load::{self, Latency, Socket};
use crate::report::{self, Table};
use anyhow::{anyhow, Context, Result};
use chitchat_testkit::{ApiClient, TestBackend};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The scratch table: the columns, types and unique keys of `messages`, without
/// foreign keys.
pub(crate) const SCRATCH_TABLE: &str = "CREATE TABLE bench_plain_messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    content TEXT NOT NULL,
    content_type TEXT NOT NULL,
    client_msg_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (chat_id, seq),
    UNIQUE (sender_id, client_msg_id)
)";

/// The PostgreSQL baseline's statement, prepared once per connection.
const INSERT: &str = "INSERT INTO bench_plain_messages \
    (id, chat_id, sender_id, seq, content, content_type, client_msg_id, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

#[derive(Debug, Clone, Serialize)]
pub struct SendRate {
    pub backend: &'static str,
    pub senders: usize,
    /// Concurrent writers of the plain-INSERT baseline.
    pub baseline_writers: usize,
    pub baseline_per_s: f64,
    pub chitchat_per_s: f64,
    pub ratio: f64,
    /// Send -> ack of the measured messages.
    pub ack_latency: Latency,
    pub baseline_latency: Latency,
    /// CPU per acked message (the sender's own device is the only one that gets it).
    pub chitchat_cpu: CpuCost,
    /// PostgreSQL's CPU per plain INSERT.
    pub baseline_cpu: CpuCost,
    pub errors: Vec<String>,
}

impl SendRate {
    pub fn table(&self) -> Table {
        let mut table = Table::new(
            format!("Durable send rate, {} ({} senders)", self.backend, self.senders),
            &[&["what", "messages/s", "p50 ms", "p99 ms", "ratio to plain INSERTs"][..], &cpu::HEADER[..]].concat(),
        );
        table.row(plain_row(self.baseline_writers, self.baseline_per_s, &self.baseline_latency, &self.baseline_cpu));
        table.row(rate_row(
            format!("ChitChat, {} WebSocket senders, ack after commit", self.senders),
            self.chitchat_per_s,
            &self.ack_latency,
            self.ratio,
            &self.chitchat_cpu,
        ));
        table
    }
}

/// The plain-INSERT baseline's row of a table of `rate_row`s.
pub fn plain_row(writers: usize, per_s: f64, latency: &Latency, cpu: &CpuCost) -> Vec<String> {
    rate_row(format!("plain single-row INSERTs, {writers} connections"), per_s, latency, 1.0, cpu)
}

/// A row of a rate against the plain-INSERT baseline: what, per second, p50, p99,
/// the ratio to the baseline, then the CPU columns.
pub fn rate_row(what: String, per_s: f64, latency: &Latency, ratio: f64, cpu: &CpuCost) -> Vec<String> {
    let cells =
        [what, report::rate(per_s), report::ms(latency.p50_ms), report::ms(latency.p99_ms), report::ratio(ratio)];
    cells.into_iter().chain(cpu.cells()).collect()
}

/// Measures the baseline, then ChitChat, on one fresh database of `backend`.
pub async fn run(ctx: &Ctx, backend: TestBackend, senders: usize) -> Result<SendRate> {
    let plan = &ctx.plan;
    load::progress("starting chitchat");
    let running = ctx.start_chitchat(backend).await?;
    let result = async {
        let server = &running.server;
        load::progress("plain INSERT baseline");
        let (baseline_writers, baseline) = match backend {
            TestBackend::Postgres => {
                let writers = plan.db_connections;
                (writers, postgres_inserts(&server.database_url, writers, plan.warmup, plan.measure).await?)
            }
            TestBackend::Sqlite => {
                let scratch = scratch_sqlite_path(&server.database_url)?;
                (1, sqlite_inserts(&scratch, plan.warmup, plan.measure).await?)
            }
        };
        let (baseline_per_s, baseline_latency) = (baseline.per_s, baseline.latency);

        let acked = chitchat_sends(&server.client(), &[server.ws_url()], &[running.pid()?], senders, ctx).await?;
        let chitchat_per_s = acked.per_s;
        let chitchat_cpu = match backend {
            TestBackend::Postgres => CpuCost::of(acked.cpu, acked.in_window, acked.in_window),
            TestBackend::Sqlite => CpuCost::of(acked.cpu, acked.in_window, acked.in_window).server_only(),
        };
        let (histogram, errors) = (acked.histogram, acked.errors);
        Ok::<_, anyhow::Error>(SendRate {
            backend: crate::plan::backend_label(backend),
            senders,
            baseline_writers,
            baseline_per_s,
            chitchat_per_s,
            ratio: report::div(chitchat_per_s, baseline_per_s),
            ack_latency: Latency::of(&histogram),
            baseline_latency,
            chitchat_cpu,
            baseline_cpu: baseline.cpu,
            errors: summarize(errors),
        })
    }
    .await;
    load::progress("stopping chitchat");
    running.finish().await;
    load::progress("stopped");
    result
}

/// What the ChitChat senders got: acks per second in the measurement window, their
/// latencies, and what went wrong.
pub struct Acked {
    pub per_s: f64,
    /// Acks in the measurement window.
    pub in_window: u64,
    /// CPU of `server_pids` and PostgreSQL in the measurement window.
    pub cpu: cpu::CpuUsed,
    pub histogram: hdrhistogram::Histogram<u64>,
    pub errors: Vec<String>,
}

/// Logs in `senders` pairs of users through `api`, opens a direct chat per pair,
/// connects each sender to one of `ws_bases` in turn (one server, or the instances
/// of one deployment, whose processes are `server_pids`) and runs the closed-loop
/// send load on them.
pub async fn chitchat_sends(
    api: &ApiClient,
    ws_bases: &[String],
    server_pids: &[u32],
    senders: usize,
    ctx: &Ctx,
) -> Result<Acked> {
    let plan = &ctx.plan;
    load::progress("logging in");
    let logins = load::login_users(api, 0, senders * 2, plan.setup_concurrency).await;
    let pairs: Vec<_> = logins.chunks(2).map(|pair| (pair[0].clone(), pair[1].user_id())).collect();
    let chats: Vec<String> = futures_util::stream::iter(pairs.iter())
        .map(|(login, other)| api.direct_chat(login, other))
        .buffered(plan.setup_concurrency)
        .collect()
        .await;
    let urls: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (login, _))| load::device_url(&ws_bases[i % ws_bases.len()], login))
        .collect();
    let sockets = load::connect_all(&urls, plan.source_addresses, plan.setup_concurrency).await?;
    load::progress("sending");

    let start = Instant::now() + Duration::from_millis(100);
    let window = (start + plan.warmup, start + plan.warmup + plan.measure);
    let cpu_window = cpu::window_between(server_pids.to_vec(), window.0, window.1);
    let tasks: Vec<_> = sockets
        .into_iter()
        .zip(chats)
        .enumerate()
        .map(|(i, (socket, chat))| {
            let histogram = load::histogram()?;
            Ok(tokio::spawn(send_until(socket, chat, i, histogram, start, window)))
        })
        .collect::<Result<_>>()?;
    let mut acked = 0u64;
    let mut histogram = load::histogram()?;
    let mut errors = Vec::new();
    for task in tasks {
        let outcome = task.await.map_err(|e| anyhow!("sender task: {e}"))?;
        acked += outcome.acked_in_window;
        histogram.add(&outcome.histogram).map_err(|e| anyhow!("{e}"))?;
        errors.extend(outcome.errors);
    }
    let cpu = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    Ok(Acked { per_s: acked as f64 / plan.measure.as_secs_f64(), in_window: acked, cpu, histogram, errors })
}

/// Keeps the first few distinct errors and counts the rest.
pub fn summarize(errors: Vec<String>) -> Vec<String> {
    let total = errors.len();
    let mut kept: Vec<String> = Vec::new();
    for error in errors {
        if !kept.contains(&error) && kept.len() < 5 {
            kept.push(error);
        }
    }
    if total > kept.len() {
        kept.push(format!("{total} errors in all"));
    }
    kept
}

struct SenderOutcome {
    acked_in_window: u64,
    histogram: hdrhistogram::Histogram<u64>,
    errors: Vec<String>,
}

/// One sender: message, wait for its ack, next message, until the window closes.
async fn send_until(
    mut socket: Socket,
    chat: String,
    sender: usize,
    histogram: hdrhistogram::Histogram<u64>,
    start: Instant,
    (from, until): (Instant, Instant),
) -> SenderOutcome {
    let mut outcome = SenderOutcome { acked_in_window: 0, histogram, errors: Vec::new() };
    tokio::time::sleep_until(start.into()).await;
    let mut seq = 0u64;
    while Instant::now() < until {
        seq += 1;
        let sent_at = Instant::now();
        let frame = load::message_frame(seq, &chat, &load::content(load::now_us()), &format!("s{sender}-{seq}"));
        if let Err(error) = socket.send(WsMessage::text(frame)).await {
            outcome.errors.push(format!("send: {error}"));
            break;
        }
        match next_answer(&mut socket, until + Duration::from_secs(10)).await {
            Ok(()) => {
                let done = Instant::now();
                if sent_at >= from && done <= until {
                    outcome.acked_in_window += 1;
                    let micros = u64::try_from(done.duration_since(sent_at).as_micros()).unwrap_or(u64::MAX);
                    load::record(&mut outcome.histogram, micros);
                }
            }
            Err(error) => {
                outcome.errors.push(error.to_string());
                if error.to_string().starts_with("socket") {
                    break;
                }
            }
        }
    }
    let _ = socket.close(None).await;
    outcome
}

/// Reads until the answer (`ack` or `error`) to the frame just sent, skipping the
/// other frames (the sender's own device also receives the message).
async fn next_answer(socket: &mut Socket, deadline: Instant) -> Result<()> {
    loop {
        let frame = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .map_err(|_| anyhow!("socket: no ack in time"))?
            .ok_or_else(|| anyhow!("socket closed"))?
            .map_err(|e| anyhow!("socket: {e}"))?;
        let WsMessage::Text(text) = frame else {
            if let WsMessage::Close(reason) = frame {
                return Err(anyhow!("socket closed by the server: {reason:?}"));
            }
            continue;
        };
        let incoming = load::Incoming::parse(text.as_str())?;
        match incoming.kind {
            "ack" => return Ok(()),
            "error" => return Err(anyhow!("error frame: {}", incoming.error_code())),
            _ => continue,
        }
    }
}

/// When a baseline measures: inserts that start and finish inside the window count.
struct Window {
    from: Instant,
    until: Instant,
}

impl Window {
    fn after(warmup: Duration, measure: Duration) -> Self {
        let from = Instant::now() + warmup;
        Self { from, until: from + measure }
    }
}

/// What a plain-INSERT baseline measured.
pub struct Inserted {
    pub per_s: f64,
    pub latency: Latency,
    /// PostgreSQL's CPU per INSERT (none on SQLite, which runs in this process).
    pub cpu: CpuCost,
}

/// Plain single-row autocommit INSERTs from `writers` connections of their own,
/// each with a prepared statement.
pub async fn postgres_inserts(url: &str, writers: usize, warmup: Duration, measure: Duration) -> Result<Inserted> {
    let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let admin_task = tokio::spawn(connection);
    admin.batch_execute(SCRATCH_TABLE).await.context("creating the scratch table")?;
    let window = Window::after(warmup, measure);
    let cpu_window = cpu::window_between(Vec::new(), window.from, window.until);
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let url = url.to_owned();
        let (from, until) = (window.from, window.until);
        tasks.push(tokio::spawn(async move {
            let mut plain = PlainWriter::connect(&url, writer).await?;
            let mut histogram = load::histogram()?;
            let mut count = 0u64;
            while Instant::now() < until {
                let started = Instant::now();
                plain.insert_next().await?;
                let done = Instant::now();
                if started >= from && done <= until {
                    count += 1;
                    load::record(&mut histogram, u64::try_from((done - started).as_micros()).unwrap_or(u64::MAX));
                }
            }
            plain.close().await;
            Ok::<_, anyhow::Error>((count, histogram))
        }));
    }
    let total = collect_writers(tasks).await?;
    let used = cpu_window.await.map_err(|e| anyhow!("CPU window: {e}"))?;
    let _ = admin.batch_execute("DROP TABLE bench_plain_messages").await;
    drop(admin);
    let _ = admin_task.await;
    Ok(Inserted {
        per_s: total.0 as f64 / measure.as_secs_f64(),
        latency: Latency::of(&total.1),
        cpu: CpuCost::of(used, total.0, 0).postgres_only(),
    })
}

/// Rows written in the window, and their latencies.
type Written = (u64, hdrhistogram::Histogram<u64>);

async fn collect_writers(tasks: Vec<tokio::task::JoinHandle<Result<Written>>>) -> Result<Written> {
    let mut total = 0;
    let mut histogram = load::histogram()?;
    for task in tasks {
        let (count, part) = task.await.map_err(|e| anyhow!("writer task: {e}"))??;
        total += count;
        histogram.add(&part).map_err(|e| anyhow!("{e}"))?;
    }
    Ok((total, histogram))
}

/// A row shaped like a stored message.
struct PlainRow {
    id: String,
    chat_id: String,
    sender_id: String,
    seq: i64,
    content: String,
    client_msg_id: String,
    created_at: i64,
}

/// A connection of its own inserting rows of one chat and sender, one autocommit
/// `INSERT` each, with its statement prepared once.
pub(crate) struct PlainWriter {
    client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    insert: tokio_postgres::Statement,
    chat: String,
    sender: String,
    writer: usize,
    seq: i64,
}

impl PlainWriter {
    pub async fn connect(url: &str, writer: usize) -> Result<Self> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        let insert = client.prepare(INSERT).await?;
        let (chat, sender) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
        Ok(Self { client, connection, insert, chat, sender, writer, seq: 0 })
    }

    /// Inserts the next row; returns once it has committed.
    pub async fn insert_next(&mut self) -> Result<()> {
        self.seq += 1;
        let row = PlainRow::new(&self.chat, &self.sender, self.seq, self.writer);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 8] = [
            &row.id,
            &row.chat_id,
            &row.sender_id,
            &row.seq,
            &row.content,
            &"text",
            &row.client_msg_id,
            &row.created_at,
        ];
        self.client.execute(&self.insert, &params).await?;
        Ok(())
    }

    pub async fn close(self) {
        drop(self.client);
        let _ = self.connection.await;
    }
}

impl PlainRow {
    fn new(chat: &str, sender: &str, seq: i64, writer: usize) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            chat_id: chat.to_owned(),
            sender_id: sender.to_owned(),
            seq,
            content: load::content(load::now_us()),
            client_msg_id: format!("w{writer}-{seq}"),
            created_at: i64::try_from(load::now_us()).unwrap_or_default(),
        }
    }
}

/// A scratch SQLite file next to the server's database (same disk).
fn scratch_sqlite_path(database_url: &str) -> Result<std::path::PathBuf> {
    let path = database_url.strip_prefix("sqlite://").context("a sqlite:// URL")?;
    Ok(Path::new(path).with_file_name("bench-plain.db"))
}

/// The scratch table for diesel (SQLite baseline).
mod scratch {
    diesel::table! {
        bench_plain_messages (id) {
            id -> Text,
            chat_id -> Text,
            sender_id -> Text,
            seq -> BigInt,
            content -> Text,
            content_type -> Text,
            client_msg_id -> Text,
            created_at -> BigInt,
        }
    }
}

/// Plain single-row autocommit INSERTs into a scratch SQLite file with the server's
/// settings (WAL, `synchronous = NORMAL`), from one connection: SQLite has one
/// writer at a time, and the server's pool has one connection.
async fn sqlite_inserts(path: &Path, warmup: Duration, measure: Duration) -> Result<Inserted> {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use scratch::bench_plain_messages as t;
    let path = path.to_owned();
    let window = Window::after(warmup, measure);
    let (count, histogram) = tokio::task::spawn_blocking(move || -> Result<Written> {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; \
             PRAGMA foreign_keys = ON;",
        )?;
        conn.batch_execute(SCRATCH_TABLE)?;
        let (chat, sender) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
        let mut histogram = load::histogram()?;
        let (mut count, mut seq) = (0u64, 0i64);
        while Instant::now() < window.until {
            seq += 1;
            let row = PlainRow::new(&chat, &sender, seq, 0);
            let started = Instant::now();
            // diesel caches the prepared statement of a query built this way (not of `sql_query`).
            diesel::insert_into(t::table)
                .values((
                    t::id.eq(&row.id),
                    t::chat_id.eq(&row.chat_id),
                    t::sender_id.eq(&row.sender_id),
                    t::seq.eq(row.seq),
                    t::content.eq(&row.content),
                    t::content_type.eq("text"),
                    t::client_msg_id.eq(&row.client_msg_id),
                    t::created_at.eq(row.created_at),
                ))
                .execute(&mut conn)?;
            let done = Instant::now();
            if started >= window.from && done <= window.until {
                count += 1;
                load::record(&mut histogram, u64::try_from((done - started).as_micros()).unwrap_or(u64::MAX));
            }
        }
        Ok((count, histogram))
    })
    .await
    .map_err(|e| anyhow!("SQLite writer: {e}"))??;
    Ok(Inserted {
        per_s: count as f64 / measure.as_secs_f64(),
        latency: Latency::of(&histogram),
        cpu: CpuCost::of(cpu::CpuUsed { server_s: f64::NAN, postgres_s: f64::NAN }, count, 0),
    })
}
