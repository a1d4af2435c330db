//! The request counter contract: every implementation (in-process, Redis) must
//! pass these. Each case gets two handles on one set of counters, as two
//! instances of a deployment would have.

use chitchat_domain::ports::cluster::{RateQuota, RequestCounter};
use std::sync::Arc;
use std::time::Duration;

/// Two handles on one set of counters.
pub type CounterPair = (Arc<dyn RequestCounter>, Arc<dyn RequestCounter>);

fn caller() -> String {
    format!("user:{}", uuid::Uuid::new_v4().simple())
}

pub async fn counter_allows_the_burst_at_once_then_asks_to_wait((a, _): CounterPair) {
    let quota = RateQuota { per_minute: 60, burst: 5 };
    let key = caller();
    for n in 1..=5 {
        assert_eq!(a.take(&key, quota).await.unwrap(), None, "request {n} of the burst");
    }
    let wait = a.take(&key, quota).await.unwrap().expect("the sixth request waits");
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "about one interval: {wait:?}");
}

pub async fn counter_keeps_callers_apart((a, _): CounterPair) {
    let quota = RateQuota { per_minute: 60, burst: 1 };
    let (one, two) = (caller(), caller());
    assert_eq!(a.take(&one, quota).await.unwrap(), None);
    assert!(a.take(&one, quota).await.unwrap().is_some());
    assert_eq!(a.take(&two, quota).await.unwrap(), None, "another caller has their own allowance");
}

/// Requests spread over instances count against one allowance.
pub async fn counter_is_shared_by_instances((a, b): CounterPair) {
    let quota = RateQuota { per_minute: 60, burst: 4 };
    let key = caller();
    for n in 0..4 {
        let instance = if n % 2 == 0 { &a } else { &b };
        assert_eq!(instance.take(&key, quota).await.unwrap(), None, "request {n}");
    }
    assert!(a.take(&key, quota).await.unwrap().is_some(), "the fifth waits on one instance");
    assert!(b.take(&key, quota).await.unwrap().is_some(), "and on the other");
}

/// A refused request costs nothing: after the wait it was told, the caller gets in.
pub async fn counter_lets_a_caller_in_after_the_wait_it_was_told((a, _): CounterPair) {
    let quota = RateQuota { per_minute: 600, burst: 1 };
    let key = caller();
    assert_eq!(a.take(&key, quota).await.unwrap(), None);
    let mut wait = Duration::ZERO;
    for _ in 0..10 {
        wait = a.take(&key, quota).await.unwrap().expect("over the allowance");
    }
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(a.take(&key, quota).await.unwrap(), None, "refused requests were not counted");
}
