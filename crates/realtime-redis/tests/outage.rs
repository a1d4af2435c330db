//! The relay through a Redis outage: it reports the loss, fails publishes without
//! hanging, and heals by itself when Redis returns. Runs a `redis-server` of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_domain::ports::cluster::{EventRelay, RelayEnvelope, RelayItem, RelayStatus};
use chitchat_realtime_redis::{RedisRelay, RedisRelayConfig};
use chitchat_testkit::redis::OwnedRedis;
use std::time::Duration;
use tokio::process::Command;
use tokio::time::{sleep, timeout, Instant};

/// Waits (at most `limit`) until both relays report `want`.
async fn wait_for_status(relays: [&RedisRelay; 2], want: RelayStatus, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let a = relays[0].status().await;
        let b = relays[1].status().await;
        if a == want && b == want {
            return;
        }
        assert!(Instant::now() < deadline, "status still {a:?}/{b:?}, expected {want:?} within {limit:?}");
        sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `signal` (STOP, CONT) to the server process.
async fn signal(server: &OwnedRedis, signal: &str) {
    let pid = server.child().id().expect("the server is running").to_string();
    let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().await.unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A redis-server of the test's own, and two relays on it, as two instances hold them.
struct Deployment {
    server: OwnedRedis,
    a: RedisRelay,
    b: RedisRelay,
}

/// None (after SKIPPED) when redis-server is not installed and not required.
async fn deployment() -> Option<Deployment> {
    let server = OwnedRedis::start().await?;
    let config = RedisRelayConfig::new(server.url());
    let a = RedisRelay::connect(config.clone()).await.unwrap();
    let b = RedisRelay::connect(config).await.unwrap();
    Some(Deployment { server, a, b })
}

fn envelope(frame: &str) -> RelayEnvelope {
    chitchat_testkit::contracts::event_relay::envelope(frame)
}

async fn delivered(relay: &RedisRelay) -> RelayEnvelope {
    chitchat_testkit::contracts::event_relay::next_within(relay, Duration::from_secs(5))
        .await
        .expect("delivered within 5 s")
}

/// The items up to and including the next envelope.
async fn items_until_envelope(relay: &RedisRelay) -> Vec<RelayItem> {
    let mut items = Vec::new();
    loop {
        let item = timeout(Duration::from_secs(5), relay.next()).await.expect("an item within 5 s");
        let done = matches!(item, RelayItem::Envelope(_));
        items.push(item);
        if done {
            return items;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_reports_an_outage_and_heals_when_redis_returns() {
    let Some(Deployment { mut server, a, b }) = deployment().await else { return };

    let before = envelope("before");
    a.publish(&before).await.unwrap();
    assert_eq!(delivered(&b).await, before);

    server.stop().await;
    wait_for_status([&a, &b], RelayStatus::Disconnected, Duration::from_secs(10)).await;
    let during = timeout(Duration::from_secs(10), a.publish(&envelope("during"))).await;
    assert!(during.expect("publish gives up instead of hanging").is_err(), "publish fails while Redis is down");

    server.restart().await;
    wait_for_status([&a, &b], RelayStatus::Connected, Duration::from_secs(15)).await;
    let after = envelope("after");
    a.publish(&after).await.unwrap();
    let items = items_until_envelope(&b).await;
    assert_eq!(items.first(), Some(&RelayItem::Gap), "the bus hears that envelopes may be lost: {items:?}");
    assert_eq!(items.last(), Some(&RelayItem::Envelope(after)), "delivery resumes after the outage");
}

/// A server that stops answering without closing the connection (frozen, or a
/// network that drops packets) is noticed by the relay's own pings, with nothing published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_stops_answering_is_noticed_without_publishing() {
    let Some(Deployment { server, a, b, .. }) = deployment().await else { return };

    signal(&server, "STOP").await;
    wait_for_status([&a, &b], RelayStatus::Disconnected, Duration::from_secs(10)).await;
    signal(&server, "CONT").await;
    wait_for_status([&a, &b], RelayStatus::Connected, Duration::from_secs(15)).await;
    let after = envelope("after");
    a.publish(&after).await.unwrap();
    assert_eq!(delivered(&b).await, after);
}
