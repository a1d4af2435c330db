//! Black-box: instances killed with SIGKILL at random moments while people send.
//! Every acknowledged message ends up stored exactly once, in order, and reaches
//! the other person's device exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitchat_testkit::{ApiClient, Login, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

/// Kills of instance A: 3 in the normal run; the full run in docs/reliability.md
/// sets `CHITCHAT_CRASH_KILLS=20`.
fn kills() -> usize {
    std::env::var("CHITCHAT_CRASH_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(3)
}
const MESSAGES_PER_ROUND: usize = 40;

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
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(20 + (seed >> 33) % 300)).await;
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
