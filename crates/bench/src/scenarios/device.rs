//! A device that behaves like a messaging client with the chat open: it reads
//! every frame, answers each message of another user with a `delivered` and a
//! `read` receipt (`status_update` frames, each with an `id`, answered by an `ack`
//! in the order sent), and sends what its scenario hands it. Counters and latency
//! histograms are shared by all devices of a run, so that a scenario reads them
//! once per measurement window.

use super::send_rate::summarize;
use crate::load::{self, Latency, Socket};
use anyhow::{anyhow, Result};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// What every device of a run counts.
#[derive(Default)]
pub struct Counters {
    /// Messages handed to the devices to send.
    pub messages_sent: AtomicU64,
    /// Their `ack`s (an `ack` with a payload: the stored message).
    pub messages_acked: AtomicU64,
    /// Receipts sent, and their `ack`s (an `ack` without a payload).
    pub receipts_sent: AtomicU64,
    pub receipts_acked: AtomicU64,
    /// Frames delivered to the devices, by type.
    pub message_frames: AtomicU64,
    pub status_frames: AtomicU64,
    pub typing_frames: AtomicU64,
}

impl Counters {
    /// Every frame a device received because of someone's message, receipt or
    /// typing: what the server delivered.
    pub fn deliveries(&self) -> u64 {
        [&self.message_frames, &self.status_frames, &self.typing_frames].iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The counters a measurement window is read by, at its start and its end.
pub struct Snapshot {
    pub messages: u64,
    pub receipts: u64,
    pub deliveries: u64,
}

impl Snapshot {
    pub fn of(counters: &Counters) -> Self {
        Self {
            messages: Counters::get(&counters.messages_sent),
            receipts: Counters::get(&counters.receipts_acked),
            deliveries: counters.deliveries(),
        }
    }
}

/// Latencies recorded from `measured_from_us` on (the shared clock of `load`).
pub struct Histograms {
    /// Send -> delivery of a message to another member's device.
    pub deliver: Histogram<u64>,
    /// Receipt sent -> its `ack`.
    pub receipt_ack: Histogram<u64>,
}

impl Histograms {
    fn new() -> Result<Self> {
        Ok(Self { deliver: load::histogram()?, receipt_ack: load::histogram()? })
    }
}

/// The state the devices of a run share.
pub struct Shared {
    pub counters: Counters,
    /// Woken whenever a receipt is acknowledged, for closed-loop senders.
    pub progress: Notify,
    measured_from_us: AtomicU64,
    histograms: Mutex<Histograms>,
}

impl Shared {
    pub fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            counters: Counters::default(),
            progress: Notify::new(),
            measured_from_us: AtomicU64::new(u64::MAX),
            histograms: Mutex::new(Histograms::new()?),
        }))
    }

    fn histograms(&self) -> MutexGuard<'_, Histograms> {
        self.histograms.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts recording latencies anew from `from_us` on.
    pub fn measure_from(&self, from_us: u64) -> Result<()> {
        *self.histograms() = Histograms::new()?;
        self.measured_from_us.store(from_us, Ordering::Relaxed);
        Ok(())
    }

    /// Stops recording; returns (delivery, receipt ack) latencies.
    pub fn take(&self) -> Result<(Latency, Latency)> {
        self.measured_from_us.store(u64::MAX, Ordering::Relaxed);
        let taken = std::mem::replace(&mut *self.histograms(), Histograms::new()?);
        Ok((Latency::of(&taken.deliver), Latency::of(&taken.receipt_ack)))
    }

    fn measured(&self, at_us: u64) -> bool {
        at_us >= self.measured_from_us.load(Ordering::Relaxed)
    }
}

/// A running device: `send` queues a frame; `finish` ends it after its run.
pub struct Device {
    outbox: mpsc::UnboundedSender<String>,
    reader: tokio::task::JoinHandle<Vec<String>>,
    writer: tokio::task::JoinHandle<Vec<String>>,
}

