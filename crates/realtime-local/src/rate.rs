//! Request counters of a single instance, in memory (GCRA: one "theoretical
//! arrival time" per caller).

use async_trait::async_trait;
use chitchat_domain::ports::cluster::{RateQuota, RequestCounter};
use chitchat_domain::DomainResult;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Takes between two sweeps of callers back at full allowance.
const SWEEP_EVERY: u32 = 4096;

struct Counters {
    /// Per caller: when their allowance is next fully used up, from `start`.
    arrival: HashMap<String, Duration>,
    takes: u32,
}

/// `RequestCounter` in memory, for one instance (no `REDIS_URL`), and the
/// fallback of the shared one while Redis is unreachable.
pub struct LocalRequestCounter {
    start: Instant,
    counters: Mutex<Counters>,
}

impl Default for LocalRequestCounter {
    fn default() -> Self {
        Self { start: Instant::now(), counters: Mutex::new(Counters { arrival: HashMap::new(), takes: 0 }) }
    }
}

#[async_trait]
impl RequestCounter for LocalRequestCounter {
    async fn take(&self, key: &str, quota: RateQuota) -> DomainResult<Option<Duration>> {
        let (interval, tolerance) = (quota.interval(), quota.tolerance());
        let now = self.start.elapsed();
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.takes = counters.takes.wrapping_add(1);
        if counters.takes.is_multiple_of(SWEEP_EVERY) {
            counters.arrival.retain(|_, at| *at > now);
        }
        let arrival = counters.arrival.get(key).copied().unwrap_or(now).max(now);
        if arrival - now > tolerance {
            return Ok(Some(arrival - now - tolerance));
        }
        counters.arrival.insert(key.to_owned(), arrival + interval);
        Ok(None)
    }
}
