//! Black-box: live events lost between two instances on their way through Redis,
//! with nothing sent afterwards that would reveal the gap. A `PUBLISH` that Redis
//! refuses, and subscribers that Redis drops while people send: every device on the
//! other instance still gets every message, once and in order, within
//! `RECOVERED_WITHIN` of the relay working again.

use crate::support;
use chitchat_testkit::redis::OwnedRedis;
use chitchat_testkit::{TestServer, WsClient};
use std::time::Duration;

/// The promise of docs/reliability.md: a chat's position is announced a second
/// after its events were published and again each second until it gets through.
const RECOVERED_WITHIN: Duration = Duration::from_secs(4);

/// Runs `redis-cli` against the test's own Redis.
async fn redis_cli(redis: &OwnedRedis, args: &[&str]) -> String {
    let port = redis.port.to_string();
    let output = tokio::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .output()
        .await
        .expect("redis-cli runs (package redis-tools)");
    assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends message `i` over the socket; panics unless it is acknowledged.
async fn send(ws: &mut WsClient, chat: &str, i: usize) {
    let ack = ws.send_message(&format!("f{i}"), chat, &format!("m{i:05}"), &format!("c{i}")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

/// The contents of the `message` frames that arrive within `wait`, stopping early
/// once `expected` have come.
async fn received(ws: &mut WsClient, expected: usize, wait: Duration) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut contents = Vec::new();
    while contents.len() < expected {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(frame) = ws.next_json_within(left).await else { break };
        if frame["type"] == "message" {
            contents.push(frame["payload"]["content"].as_str().unwrap().to_owned());
        }
    }
    contents
}

fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i:05}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_publish_redis_refused_reaches_the_other_instance_with_nothing_sent_after() {
    let Some(redis) = OwnedRedis::start().await else { return };
    let env = [("PRESENCE_GRACE_PERIOD", support::PRESENCE_GRACE)];
    let Some(servers) = TestServer::start_cluster_on(support::BINARY, 2, &redis.url(), &env).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, chat, .. } = support::asha_and_ravi_across(&a, &b).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut phone = b.ws(&ravi_phone.token).await;
    send(&mut asha_ws, &chat, 0).await;
    assert_eq!(received(&mut phone, 1, Duration::from_secs(5)).await, numbered(0..1));

    // Redis refuses every PUBLISH (the subscriptions stay up): the chat's last
    // message is stored and acknowledged, but cannot travel to instance B.
    redis_cli(&redis, &["ACL", "SETUSER", "default", "-publish"]).await;
    send(&mut asha_ws, &chat, 1).await;
    assert!(received(&mut phone, 1, Duration::from_millis(1500)).await.is_empty(), "the publish was refused");

    redis_cli(&redis, &["ACL", "SETUSER", "default", "+publish"]).await;
    assert_eq!(received(&mut phone, 1, RECOVERED_WITHIN).await, numbered(1..2), "no later message was needed");
    assert!(phone.silent_for(Duration::from_millis(1500)).await, "and it came once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_dropped_by_redis_while_people_send_lose_no_message() {
    const MESSAGES: usize = 120;
    let Some(redis) = OwnedRedis::start().await else { return };
    let env = [("PRESENCE_GRACE_PERIOD", support::PRESENCE_GRACE)];
    let Some(servers) = TestServer::start_cluster_on(support::BINARY, 2, &redis.url(), &env).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, chat } = support::asha_and_ravi_across(&a, &b).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut phones = vec![b.ws(&ravi_phone.token).await];
    for _ in 0..3 {
        let device = b.login("9876543211", "Ravi").await;
        phones.push(b.ws(&device.token).await);
    }
    let mut laptop = a.ws(&ravi_laptop.token).await;

    // Redis drops both instances' subscriptions again and again while Asha sends.
    let killer = {
        let port = redis.port;
        tokio::spawn(async move {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(150)).await;
                let _ = tokio::process::Command::new("redis-cli")
                    .args(["-h", "127.0.0.1", "-p", &port.to_string(), "CLIENT", "KILL", "TYPE", "pubsub"])
                    .output()
                    .await;
            }
        })
    };
    for i in 0..MESSAGES {
        send(&mut asha_ws, &chat, i).await;
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    killer.await.unwrap();

    // Nothing more is sent: each of Ravi's devices on B has every message, once and
    // in order, by itself; the laptop on A had them live.
    let wait = RECOVERED_WITHIN + Duration::from_secs(3);
    for (i, phone) in phones.iter_mut().enumerate() {
        assert_eq!(received(phone, MESSAGES, wait).await, numbered(0..MESSAGES), "device {i} on instance B");
    }
    assert_eq!(received(&mut laptop, MESSAGES, wait).await, numbered(0..MESSAGES), "the laptop on A");
    for phone in &mut phones {
        assert!(phone.silent_for(Duration::from_millis(500)).await, "nothing twice");
    }
}
