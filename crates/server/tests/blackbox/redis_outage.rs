//! Black-box: Redis goes away while people send, for a few seconds in the normal
//! test run and for a minute in the full run (`CHITCHAT_REDIS_OUTAGE_SECS=60`).
//! Sending never stops (Redis is not on the path of storing a message); devices on
//! the sender's instance keep getting messages live; devices on the other instance
//! get everything they missed, once and in order, by themselves once Redis is back.

use crate::support;
use chitchat_testkit::redis::OwnedRedis;
use chitchat_testkit::{TestServer, WsClient};
use std::time::{Duration, Instant};

/// Messages sent before, during and after the outage.
const BEFORE: usize = 20;
const DURING_EVERY: Duration = Duration::from_millis(50);
const AFTER: usize = 20;

/// Sends message `i` and returns its id once acknowledged.
async fn send(ws: &mut WsClient, chat: &str, i: usize) -> String {
    let ack = ws.send_message(&format!("f{i}"), chat, &format!("m{i:05}"), &format!("c{i}")).await;
    assert_eq!(ack["type"], "ack", "a send never waits for Redis: {ack}");
    ack["payload"]["id"].as_str().unwrap().to_owned()
}

fn outage() -> Duration {
    let seconds = std::env::var("CHITCHAT_REDIS_OUTAGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    Duration::from_secs(seconds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_under_load_loses_nothing_and_heals_by_itself() {
    let Some(mut redis) = OwnedRedis::start().await else { return };
    let env = [("PRESENCE_GRACE_PERIOD", support::PRESENCE_GRACE)];
    let Some(servers) = TestServer::start_cluster_on(support::BINARY, 2, &redis.url(), &env).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, chat } = support::asha_and_ravi_across(&a, &b).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut phone = b.ws(&ravi_phone.token).await;
    let mut laptop = a.ws(&ravi_laptop.token).await;

    let mut acked = Vec::new();
    for i in 0..BEFORE {
        acked.push(send(&mut asha_ws, &chat, i).await);
    }

    redis.stop().await;
    let outage = outage();
    let started = Instant::now();
    let mut i = BEFORE;
    while started.elapsed() < outage {
        acked.push(send(&mut asha_ws, &chat, i).await);
        i += 1;
        tokio::time::sleep(DURING_EVERY).await;
    }
    let during = i - BEFORE;
    let health = a.call(reqwest::Method::GET, "/health", None, None).await;
    let redis_state = health.body["services"]["redis"].as_str();
    assert_eq!((health.status, redis_state), (reqwest::StatusCode::OK, Some("disconnected")));
    redis.restart().await;
    for _ in 0..AFTER {
        acked.push(send(&mut asha_ws, &chat, i).await);
        i += 1;
    }

    // The laptop, on Asha's instance, and the phone, on the other, each end up with
    // every message once, in order, without reconnecting.
    for (device, ws) in [("laptop", &mut laptop), ("phone", &mut phone)] {
        let mut got = Vec::new();
        while got.len() < acked.len() {
            let frame = ws.next_json_within(Duration::from_secs(30)).await;
            let frame = frame.unwrap_or_else(|| panic!("{device}: {} of {} messages", got.len(), acked.len()));
            if frame["type"] == "message" {
                got.push(frame["payload"]["id"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(got, acked, "{device}: every message once, in order");
        assert!(ws.silent_for(Duration::from_millis(300)).await, "{device}: nothing twice");
    }
    eprintln!(
        "redis_outage: {} messages ({during} during a {outage:?} outage), all delivered once and in order on both instances",
        acked.len()
    );
}
