//! Receipts: in a group of 100, every receiver answers each message with a
//! `delivered` and a `read` receipt over the WebSocket, as a client with the chat
//! open does; receipts per second acknowledged (each after its transaction has
//! committed), against the send rate's baseline, plain single-row INSERTs with
//! autocommit from as many connections as the server's pool, on the same database
//! in the same run.
//!
//! The load is closed-loop: a few sending devices of one member send whenever fewer
//! than `window` messages' worth of receipts are unanswered, so that the server
//! runs as fast as it stores receipts and no queue grows without bound. Every
//! receipt that moves a position is a `status_update` to every device of the group,
//! counted as deliveries.

use super::device::{self, Counters, Device, Shared, Snapshot};
use super::fanout::{chitchat_members, wait_until};
use super::send_rate::{plain_row, postgres_inserts, rate_row, Inserted};
use super::Ctx;
use crate::cpu::{self, CpuCost, CpuWindow};
use crate::load::{self, Latency};
use crate::report::{self, Table};
use anyhow::Result;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone, Serialize)]
pub struct Receipts {
    pub backend: &'static str,
    /// Members of the group, the sender included.
    pub members: usize,
    pub sending_devices: usize,
    pub baseline_writers: usize,
    pub baseline_per_s: f64,
    pub baseline_latency: Latency,
    pub baseline_cpu: CpuCost,
    pub receipts_per_s: f64,
    pub messages_per_s: f64,
    pub deliveries_per_s: f64,
    pub ratio: f64,
    /// Receipt sent -> its ack.
    pub receipt_ack: Latency,
    /// Send -> delivery of the messages to the receivers.
    pub deliver: Latency,
    /// CPU per receipt and per delivery.
    pub cpu: CpuCost,
    /// Receipts sent and not answered 3 s after the senders stopped.
    pub unanswered: u64,
    pub errors: Vec<String>,
}

impl Receipts {
    pub fn table(&self) -> Table {
        let cpu_header = cpu::header("receipt");
        let mut header = vec!["what", "per s", "p50 ms", "p99 ms", "ratio to plain INSERTs"];
        header.extend(cpu_header.iter().map(String::as_str));
        let mut table = Table::new(
            format!(
                "Receipts, {} (group of {} members, every receiver acknowledges delivery and read)",
                self.backend, self.members
            ),
            &header,
        );
        table.row(plain_row(self.baseline_writers, self.baseline_per_s, &self.baseline_latency, &self.baseline_cpu));
        table.row(rate_row(
            "ChitChat receipts (status_update, ack after commit)".to_owned(),
            self.receipts_per_s,
            &self.receipt_ack,
            self.ratio,
            &self.cpu,
        ));
        table
    }

    pub fn notes(&self) -> Vec<String> {
        vec![format!(
            "{} sending devices of one member; each message answered by {} receivers with two receipts. In the \
             measurement window: {} messages/s, {} deliveries/s (messages and status_update frames to every \
             device), send -> delivery p50 {} ms, p99 {} ms; {} receipts unanswered 3 s after the end. CPU \
             columns: per receipt and per delivery.",
            self.sending_devices,
            self.members - 1,
            report::rate(self.messages_per_s),
            report::rate(self.deliveries_per_s),
            report::ms(self.deliver.p50_ms),
            report::ms(self.deliver.p99_ms),
            self.unanswered
        )]
    }
}

/// Messages whose receipts may be unanswered at once, over all sending devices:
/// enough to keep the next message's receipts coming while the last ones of the
/// previous are stored, few enough that the acks time the server, not a queue.
const WINDOW: u64 = 2;

