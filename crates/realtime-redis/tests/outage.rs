//! The relay through a Redis outage: it reports the loss, fails publishes without
//! hanging, and heals by itself when Redis returns. Runs a `redis-server` of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_domain::ports::{EventRelay, RelayEnvelope, RelayStatus};
use chitchat_domain::UserId;
use chitchat_realtime_redis::{RedisRelay, RedisRelayConfig};
use chitchat_testkit::services::skip_or_fail;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout, Instant};

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts `redis-server` on `port` and waits until it accepts connections.
async fn start_redis(port: u16) -> std::io::Result<Child> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start listening on port {port}");
        sleep(Duration::from_millis(50)).await;
    }
    Ok(child)
}

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
async fn signal(server: &Child, signal: &str) {
    let pid = server.id().expect("the server is running").to_string();
    let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().await.unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A redis-server of the test's own, and two relays on it, as two instances hold them.
struct Deployment {
    server: Child,
    port: u16,
    a: RedisRelay,
    b: RedisRelay,
}

/// None (after SKIPPED) when redis-server is not installed and not required.
async fn deployment() -> Option<Deployment> {
    let port = free_port();
    let server = match start_redis(port).await {
        Ok(child) => child,
        Err(error) => return skip_or_fail("redis-server (installed, on PATH)", error),
    };
    let config = RedisRelayConfig::new(format!("redis://127.0.0.1:{port}"));
    let a = RedisRelay::connect(config.clone()).await.unwrap();
    let b = RedisRelay::connect(config).await.unwrap();
    Some(Deployment { server, port, a, b })
}

fn envelope(frame: &str) -> RelayEnvelope {
    RelayEnvelope { origin: uuid::Uuid::new_v4(), recipients: vec![UserId::new()], frame: frame.to_owned() }
}

async fn delivered(relay: &RedisRelay) -> RelayEnvelope {
    timeout(Duration::from_secs(5), relay.next()).await.expect("delivered within 5 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_reports_an_outage_and_heals_when_redis_returns() {
    let Some(Deployment { mut server, port, a, b }) = deployment().await else { return };

    let before = envelope("before");
    a.publish(&before).await.unwrap();
    assert_eq!(delivered(&b).await, before);

    server.kill().await.unwrap();
    wait_for_status([&a, &b], RelayStatus::Disconnected, Duration::from_secs(10)).await;
    let during = timeout(Duration::from_secs(10), a.publish(&envelope("during"))).await;
    assert!(during.expect("publish gives up instead of hanging").is_err(), "publish fails while Redis is down");

    let _server = start_redis(port).await.unwrap();
    wait_for_status([&a, &b], RelayStatus::Connected, Duration::from_secs(15)).await;
    let after = envelope("after");
    a.publish(&after).await.unwrap();
    assert_eq!(delivered(&b).await, after, "delivery resumes after the outage");
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
