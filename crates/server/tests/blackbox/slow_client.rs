//! Black-box: a device that stops reading its socket while its chat is busy is cut
//! off by the server, told to resume, while everyone else in the chat keeps getting
//! every message at once; it then resumes and has every message exactly once, in
//! order.

use crate::support;
use chitchat_testkit::{SocketEnd, TestBackend, TestServer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Large messages fill the socket buffers between the server and a client that does
/// not read quickly: the stuck client's own buffer is held at 64 KiB, the server's
/// send buffer grows to a few MiB at most on Linux, and 240 messages of 60 KiB are
/// about 14 MiB.
const MESSAGES: usize = 240;
const CONTENT_BYTES: usize = 60 * 1024;
const STUCK_RECEIVE_BUFFER: u32 = 64 * 1024;
/// How long the server waits for a client to take a frame before cutting it off
/// (the default). Had the stuck client held the others up, some ack or delivery
/// would have waited that long; half of it is a generous bound for a machine that
/// is merely busy.
const WRITE_WAIT: &str = "10s";
const STALL_BOUND: Duration = Duration::from_secs(5);
/// "Try again later": reconnect and resume (docs/protocol.md, Closing).
const CLOSE_RESUME: u16 = 1013;

fn content(i: usize) -> String {
    format!("{i:04} {}", "x".repeat(CONTENT_BYTES))
}

/// The number a message's content starts with.
fn label(frame: &Value) -> String {
    frame["payload"]["content"].as_str().unwrap()[..4].to_owned()
}

fn is_text_message(frame: &Value) -> bool {
    frame["type"] == "message" && frame["payload"]["content_type"] == "text"
}

/// Waits until `/metrics` reports `count` open sockets; false if it does not within `wait`.
async fn open_sockets_drop_to(server: &TestServer, count: usize, wait: Duration) -> bool {
    let expected = format!("chitchat_ws_connections {count}");
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        let metrics = reqwest::get(format!("{}/metrics", server.base_url)).await.unwrap().text().await.unwrap();
        if metrics.lines().any(|line| line == expected) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_resumes_without_holding_up_others() {
    let server = support::start(TestBackend::Sqlite, &[("WS_WRITE_WAIT", WRITE_WAIT)]).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let meera = api.login("9876543212", "Meera").await;
    let group = api.create_group(&asha, "Busy", &[&ravi, &meera]).await;
    let chat = group["id"].as_str().unwrap().to_owned();

    // Meera's device connects, then reads nothing until the end.
    let mut stuck = api.ws_with_receive_buffer(&meera.token, STUCK_RECEIVE_BUFFER).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let reader = tokio::spawn(async move {
        let mut arrivals = Vec::new();
        while arrivals.len() < MESSAGES {
            let frame = ravi_ws.next_json_within(Duration::from_secs(30)).await.expect("Ravi keeps receiving");
            if is_text_message(&frame) {
                arrivals.push((label(&frame), Instant::now()));
            }
        }
        (arrivals, ravi_ws)
    });

    let mut acked_at = Vec::with_capacity(MESSAGES);
    let mut slowest_ack = Duration::ZERO;
    for i in 0..MESSAGES {
        let started = Instant::now();
        let ack = asha_ws.send_message(&format!("m{i}"), &chat, &content(i), &format!("busy-{i}")).await;
        assert_eq!(ack["type"], "ack", "message {i}: {}", ack["payload"]["code"]);
        slowest_ack = slowest_ack.max(started.elapsed());
        acked_at.push(Instant::now());
    }
    // Ravi stays connected, so that the count of open sockets drops only for the stuck one.
    let (arrivals, _ravi_ws) = reader.await.unwrap();
    let expected: Vec<String> = (0..MESSAGES).map(|i| format!("{i:04}")).collect();
    assert_eq!(arrivals.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(), expected, "Ravi got every message once");
    let latest = arrivals.iter().zip(&acked_at).map(|((_, at), acked)| at.saturating_duration_since(*acked)).max();
    assert!(slowest_ack < STALL_BOUND, "an ack took {slowest_ack:?} while a device was stuck");
    assert!(latest.unwrap() < STALL_BOUND, "a message reached Ravi {latest:?} after its ack");

    assert!(
        open_sockets_drop_to(&server, 2, Duration::from_secs(60)).await,
        "the device that stopped reading was never cut off"
    );
    // Reading again at once, the device finds what had reached it, then the close
    // frame, which the server keeps trying to send for up to WS_WRITE_WAIT.
    let (frames, end) = stuck.frames_until_end(Duration::from_secs(30)).await;
    assert_eq!(end, SocketEnd::Closed(Some(CLOSE_RESUME)), "told to reconnect and resume");
    let before: Vec<Value> = frames.into_iter().filter(|f| f["type"] == "message").collect();
    assert!(before.len() < MESSAGES, "cut off before it had everything: {} messages", before.len());

    // It reconnects and resumes from the last event it has.
    let position = before.last().map_or(0, |f| f["event_seq"].as_i64().unwrap());
    let mut resumed = api.ws_resuming(&meera.token).await;
    let (replayed, answer) = resumed.resume("r", json!({ chat.clone(): position })).await;
    assert_eq!(answer["type"], "ack", "{answer}");
    let all: Vec<&Value> = before.iter().chain(&replayed).collect();
    let seqs: Vec<i64> = all.iter().map(|f| f["event_seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "no gap, nothing twice: {seqs:?}");
    let texts: Vec<String> = all.into_iter().filter(|f| is_text_message(f)).map(label).collect();
    assert_eq!(texts, expected, "every message exactly once, in order");
}