impl Device {
    /// Starts reading and writing `socket`, a device of `user_id`.
    pub fn start(socket: Socket, user_id: String, shared: Arc<Shared>, finished: watch::Receiver<bool>) -> Self {
        let (sink, mut stream) = socket.split();
        let (outbox, inbox) = mpsc::unbounded_channel::<String>();
        let writer = tokio::spawn(write(sink, inbox));
        let replies = outbox.clone();
        let reader = tokio::spawn(async move {
            let mut finished = finished;
            let mut waiting: VecDeque<u64> = VecDeque::new();
            let mut next_id = 0u64;
            load::read_frames(&mut stream, &mut finished, |incoming, now| {
                handle(incoming, now, &user_id, &shared, &replies, &mut waiting, &mut next_id);
            })
            .await
        });
        Self { outbox, reader, writer }
    }

    /// Queues a frame to be written; false once the writer has stopped.
    pub fn send(&self, frame: String) -> bool {
        self.outbox.send(frame).is_ok()
    }

    /// Waits for the device's tasks (after `finished` was set); returns its errors.
    pub async fn finish(self) -> Result<Vec<String>> {
        drop(self.outbox);
        let mut errors = self.reader.await.map_err(|e| anyhow!("device reader: {e}"))?;
        errors.extend(self.writer.await.map_err(|e| anyhow!("device writer: {e}"))?);
        Ok(errors)
    }
}

/// Ends every device; returns their errors, summarized.
pub async fn finish_all(devices: Vec<Device>, finish: &watch::Sender<bool>) -> Result<Vec<String>> {
    let _ = finish.send(true);
    let mut errors = Vec::new();
    for device in devices {
        errors.extend(device.finish().await?);
    }
    Ok(summarize(errors))
}

/// Waits until `done()`, at most `within`: for what was sent to be answered.
pub async fn settle(within: std::time::Duration, done: impl Fn() -> bool) {
    let until = std::time::Instant::now() + within;
    while !done() && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// One frame received: count it, time it, answer a message with receipts.
fn handle(
    incoming: &load::Incoming<'_>,
    now: u64,
    user_id: &str,
    shared: &Shared,
    replies: &mpsc::UnboundedSender<String>,
    waiting: &mut VecDeque<u64>,
    next_id: &mut u64,
) {
    let counters = &shared.counters;
    match incoming.kind {
        "message" => {
            counters.message_frames.fetch_add(1, Ordering::Relaxed);
            if incoming.sender == Some(user_id) {
                return;
            }
            if let Some(sent) = incoming.sent_us().filter(|&sent| shared.measured(sent)) {
                load::record(&mut shared.histograms().deliver, now.saturating_sub(sent));
            }
            let (Some(room), Some(seq)) = (incoming.room_id, incoming.payload.as_ref().and_then(|p| p.seq)) else {
                return;
            };
            for status in ["delivered", "read"] {
                *next_id += 1;
                let frame = serde_json::json!({
                    "id": format!("r{next_id}"),
                    "type": "status_update",
                    "room_id": room,
                    "payload": { "status": status, "seq": seq },
                });
                if replies.send(frame.to_string()).is_ok() {
                    waiting.push_back(load::now_us());
                    counters.receipts_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        "status_update" => {
            counters.status_frames.fetch_add(1, Ordering::Relaxed);
        }
        "typing" => {
            counters.typing_frames.fetch_add(1, Ordering::Relaxed);
        }
        "ack" if incoming.payload.is_some() => {
            counters.messages_acked.fetch_add(1, Ordering::Relaxed);
        }
        "ack" => {
            // Answers come in the order the frames were sent, and only receipts
            // without a payload are answered here.
            if let Some(sent) = waiting.pop_front() {
                if shared.measured(sent) {
                    load::record(&mut shared.histograms().receipt_ack, now.saturating_sub(sent));
                }
            }
            counters.receipts_acked.fetch_add(1, Ordering::Relaxed);
            shared.progress.notify_waiters();
        }
        _ => {}
    }
}

/// Writes what is queued, flushing when the queue is empty.
async fn write(
    mut sink: futures_util::stream::SplitSink<Socket, WsMessage>,
    mut inbox: mpsc::UnboundedReceiver<String>,
) -> Vec<String> {
    while let Some(frame) = inbox.recv().await {
        let mut result = sink.feed(WsMessage::text(frame)).await;
        while result.is_ok() {
            match inbox.try_recv() {
                Ok(frame) => result = sink.feed(WsMessage::text(frame)).await,
                Err(_) => break,
            }
        }
        if let Err(error) = result.and(sink.flush().await) {
            return vec![format!("send: {error}")];
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sink.close()).await;
    Vec::new()
}
