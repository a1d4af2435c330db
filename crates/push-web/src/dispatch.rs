//! The two loops of Web Push: planning (chat events into the outbox) and sending
//! (the outbox to the push services), each a task of its own so that no send
//! waits for them.

use chitchat_domain::ports::{PushGateway, PushJob, PushQueue};
use chitchat_domain::services::PushService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// Events waiting to be planned; past this, new ones are not pushed (and logged).
const PLANNING_QUEUE: usize = 4096;
/// Events planned together, with one look-up of subscriptions: whatever queued up
/// while the planner was busy, up to this many.
const PLANNING_BATCH: usize = 128;
/// Pushes sent per round.
const ROUND_SIZE: i64 = 32;
/// How often the outbox is looked at when nothing woke the sender: retries fall
/// due, and pushes other instances planned are taken.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// The send path's end of the planning queue.
pub struct ChannelPushQueue {
    jobs: mpsc::Sender<PushJob>,
}

impl PushQueue for ChannelPushQueue {
    fn offer(&self, job: PushJob) {
        if let Err(error) = self.jobs.try_send(job) {
            metrics::counter!("chitchat_push_dropped_total", "reason" => "planning_queue_full").increment(1);
            tracing::warn!(%error, "push planning is behind; an event is not pushed");
        }
    }
}

/// The planner's end, handed to [`spawn`].
pub struct PlanningJobs(mpsc::Receiver<PushJob>);

/// A queue for the send path and its receiving end.
pub fn planning_queue() -> (ChannelPushQueue, PlanningJobs) {
    let (jobs, receiver) = mpsc::channel(PLANNING_QUEUE);
    (ChannelPushQueue { jobs }, PlanningJobs(receiver))
}

/// Starts the planner and the sender on the current runtime; they run until the
/// queue's sending half is dropped (the planner) or forever (the sender).
pub fn spawn(service: Arc<PushService>, gateway: Arc<dyn PushGateway>, jobs: PlanningJobs) {
    let wake = Arc::new(Notify::new());
    tokio::spawn(plan_forever(service.clone(), jobs, wake.clone()));
    tokio::spawn(send_forever(service, gateway, wake));
}

async fn plan_forever(service: Arc<PushService>, PlanningJobs(mut jobs): PlanningJobs, wake: Arc<Notify>) {
    let mut batch = Vec::with_capacity(PLANNING_BATCH);
    while jobs.recv_many(&mut batch, PLANNING_BATCH).await > 0 {
        match service.notify(&batch).await {
            Ok(0) => {}
            Ok(_) => wake.notify_one(),
            Err(error) => {
                metrics::counter!("chitchat_push_dropped_total", "reason" => "planning_failed")
                    .increment(batch.len() as u64);
                tracing::warn!(%error, events = batch.len(), "could not plan the pushes of some events");
            }
        }
        batch.clear();
    }
}

async fn send_forever(service: Arc<PushService>, gateway: Arc<dyn PushGateway>, wake: Arc<Notify>) {
    loop {
        match service.deliver_due(gateway.as_ref(), ROUND_SIZE).await {
            Ok(round) => {
                metrics::counter!("chitchat_push_sent_total").increment(round.sent);
                metrics::counter!("chitchat_push_failed_total").increment(round.failed);
                metrics::counter!("chitchat_push_dropped_total", "reason" => "given_up").increment(round.dropped);
                // A full round may have left more behind: go on at once.
                if round.claimed == ROUND_SIZE as u64 {
                    continue;
                }
            }
            Err(error) => tracing::warn!(%error, "could not send pushes from the outbox"),
        }
        let _ = tokio::time::timeout(POLL_EVERY, wake.notified()).await;
    }
}
