//! Black-box: instances killed with SIGKILL at random moments while people send.
//! Every acknowledged message ends up stored exactly once, in order, and reaches
//! the other person's device exactly once. Two tests: one sender over REST
//! alternating between the instances while one of them is killed again and again,
//! and devices on both instances over WebSockets while either instance may be
//! killed, each device reconnecting to whichever instance answers and resuming.

use crate::support;
use chitchat_testkit::{ApiClient, Login, SocketEnd, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::roaming::{wait_for_progress, Device, FourRoaming};

/// Kills: 3 in the normal run; the full run in docs/reliability.md
/// sets `CHITCHAT_CRASH_KILLS=20`.
fn kills() -> usize {
    std::env::var("CHITCHAT_CRASH_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(3)
}
const MESSAGES_PER_ROUND: usize = 40;
/// Acknowledgements every WebSocket device gets between two kills and after each
/// restart, so that every kill happens under traffic from every device.
const ACKS_BETWEEN_KILLS: usize = 10;

/// The next pseudo-random number, reproducible from the seed.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Sends `client_msg_id`'s message through `first`, and through `second` whenever
/// `first` fails (it may be dead); true once acknowledged.
async fn send_until_acked(first: &ApiClient, second: &ApiClient, asha: &Login, chat: &str, id: &str) -> bool {
    for attempt in 0..20 {
        let api = if attempt % 2 == 0 { first } else { second };
        let body = json!({"chat_id": chat, "content": id, "client_msg_id": id});
        let request = reqwest::Client::new()
            .post(format!("{}/api/messages", api.base))
            .bearer_auth(&asha.token)
            .json(&body)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if let Ok(response) = request {
            if response.status() == StatusCode::CREATED || response.status() == StatusCode::OK {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_instances_being_killed() {
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &[]).await else { return };
    let b = servers[1].client();
    let asha = b.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chat = b.direct_chat(&asha, &ravi.user_id()).await;
    let mut ravi_ws = b.ws(&ravi.token).await;

    let mut acked = Vec::new();
    let mut seed: u64 = 0x5eed;
    for round in 0..kills() {
        let a = servers[0].client();
        let sender = {
            let (a, b, asha, chat) = (a.clone(), b.clone(), asha.clone(), chat.clone());
            tokio::spawn(async move {
                let mut ok = Vec::new();
                for i in 0..MESSAGES_PER_ROUND {
                    let id = format!("r{round}-m{i}");
                    let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
                    assert!(send_until_acked(first, second, &asha, &chat, &id).await, "{id} never acknowledged");
                    ok.push(id);
                }
                ok
            })
        };
        // A pseudo-random moment within the round, reproducible from the seed.
        tokio::time::sleep(Duration::from_millis(20 + next(&mut seed) % 300)).await;
        servers[0].stop().await; // SIGKILL
        acked.extend(sender.await.unwrap());
        servers[0].start_again().await;
    }

    // Stored exactly once each, in order.
    let mut stored: Vec<String> = Vec::new();
    loop {
        let page =
            b.get(&format!("/api/messages?chat_id={chat}&limit=100&after_seq={}", stored.len()), &ravi.token).await;
        let messages = page.body["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            break;
        }
        stored.extend(messages.iter().map(|m| m["content"].as_str().unwrap().to_owned()));
    }
    let distinct: BTreeSet<&String> = stored.iter().collect();
    assert_eq!(distinct.len(), stored.len(), "no message stored twice");
    assert_eq!(stored.len(), acked.len(), "every acknowledged message stored, nothing else");
    let acked_set: BTreeSet<&String> = acked.iter().collect();
    assert_eq!(distinct, acked_set);
    // Each sender's messages keep their order (one sender, sent one after another).
    assert_eq!(stored, acked, "in the order they were acknowledged");

    // Ravi's device (on the instance that stayed up) got each exactly once, in order.
    let mut seqs = Vec::new();
    while seqs.len() < acked.len() {
        let frame = ravi_ws.next_json_within(Duration::from_secs(10)).await.expect("every message delivered");
        if frame["type"] == "message" {
            seqs.push(frame["payload"]["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(seqs, (1..=acked.len() as i64).collect::<Vec<_>>());
    assert!(ravi_ws.silent_for(Duration::from_millis(500)).await, "nothing twice");
    eprintln!(
        "crash: {} kills, {} messages acknowledged, each stored and delivered once, in order",
        kills(),
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_on_both_instances_lose_nothing_when_either_is_killed() {
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &[]).await else { return };
    let started = Instant::now();
    let mut people = FourRoaming::start(&servers, "Crashes").await;

    // Either instance, at a pseudo-random moment after every device has made
    // progress; the devices on it lose their sockets without a close frame.
    let mut seed: u64 = 0xc0ffee;
    let mut killed = [0; 2];
    for _ in 0..kills() {
        wait_for_progress(&people.progress, ACKS_BETWEEN_KILLS).await;
        tokio::time::sleep(Duration::from_millis(next(&mut seed) % 200)).await;
        let victim = (next(&mut seed) % 2) as usize;
        servers[victim].stop().await; // SIGKILL
        killed[victim] += 1;
        wait_for_progress(&people.progress, ACKS_BETWEEN_KILLS).await;
        servers[victim].start_again().await;
        people.directory.lock().unwrap()[victim] = servers[victim].client();
    }
    wait_for_progress(&people.progress, ACKS_BETWEEN_KILLS).await;
    let mut devices = people.stop().await;

    // A killed instance sends no close frame: every connection that ended, ended so.
    for device in &devices {
        let unexpected: Vec<SocketEnd> =
            device.ends.iter().map(|(end, _)| *end).filter(|end| *end != SocketEnd::Dropped).collect();
        assert!(unexpected.is_empty(), "{}: connections ended otherwise: {unexpected:?}", device.name);
    }
    let acknowledged = people.check(&mut devices).await;
    let resent: usize = devices.iter().map(|d| d.resent).sum();
    let dropped: usize = devices.iter().map(|d| d.ends.len()).sum();
    let longest_gap = devices.iter().map(Device::longest_gap).max().unwrap();
    eprintln!(
        "crash over websockets: {} kills (A {}, B {}), {acknowledged} messages acknowledged by 4 devices in {:.1} s; \
         {dropped} connections dropped, {resent} sends resent on the next connection; longest time from a drop to \
         the next acknowledgement {longest_gap:?}; every message stored once and held once, in order, by every member",
        kills(),
        killed[0],
        killed[1],
        started.elapsed().as_secs_f64(),
    );
}
