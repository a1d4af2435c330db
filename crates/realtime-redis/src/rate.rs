//! Request counters shared by the instances of a deployment, in Redis: the same
//! GCRA as the in-process counter, one key per caller (`P:rate:{caller}`) holding
//! the caller's "theoretical arrival time", decided by one script on Redis's
//! clock so that instances with skewed clocks agree.

use crate::connection::{self, script, Connected};
use crate::{RedisRelayConfig, RelayError};
use async_trait::async_trait;
use chitchat_domain::ports::cluster::{RateQuota, RequestCounter};
use chitchat_domain::{DomainError, DomainResult};
use deadpool_redis::redis::Script;
use deadpool_redis::Pool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// After a failure, how long requests are not even tried on Redis: a Redis that
/// hangs must not make every request wait for a timeout.
const BACK_OFF: Duration = Duration::from_secs(1);

/// KEYS: the caller's key. ARGV: interval and tolerance in µs.
/// Returns 0 when allowed, else the wait in µs.
const TAKE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or '0')
if arrival < now then arrival = now end
if arrival - now > tolerance then return arrival - now - tolerance end
local next_arrival = arrival + interval
redis.call('SET', KEYS[1], string.format('%d', next_arrival), 'PX', math.floor((next_arrival - now) / 1000) + 1)
return 0
";

/// `RequestCounter` on Redis. While Redis fails it answers errors (quickly),
/// and the caller counts on its own instead.
pub struct RedisRequestCounter {
    pool: Pool,
    prefix: String,
    take: Script,
    start: Instant,
    /// Milliseconds after `start` before which Redis is not tried again.
    skip_until_ms: AtomicU64,
}

impl RedisRequestCounter {
    pub async fn connect(config: &RedisRelayConfig, prefix: &str) -> Result<Self, RelayError> {
        if prefix.is_empty() {
            return Err(RelayError::EmptyPrefix);
        }
        let Connected { pool, .. } = connection::connect(config).await?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
            take: Script::new(TAKE),
            start: Instant::now(),
            skip_until_ms: AtomicU64::new(0),
        })
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[async_trait]
impl RequestCounter for RedisRequestCounter {
    async fn take(&self, key: &str, quota: RateQuota) -> DomainResult<Option<Duration>> {
        if self.elapsed_ms() < self.skip_until_ms.load(Ordering::Relaxed) {
            return Err(DomainError::unavailable("request counters: Redis failed a moment ago"));
        }
        let redis_key = format!("{}:rate:{key}", self.prefix);
        let mut invocation = self.take.key(&redis_key);
        invocation.arg(micros(quota.interval())).arg(micros(quota.tolerance()));
        match script::<u64>(&self.pool, &invocation).await {
            Ok(0) => Ok(None),
            Ok(wait) => Ok(Some(Duration::from_micros(wait))),
            Err(error) => {
                let until = self.elapsed_ms() + u64::try_from(BACK_OFF.as_millis()).unwrap_or(u64::MAX);
                self.skip_until_ms.store(until, Ordering::Relaxed);
                Err(DomainError::unavailable_at("request counters", error))
            }
        }
    }
}
