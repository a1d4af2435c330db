//! A realistic mix: every user connected, in groups of four; for each message sent,
//! its sender first sends a `typing` frame, and each of the three other members
//! answers the message with a `delivered` and a `read` receipt. So per message: one
//! typing event, three delivery receipts, three read receipts.
//!
//! Open loop, stepped: each step offers a fixed message rate, spread over the users
//! in turn (one group after another, so that a group's members take turns), whatever
//! arrives; the offered rate goes up step by step until one does not hold, that is until the
//! p99 of send -> delivery to the other members or of receipt -> ack reaches
//! `P99_LIMIT_MS`, or what was sent is not all answered within `SETTLE` of the
//! step's end. The figure is the highest offered rate that held.

use super::device::{self, Counters, Device, Shared, Snapshot};
use super::Ctx;
use crate::cpu::{self, CpuCost};
use crate::load::{self, Latency};
use crate::report::{self, Table};
use anyhow::{anyhow, bail, Result};
use chitchat_testkit::{ApiClient, Login};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The p99 a step must stay under, in milliseconds.
pub const P99_LIMIT_MS: f64 = 100.0;
/// Members of each group.
const GROUP: usize = 4;
/// How long after a step's end everything sent must be answered.
const SETTLE: Duration = Duration::from_secs(5);
/// Tasks sharing a step's schedule.
const SCHEDULERS: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub struct MixStep {
    pub offered_per_s: u32,
    pub messages_per_s: f64,
    pub receipts_per_s: f64,
    pub deliveries_per_s: f64,
    /// Send -> delivery to the other members' devices.
    pub deliver: Latency,
    /// Receipt sent -> its ack.
    pub receipt_ack: Latency,
    /// Messages, receipts and deliveries still unanswered `SETTLE` after the step.
    pub unanswered: u64,
    /// The longest a scheduler was behind its schedule (a client that cannot keep up).
    pub sender_late_max_ms: f64,
    pub cpu: CpuCost,
    pub held: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mix {
    pub backend: &'static str,
    pub users: usize,
    pub step_s: f64,
    pub steps: Vec<MixStep>,
    /// The highest offered rate that held, if any did.
    pub best_per_s: Option<u32>,
    pub errors: Vec<String>,
}

impl Mix {
    pub fn table(&self) -> Table {
        let header = [
            &[
                "offered msg/s",
                "messages/s",
                "receipts/s",
                "deliveries/s",
                "deliver p50 ms",
                "deliver p99 ms",
                "receipt ack p50 ms",
                "receipt ack p99 ms",
                "holds",
            ][..],
            &cpu::HEADER[..],
        ]
        .concat();
        let mut table = Table::new(
            format!(
                "Realistic mix, {} ({} users connected in groups of {GROUP}; per message a typing event, 3 delivery \
                 and 3 read receipts; {:.0} s per step)",
                self.backend, self.users, self.step_s
            ),
            &header,
        );
        for step in &self.steps {
            table.row(
                vec![
                    step.offered_per_s.to_string(),
                    report::rate(step.messages_per_s),
                    report::rate(step.receipts_per_s),
                    report::rate(step.deliveries_per_s),
                    report::ms(step.deliver.p50_ms),
                    report::ms(step.deliver.p99_ms),
                    report::ms(step.receipt_ack.p50_ms),
                    report::ms(step.receipt_ack.p99_ms),
                    if step.held { "yes" } else { "no" }.to_owned(),
                ]
                .into_iter()
                .chain(step.cpu.cells())
                .collect(),
            );
        }
        table
    }

    pub fn notes(&self) -> Vec<String> {
        let best = self.best_per_s.map_or_else(|| "none".to_owned(), |rate| format!("{rate} messages/s"));
        vec![format!(
            "Highest offered rate holding p99 under {P99_LIMIT_MS:.0} ms: {best}. Open loop, {SCHEDULERS} tasks \
             share each step's schedule; a step holds when the p99 of send -> delivery and of receipt -> ack stay \
             under the limit and everything sent is answered within {} s. Schedulers were at most {} ms behind. \
             Deliveries are every frame the devices received: messages (the sender's own devices included), \
             status_update and typing. Unanswered after each step: {}.",
            SETTLE.as_secs(),
            self.steps.iter().map(|s| format!("{:.1}", s.sender_late_max_ms)).collect::<Vec<_>>().join(" / "),
            self.steps.iter().map(|s| s.unanswered.to_string()).collect::<Vec<_>>().join(" / ")
        )]
    }
}

pub async fn run(ctx: &Ctx) -> Result<Mix> {
    let plan = &ctx.plan;
    let users = plan.mix_users / GROUP * GROUP;
    if users == 0 {
        bail!("the mix needs at least {GROUP} users");
    }
    load::progress("starting chitchat");
    let running = ctx.start_chitchat(plan.backend).await?;
    let result = async {
        let server = &running.server;
        let api = server.client();
        load::progress(&format!("logging in {users} users"));
        let logins = load::login_users(&api, 1, users, plan.setup_concurrency).await;
        load::progress(&format!("{} groups of {GROUP}", users / GROUP));
        let rooms = groups(&api, &logins, plan.setup_concurrency).await?;
        let urls: Vec<String> = logins.iter().map(|login| load::device_url(&server.ws_url(), login)).collect();
        let sockets = load::connect_all(&urls, plan.source_addresses, plan.setup_concurrency).await?;
        let shared = Shared::new()?;
        let (finish, finished) = watch::channel(false);
        let devices: Arc<Vec<(Device, String)>> = Arc::new(
            sockets
                .into_iter()
                .zip(&logins)
                .enumerate()
                .map(|(i, (socket, login))| {
                    let device = Device::start(socket, login.user_id(), shared.clone(), finished.clone());
                    (device, rooms[i / GROUP].clone())
                })
                .collect(),
        );
        let pid = running.pid()?;
        let mut steps = Vec::new();
        for (number, &rate) in plan.mix_rates.iter().enumerate() {
            load::progress(&format!("{rate} messages/s"));
            let step = one_step(ctx, &devices, &shared, pid, number, rate).await?;
            let held = step.held;
            steps.push(step);
            if !held {
                break;
            }
        }
        let devices = Arc::try_unwrap(devices).map_err(|_| anyhow!("a scheduler still holds the devices"))?;
        let errors = device::finish_all(devices.into_iter().map(|(device, _)| device).collect(), &finish).await?;
        let best_per_s = steps.iter().filter(|s| s.held).map(|s| s.offered_per_s).max();
        Ok::<_, anyhow::Error>(Mix {
            backend: plan.backend_label(),
            users,
            step_s: plan.mix_step.as_secs_f64(),
            steps,
            best_per_s,
            errors,
        })
    }
    .await;
    load::progress("stopping chitchat");
    running.finish().await;
    result
}

/// Groups of `GROUP` consecutive users, each made by its first member; their ids.
async fn groups(api: &ApiClient, logins: &[Login], concurrency: usize) -> Result<Vec<String>> {
    let made: Vec<Result<String>> = futures_util::stream::iter(logins.chunks(GROUP))
        .map(|members| async move {
            let ids: Vec<String> = members[1..].iter().map(Login::user_id).collect();
            let body = json!({ "type": "group", "name": "mix", "user_ids": ids });
            let reply = api.post("/api/chats", &members[0].token, body).await;
            match reply.body["id"].as_str() {
                Some(id) if reply.status.is_success() => Ok(id.to_owned()),
                _ => Err(anyhow!("creating a group: {} {}", reply.status, reply.body)),
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    made.into_iter().collect()
}

/// What is still owed to the clients: acks of messages and receipts, and the
/// messages' deliveries to every member's device.
fn unanswered(counters: &Counters) -> u64 {
    let sent = Counters::get(&counters.messages_sent);
    sent.saturating_sub(Counters::get(&counters.messages_acked))
        + Counters::get(&counters.receipts_sent).saturating_sub(Counters::get(&counters.receipts_acked))
        + (sent * GROUP as u64).saturating_sub(Counters::get(&counters.message_frames))
}

async fn one_step(
    ctx: &Ctx,
    devices: &Arc<Vec<(Device, String)>>,
    shared: &Arc<Shared>,
    pid: u32,
    number: usize,
    rate: u32,
) -> Result<MixStep> {
    let plan = &ctx.plan;
    let start = Instant::now() + Duration::from_millis(200);
    let (from, end) = (start + plan.warmup, start + plan.warmup + plan.mix_step);
    shared.measure_from(load::us_at(from))?;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let schedulers: Vec<_> = (0..SCHEDULERS)
        .map(|task| {
            let schedule = Schedule {
                step: number,
                task,
                first: start + interval.mul_f64(task as f64),
                every: interval.mul_f64(SCHEDULERS as f64),
                end,
            };
            tokio::spawn(schedule.run(devices.clone(), shared.clone()))
        })
        .collect();
    tokio::time::sleep_until(from.into()).await;
    let before = Snapshot::of(&shared.counters);
    let window = cpu::CpuWindow::start(&[pid]);
    tokio::time::sleep_until(end.into()).await;
    let used = window.stop();
    let after = Snapshot::of(&shared.counters);
    let mut late_max_us = 0;
    for task in schedulers {
        late_max_us = late_max_us.max(task.await.map_err(|e| anyhow!("scheduler: {e}"))?);
    }
    device::settle(SETTLE, || unanswered(&shared.counters) == 0).await;
    let (deliver, receipt_ack) = shared.take()?;
    let left = unanswered(&shared.counters);
    let seconds = plan.mix_step.as_secs_f64();
    let (messages, deliveries) = (after.messages - before.messages, after.deliveries - before.deliveries);
    Ok(MixStep {
        offered_per_s: rate,
        messages_per_s: messages as f64 / seconds,
        receipts_per_s: (after.receipts - before.receipts) as f64 / seconds,
        deliveries_per_s: deliveries as f64 / seconds,
        held: deliver.p99_ms < P99_LIMIT_MS && receipt_ack.p99_ms < P99_LIMIT_MS && left == 0 && deliver.count > 0,
        deliver,
        receipt_ack,
        unanswered: left,
        sender_late_max_ms: late_max_us as f64 / 1000.0,
        cpu: CpuCost::of(used, messages, deliveries),
    })
}

/// When one scheduler's messages are due: `first`, then every `every`, until `end`.
struct Schedule {
    step: usize,
    task: usize,
    first: Instant,
    every: Duration,
    end: Instant,
}

impl Schedule {
    /// Sends the scheduled messages, each after a `typing` frame from its sender;
    /// returns how late it was at most, in microseconds.
    async fn run(self, devices: Arc<Vec<(Device, String)>>, shared: Arc<Shared>) -> u64 {
        let groups = devices.len() / GROUP;
        let (mut due, mut k, mut late_max) = (self.first, 0usize, 0u64);
        while due <= self.end {
            tokio::time::sleep_until(due.into()).await;
            let now = load::now_us();
            late_max = late_max.max(now.saturating_sub(load::us_at(due)));
            // One group after another, a different member each round.
            let n = self.task + k * SCHEDULERS;
            let user = (n % groups) * GROUP + (n / groups) % GROUP;
            let (device, room) = &devices[user];
            let typing = json!({ "type": "typing", "room_id": room, "payload": { "typing": true } }).to_string();
            let message = load::message_frame(n as u64, room, &load::content(now), &format!("m{}-{n}", self.step));
            if device.send(typing) && device.send(message) {
                shared.counters.messages_sent.fetch_add(1, Ordering::Relaxed);
            }
            k += 1;
            due += self.every;
        }
        late_max
    }
}
