//! Black-box soak: many connected devices and a steady stream of messages for a
//! while. No send is refused, every acknowledged message reaches the other person
//! of its chat once and in order, no socket is dropped, and the server's memory
//! stays flat.
//!
//! The normal test run is a short version (200 devices, 50 messages a second, 15
//! seconds). The full run of docs/reliability.md:
//!
//! ```text
//! ulimit -n "$(ulimit -Hn)"
//! CHITCHAT_SOAK_CONNECTIONS=10000 CHITCHAT_SOAK_RATE=500 CHITCHAT_SOAK_SECS=1800 \
//!   cargo test --release -p chitchat-server --test blackbox soak:: -- --nocapture
//! ```

use crate::support;
use chitchat_testkit::{Login, TestBackend, WsClient};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Requests or sockets set up at once.
const SETUP_TASKS: usize = 16;

/// Runs `work(i)` for every `i` in `0..count`, `SETUP_TASKS` at a time; results in order.
async fn for_each<T, F, Fut>(count: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    let mut tasks = JoinSet::new();
    for task in 0..SETUP_TASKS {
        let work = work.clone();
        tasks.spawn(async move {
            let mut done = Vec::new();
            for i in (task..count).step_by(SETUP_TASKS) {
                done.push((i, work(i).await));
            }
            done
        });
    }
    let mut all: Vec<(usize, T)> = tasks.join_all().await.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// What one pair's sender and receiver saw.
#[derive(Default)]
struct PairOutcome {
    acked: Vec<i64>,
    received: Vec<i64>,
    errors: Vec<String>,
    dropped: bool,
}

/// One direct chat: `sender` sends every `every` until `stop`, `receiver` reads;
/// then the receiver reads until it has every acknowledged message (or 30 s pass).
async fn run_pair(
    mut sender: WsClient,
    mut receiver: WsClient,
    chat: String,
    every: Duration,
    stop: Instant,
) -> PairOutcome {
    let mut outcome = PairOutcome::default();
    // Spread the pairs' sends over the interval.
    let offset = Duration::from_micros(fastrand_like(&chat) % every.as_micros().max(1) as u64);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
    let mut n = 0u64;
    while Instant::now() < stop {
        tokio::select! {
            _ = ticks.tick() => {
                n += 1;
                let frame = json!({"id": n, "type": "message", "room_id": chat,
                    "payload": {"content": format!("soak {n}"), "client_msg_id": format!("{chat}-{n}")}});
                if !sender.try_send_json(frame).await {
                    outcome.dropped = true;
                    return outcome;
                }
            }
            frame = sender.next_frame_or_end(Duration::from_secs(3600)) => match frame {
                Ok(f) if f["type"] == "ack" => outcome.acked.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
                Ok(f) if f["type"] == "error" => outcome.errors.push(f.to_string()),
                Ok(_) => {}
                Err(_) => { outcome.dropped = true; return outcome; }
            },
            frame = receiver.next_frame_or_end(Duration::from_secs(3600)) => match frame {
                Ok(f) if f["type"] == "message" => outcome.received.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
                Ok(_) => {}
                Err(_) => { outcome.dropped = true; return outcome; }
            },
        }
    }
    // Acks still on their way, then the receiver's last messages.
    let deadline = Instant::now() + Duration::from_secs(30);
    while (outcome.acked.len() as u64) < n && Instant::now() < deadline {
        match sender.next_frame_or_end(Duration::from_secs(5)).await {
            Ok(f) if f["type"] == "ack" => outcome.acked.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
            Ok(f) if f["type"] == "error" => outcome.errors.push(f.to_string()),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    while outcome.received.len() < outcome.acked.len() && Instant::now() < deadline {
        match receiver.next_frame_or_end(Duration::from_secs(5)).await {
            Ok(f) if f["type"] == "message" => outcome.received.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    outcome
}

/// A number from a chat id, to spread the pairs' first sends.
fn fastrand_like(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("VmRSS:")?.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_devices_and_a_steady_stream_lose_nothing_and_memory_stays_flat() {
    let connections = setting("CHITCHAT_SOAK_CONNECTIONS", 200).max(2) as usize / 2 * 2;
    let rate = setting("CHITCHAT_SOAK_RATE", 50).max(1);
    let duration = Duration::from_secs(setting("CHITCHAT_SOAK_SECS", 15).max(2));
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let pid = server.pid().expect("the server runs");

    let setup = Instant::now();
    let logins: Vec<Login> = for_each(connections, {
        let api = api.clone();
        move |i| {
            let api = api.clone();
            async move { api.login(&format!("98{i:08}"), &format!("Soak {i}")).await }
        }
    })
    .await;
    let pairs = connections / 2;
    let chats: Vec<String> = for_each(pairs, {
        let (api, logins) = (api.clone(), logins.clone());
        move |p| {
            let (api, logins) = (api.clone(), logins.clone());
            async move { api.direct_chat(&logins[2 * p], &logins[2 * p + 1].user_id()).await }
        }
    })
    .await;
    let sockets: Vec<WsClient> = for_each(connections, {
        let (api, logins) = (api.clone(), logins.clone());
        move |i| {
            let (api, token) = (api.clone(), logins[i].token.clone());
            async move { api.ws(&token).await }
        }
    })
    .await;
    let setup = setup.elapsed();
    let rss_before = rss_kib(pid);

    // Each pair's sender sends every `pairs / rate` seconds: `rate` a second in all.
    let every = Duration::from_secs_f64(pairs as f64 / rate as f64);
    let stop = Instant::now() + duration;
    let mut running = JoinSet::new();
    let mut sockets = sockets.into_iter();
    for chat in chats {
        let (sender, receiver) = (sockets.next().unwrap(), sockets.next().unwrap());
        running.spawn(run_pair(sender, receiver, chat, every, stop));
    }
    let mut samples = vec![rss_before];
    while Instant::now() < stop {
        tokio::time::sleep(duration / 10).await;
        samples.push(rss_kib(pid));
    }
    let outcomes = running.join_all().await;

    let acked: usize = outcomes.iter().map(|o| o.acked.len()).sum();
    let errors: Vec<&String> = outcomes.iter().flat_map(|o| &o.errors).collect();
    let dropped = outcomes.iter().filter(|o| o.dropped).count();
    let lost = outcomes.iter().filter(|o| o.received != o.acked).count();
    let (first_half, second_half) = samples.split_at(samples.len() / 2);
    let (early, late) = (first_half.iter().max().copied().unwrap_or(0), second_half.iter().max().copied().unwrap_or(0));
    eprintln!(
        "soak: {connections} devices (set up in {setup:?}), {rate} messages/s for {duration:?}: {acked} acknowledged, \
         {} refused, {dropped} pairs dropped, {lost} pairs missing messages; server RSS {rss_before} KiB before, \
         max {early} KiB in the first half, {late} KiB in the second half; samples {samples:?}",
        errors.len()
    );
    assert!(errors.is_empty(), "no send refused: {:?}", errors.iter().take(3).collect::<Vec<_>>());
    assert_eq!(dropped, 0, "no socket dropped");
    assert_eq!(lost, 0, "every acknowledged message reached the other person once, in order");
    let expected = (rate as f64 * duration.as_secs_f64() * 0.8) as usize;
    assert!(acked >= expected, "the rate was kept: {acked} acknowledged, at least {expected} expected");
    // Flat: the second half grows no more than a tenth above the first, plus 8 MiB
    // of slack for allocator noise in short runs.
    assert!(late <= early + early / 10 + 8 * 1024, "memory grew: {early} KiB then {late} KiB");
    drop(logins);
}
