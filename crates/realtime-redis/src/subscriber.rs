//! The background task behind `RedisRelay::next`: one dedicated pub/sub connection,
//! watched by PING, replaced with backoff whenever it is lost.

use crate::connection::{bounded, ping, COMMAND_TIMEOUT};
use crate::RelayError;
use chitchat_domain::ports::cluster::{RelayEnvelope, RelayItem};
use deadpool_redis::redis::aio::{PubSub, PubSubSink};
use deadpool_redis::redis::{Client, Msg, Value};
use deadpool_redis::Pool;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Time between two checks of a quiet subscription, so an outage shows within seconds.
const PING_INTERVAL: Duration = Duration::from_secs(1);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What `status()` reports, kept up to date by the subscriber task and by `publish`.
pub(crate) struct Health {
    /// The pub/sub connection is up and subscribed.
    pub(crate) subscribed: AtomicBool,
    /// The last publish succeeded (or, after a failure, a PING through the pool since).
    pub(crate) publishing: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Self { subscribed: AtomicBool::new(true), publishing: AtomicBool::new(true) }
    }
}

impl Health {
    pub(crate) fn is_connected(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed) && self.publishing.load(Ordering::Relaxed)
    }
}

/// Opens a pub/sub connection and waits until Redis confirms the subscription.
pub(crate) async fn subscribe(client: &Client, channel: &str) -> Result<PubSub, RelayError> {
    bounded(async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok(pubsub)
    })
    .await
}

fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(MAX_BACKOFF)
}

pub(crate) struct Subscriber {
    pub(crate) client: Client,
    pub(crate) pool: Pool,
    pub(crate) channel: String,
    pub(crate) addr: String,
    pub(crate) inbox: mpsc::Sender<RelayItem>,
    pub(crate) health: Arc<Health>,
}

/// Why a subscription ended.
enum Ended {
    /// The relay was dropped: stop.
    RelayGone,
    Lost(RelayError),
}

impl Subscriber {
    /// Forwards envelopes from `first`, then from each new subscription, forever.
    pub(crate) async fn run(self, first: PubSub) {
        let mut subscription = Some(first);
        let mut backoff = FIRST_BACKOFF;
        let mut outage_since: Option<Instant> = None;
        // Set when envelopes may have been lost; cleared once the bus has been told.
        let mut gap = false;
        loop {
            let pubsub = match subscription.take() {
                Some(pubsub) => pubsub,
                None => match subscribe(&self.client, &self.channel).await {
                    Ok(pubsub) => pubsub,
                    Err(error) => {
                        tracing::debug!(redis.addr = %self.addr, channel = %self.channel, %error, ?backoff, "relay reconnect failed");
                        tokio::time::sleep(backoff).await;
                        backoff = next_backoff(backoff);
                        continue;
                    }
                },
            };
            backoff = FIRST_BACKOFF;
            if let Some(since) = outage_since.take() {
                let outage_ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
                tracing::info!(redis.addr = %self.addr, channel = %self.channel, outage_ms, "relay resubscribed to Redis");
                gap = true;
            }
            self.health.subscribed.store(true, Ordering::Relaxed);
            let ended = self.forward(pubsub, &mut gap).await;
            self.health.subscribed.store(false, Ordering::Relaxed);
            match ended {
                Ended::RelayGone => return,
                Ended::Lost(error) => {
                    tracing::warn!(redis.addr = %self.addr, channel = %self.channel, %error, "relay lost its Redis subscription; reconnecting");
                    outage_since = Some(Instant::now());
                }
            }
        }
    }

    /// Reports a pending gap to the bus when the inbox has room.
    fn report_gap(&self, gap: &mut bool) {
        if *gap && self.inbox.try_send(RelayItem::Gap).is_ok() {
            *gap = false;
        }
    }

    /// Forwards envelopes from one subscription until it is lost.
    async fn forward(&self, pubsub: PubSub, gap: &mut bool) -> Ended {
        let (mut sink, mut stream) = pubsub.split();
        let mut ticks = tokio::time::interval(PING_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dropped: u64 = 0;
        loop {
            tokio::select! {
                message = stream.next() => {
                    let Some(message) = message else {
                        return Ended::Lost(RelayError::ConnectionClosed);
                    };
                    let Some(envelope) = self.decode(&message) else { continue };
                    self.report_gap(gap);
                    match self.inbox.try_send(RelayItem::Envelope(envelope)) {
                        Ok(()) if dropped > 0 => {
                            tracing::warn!(channel = %self.channel, dropped, "relay inbox drained; envelopes were dropped");
                            dropped = 0;
                        }
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            *gap = true;
                            dropped += 1;
                            if dropped == 1 {
                                tracing::warn!(channel = %self.channel, "relay inbox full; dropping envelopes");
                            }
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => return Ended::RelayGone,
                    }
                }
                _ = ticks.tick() => {
                    self.report_gap(gap);
                    if let Err(error) = self.check(&mut sink).await {
                        return Ended::Lost(error);
                    }
                }
                () = self.inbox.closed() => return Ended::RelayGone,
            }
        }
    }

    /// Pings the subscription, and the pool too while publishing is marked failed,
    /// so that a healed relay reports `Connected` without waiting for a publish.
    async fn check(&self, sink: &mut PubSubSink) -> Result<(), RelayError> {
        match tokio::time::timeout(COMMAND_TIMEOUT, sink.ping::<Value>()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Err(error.into()),
            Err(_) => return Err(RelayError::Timeout(COMMAND_TIMEOUT)),
        }
        if !self.health.publishing.load(Ordering::Relaxed) {
            match ping(&self.pool).await {
                Ok(()) => self.health.publishing.store(true, Ordering::Relaxed),
                Err(error) => tracing::debug!(redis.addr = %self.addr, %error, "relay publish pool still failing"),
            }
        }
        Ok(())
    }

    fn decode(&self, message: &Msg) -> Option<RelayEnvelope> {
        let payload = match message.get_payload::<String>() {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(channel = %self.channel, %error, "relay message is not text; ignored");
                return None;
            }
        };
        match serde_json::from_str(&payload) {
            Ok(envelope) => Some(envelope),
            Err(error) => {
                tracing::warn!(channel = %self.channel, %error, bytes = payload.len(), "relay message is not an envelope; ignored");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_backoff_doubles_up_to_a_cap() {
        let mut backoff = FIRST_BACKOFF;
        let mut seen = Vec::new();
        for _ in 0..7 {
            seen.push(backoff.as_millis());
            backoff = next_backoff(backoff);
        }
        assert_eq!(seen, [100, 200, 400, 800, 1600, 2000, 2000]);
    }
}