pub async fn run(ctx: &Ctx) -> Result<Receipts> {
    let plan = &ctx.plan;
    load::progress("starting chitchat");
    let running = ctx.start_chitchat(plan.backend).await?;
    let result = async {
        let server = &running.server;
        load::progress("plain INSERT baseline");
        let baseline: Inserted =
            postgres_inserts(&server.database_url, plan.db_connections, plan.warmup, plan.measure).await?;
        load::progress(&format!("group of {}", plan.receipts_group));
        let api = server.client();
        let members = chitchat_members(&api, plan.receipts_group - 1, plan.receipts_senders, 1, ctx).await?;
        let room = members.spread_over(&[server.ws_url()]);
        let shared = Shared::new()?;
        let (finish, finished) = watch::channel(false);
        let mut devices = Vec::new();
        for (urls, logins) in [(&room.receivers, &members.receivers), (&room.senders, &members.senders)] {
            let sockets = load::connect_all(urls, plan.source_addresses, plan.setup_concurrency).await?;
            for (socket, login) in sockets.into_iter().zip(logins) {
                devices.push(Device::start(socket, login.user_id(), shared.clone(), finished.clone()));
            }
        }
        let senders = devices.split_off(members.receivers.len());
        load::progress("receipts");
        let receipts_per_message = 2 * members.receivers.len() as u64;
        let stop = Arc::new(AtomicBool::new(false));
        let sending: Vec<_> = senders
            .into_iter()
            .enumerate()
            .map(|(i, device)| {
                let (shared, stop, room_id) = (shared.clone(), stop.clone(), room.room_id.clone());
                let limit = WINDOW * receipts_per_message;
                tokio::spawn(send(device, room_id, i, shared, stop, receipts_per_message, limit))
            })
            .collect();

        tokio::time::sleep(plan.warmup).await;
        shared.measure_from(load::now_us())?;
        let counters = &shared.counters;
        let before = Snapshot::of(counters);
        let window = CpuWindow::start(&[running.pid()?]);
        tokio::time::sleep(plan.measure).await;
        let used = window.stop();
        let after = Snapshot::of(counters);
        let (deliver, receipt_ack) = shared.take()?;
        stop.store(true, Ordering::Relaxed);
        shared.progress.notify_waiters();
        for task in sending {
            devices.push(task.await??);
        }
        device::settle(Duration::from_secs(3), || {
            Counters::get(&counters.receipts_acked) >= Counters::get(&counters.receipts_sent)
        })
        .await;
        let unanswered = Counters::get(&counters.receipts_sent).saturating_sub(Counters::get(&counters.receipts_acked));
        let errors = device::finish_all(devices, &finish).await?;
        let seconds = plan.measure.as_secs_f64();
        let receipts_per_s = (after.receipts - before.receipts) as f64 / seconds;
        Ok::<_, anyhow::Error>(Receipts {
            backend: plan.backend_label(),
            members: plan.receipts_group,
            sending_devices: plan.receipts_senders,
            baseline_writers: plan.db_connections,
            baseline_per_s: baseline.per_s,
            baseline_latency: baseline.latency,
            baseline_cpu: baseline.cpu,
            receipts_per_s,
            messages_per_s: (after.messages - before.messages) as f64 / seconds,
            deliveries_per_s: (after.deliveries - before.deliveries) as f64 / seconds,
            ratio: report::div(receipts_per_s, baseline.per_s),
            receipt_ack,
            deliver,
            cpu: CpuCost::of(used, after.receipts - before.receipts, after.deliveries - before.deliveries),
            unanswered,
            errors,
        })
    }
    .await;
    load::progress("stopping chitchat");
    running.finish().await;
    result
}

/// One sending device: a message whenever fewer than `limit` receipts are
/// unanswered, until told to stop; hands the device back for `finish_all`.
async fn send(
    device: Device,
    room_id: String,
    sender: usize,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    receipts_per_message: u64,
    limit: u64,
) -> Result<Device> {
    let counters = &shared.counters;
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        wait_until(&shared.progress, &stop, || {
            let expected = Counters::get(&counters.messages_sent) * receipts_per_message;
            expected.saturating_sub(Counters::get(&counters.receipts_acked)) < limit
        })
        .await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        seq += 1;
        let frame = load::message_frame(seq, &room_id, &load::content(load::now_us()), &format!("rc{sender}-{seq}"));
        if !device.send(frame) {
            break;
        }
        counters.messages_sent.fetch_add(1, Ordering::Relaxed);
    }
    Ok(device)
}
