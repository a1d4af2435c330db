//! Black-box: the connection limits a device can run into. A socket that stays
//! silent past `WS_PONG_WAIT` is closed and its user goes offline; a device whose
//! queue of events overflows `WS_WRITE_BUFFER_SIZE` is closed with "resume"; a
//! device that missed more than a replay holds gets `resync` for that chat.

use crate::support;
use chitchat_testkit::{SocketEnd, TestBackend};
use serde_json::json;
use std::time::Duration;

/// "Try again later": reconnect and resume (docs/protocol.md, Closing).
const CLOSE_RESUME: u16 = 1013;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_closed_after_the_pong_wait_and_its_user_goes_offline() {
    let env = [("WS_PING_PERIOD", "500ms"), ("WS_PONG_WAIT", "2s")];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    api.exchange_messages(&asha, &ravi).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    // Asha's device connects, then goes silent: it never reads, so it never answers a ping.
    let asha_silent = api.ws(&asha.token).await;
    let online = ravi_ws.next_where("presence", |f| f["sender"] == asha.user_id()).await;
    assert_eq!(online["payload"]["online"], true);

    // Closed after WS_PONG_WAIT (2 s), then offline after the grace period (1.5 s);
    // Ravi, who keeps reading (and so answering pings), stays connected throughout.
    // (A repeated "online" may come first: the snapshot on connecting can cross the announcement.)
    let offline =
        ravi_ws.next_where("presence", |f| f["sender"] == asha.user_id() && f["payload"]["online"] == false).await;
    assert!(offline["payload"]["last_seen"].is_string());
    let metrics = reqwest::get(format!("{}/metrics", server.base_url)).await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "chitchat_ws_connections 1"), "only Ravi's socket is left:\n{metrics}");
    drop(asha_silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_whose_queue_overflows_is_told_to_resume_and_misses_nothing() {
    // A small queue, and a write wait long enough not to be what cuts the device off.
    let env = [("WS_WRITE_BUFFER_SIZE", "8"), ("WS_WRITE_WAIT", "60s"), ("RATE_LIMIT_BURST", "1000")];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut stuck = api.ws_with_receive_buffer(&ravi.token, 64 * 1024).await;

    // Large messages fill the socket buffers quickly; then events queue up for Ravi's
    // device, past 8 of them.
    const MESSAGES: usize = 120;
    let big = "x".repeat(60 * 1024);
    for i in 0..MESSAGES {
        let sent = api.send_text(&asha, &chat, &format!("{i:04} {big}"), None).await;
        assert_eq!(sent.status, reqwest::StatusCode::CREATED, "message {i}");
    }

    // Reading again, the device gets what was written before, then the close.
    let (frames, end) = stuck.frames_until_end(Duration::from_secs(20)).await;
    let got = frames.iter().filter(|f| f["type"] == "message").count();
    assert_eq!(end, SocketEnd::Closed(Some(CLOSE_RESUME)), "after {got} messages");
    assert!(got < MESSAGES, "cut off before the end: {got}");

    // It resumes from the start and then holds every message once, in order.
    let mut back = api.ws_resuming(&ravi.token).await;
    back.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    let mut seqs = Vec::new();
    while seqs.len() < MESSAGES {
        let frame = back.next_of_type("message").await;
        seqs.push(frame["payload"]["seq"].as_i64().unwrap());
    }
    assert_eq!(seqs, (1..=MESSAGES as i64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_missed_more_than_a_replay_holds_is_told_to_reload_the_chat() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    // 1,001 events while Ravi is away: one more than a replay holds.
    let mut asha_ws = api.ws(&asha.token).await;
    for i in 0..1001 {
        let ack = asha_ws.send_message(&format!("f{i}"), &chat, &format!("m{i}"), &format!("c{i}")).await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }

    let mut ravi_ws = api.ws_resuming(&ravi.token).await;
    ravi_ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    let resync = ravi_ws.next_of_type("resync").await;
    assert_eq!(resync["room_id"], chat.as_str());
    assert_eq!(resync["payload"]["reason"], "gap_too_large");
    assert_eq!(resync["event_seq"], 1001, "the connection goes on from the newest event");
    assert!(
        ravi_ws.collect_of_type("message", Duration::from_millis(500)).await.is_empty(),
        "nothing of that chat is replayed"
    );
    // Live events follow from there.
    asha_ws.send_message("live", &chat, "after the resync", "c-live").await;
    let live = ravi_ws.next_of_type("message").await;
    assert_eq!(
        (live["event_seq"].as_i64(), live["payload"]["content"].as_str()),
        (Some(1002), Some("after the resync"))
    );
}
