use crate::connection::{self, command, connect_failed, Connected};
use crate::subscriber::{self, Health, Subscriber};
use crate::{RedisRelayConfig, RelayError};
use async_trait::async_trait;
use chitchat_domain::ports::cluster::{EventRelay, RelayEnvelope, RelayItem, RelayStatus};
use chitchat_domain::{DomainError, DomainResult};
use deadpool_redis::redis::{cmd, Client};
use deadpool_redis::Pool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// Envelopes from Redis waiting for `next`; beyond this they are dropped with a warning.
const INBOX_LEN: usize = 4096;

/// The `EventRelay` on Redis pub/sub. Publishes through a deadpool-redis pool; one
/// background task holds a dedicated connection subscribed to the channel, forwards
/// what arrives to `next`, watches the link and reconnects with backoff after an
/// outage. Dropping the relay stops that task.
pub struct RedisRelay {
    pool: Pool,
    channel: String,
    addr: String,
    health: Arc<Health>,
    inbox: Mutex<mpsc::Receiver<RelayItem>>,
    subscriber: JoinHandle<()>,
}

impl RedisRelay {
    /// Connects to Redis and subscribes to the channel. Fails with one clear error
    /// when the URL is malformed or the server does not answer, so that a wrong
    /// `REDIS_URL` stops start-up. Must be called inside a tokio runtime.
    pub async fn connect(config: RedisRelayConfig) -> Result<RedisRelay, RelayError> {
        if config.channel.is_empty() {
            return Err(RelayError::EmptyChannel);
        }
        let Connected { pool, info, addr } = connection::connect(&config).await?;
        let client = Client::open(info).map_err(RelayError::InvalidUrl)?;
        let subscription =
            subscriber::subscribe(&client, &config.channel).await.map_err(|source| connect_failed(&addr, source))?;

        let (tx, rx) = mpsc::channel(INBOX_LEN);
        let health = Arc::new(Health::default());
        let task = Subscriber {
            client,
            pool: pool.clone(),
            channel: config.channel.clone(),
            addr: addr.clone(),
            inbox: tx,
            health: health.clone(),
        };
        let subscriber = tokio::spawn(task.run(subscription));
        tracing::info!(redis.addr = %addr, channel = %config.channel, "event relay connected to Redis");
        Ok(RedisRelay { pool, channel: config.channel, addr, health, inbox: Mutex::new(rx), subscriber })
    }

    async fn try_publish(&self, envelope: &RelayEnvelope) -> Result<i64, RelayError> {
        let payload = serde_json::to_string(envelope)?;
        command(&self.pool, cmd("PUBLISH").arg(&self.channel).arg(payload)).await
    }
}

#[async_trait]
impl EventRelay for RedisRelay {
    async fn publish(&self, envelope: &RelayEnvelope) -> DomainResult<()> {
        match self.try_publish(envelope).await {
            Ok(receivers) => {
                self.health.publishing.store(true, Ordering::Relaxed);
                tracing::trace!(channel = %self.channel, receivers, "envelope published");
                Ok(())
            }
            Err(error) => {
                // Warn once per outage; the rest of the failures in it are detail.
                if self.health.publishing.swap(false, Ordering::Relaxed) {
                    tracing::warn!(redis.addr = %self.addr, channel = %self.channel, %error, "relay publish failed");
                } else {
                    tracing::debug!(redis.addr = %self.addr, channel = %self.channel, %error, "relay publish failed");
                }
                Err(DomainError::unavailable_at("event relay", error))
            }
        }
    }

    async fn next(&self) -> RelayItem {
        let mut inbox = self.inbox.lock().await;
        match inbox.recv().await {
            Some(item) => item,
            None => {
                // Only when the subscriber task is gone, which it never is while the
                // relay lives: wait as the port says rather than spin.
                tracing::error!(channel = %self.channel, "relay subscriber stopped; no more envelopes");
                std::future::pending().await
            }
        }
    }

    async fn status(&self) -> RelayStatus {
        if self.health.is_connected() {
            RelayStatus::Connected
        } else {
            RelayStatus::Disconnected
        }
    }
}

impl Drop for RedisRelay {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_wrong_url_fails_start_up_with_one_clear_error() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let Ok(port) = port else { return };
        let started = std::time::Instant::now();
        let Err(error) = RedisRelay::connect(RedisRelayConfig::new(format!("redis://127.0.0.1:{port}"))).await else {
            panic!("connected to a port nothing listens on");
        };
        assert!(matches!(error, RelayError::Connect { .. }), "{error:?}");
        assert!(error.to_string().starts_with(&format!("could not connect to Redis at 127.0.0.1:{port}: ")), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10), "fails fast");
    }

    #[tokio::test]
    async fn an_empty_channel_is_refused() {
        let config = RedisRelayConfig { channel: String::new(), ..RedisRelayConfig::new("redis://127.0.0.1") };
        assert!(matches!(RedisRelay::connect(config).await, Err(RelayError::EmptyChannel)));
    }
}
