//! Black-box: PostgreSQL restarts while people send. Sends made during the outage
//! get an `error` frame, never an `ack`; the client sends them again with the same
//! `client_msg_id`; the server comes back by itself once the database is up, and
//! afterwards every acknowledged message is stored exactly once, in order, and
//! reaches the other person exactly once. The database is a test-owned server on
//! its own port, so the shared one is not disturbed.

use crate::support;
use chitchat_testkit::postgres::OwnedPostgres;
use chitchat_testkit::{TestServer, WsClient};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Messages sent in all; the database goes down once about a third have been acknowledged.
const MESSAGES: usize = 150;
const DOWN_AFTER: usize = 50;
/// How long the database stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// How long the client waits before sending a refused message again.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// What the sending client saw.
#[derive(Default)]
struct Sent {
    /// The `ack`ed message ids, in sending order.
    acked: Vec<String>,
    /// `error` frames answered to sends (each followed by a retry).
    refused: usize,
    /// When the first send after the database returned was acknowledged.
    first_ack_after_restart: Option<Instant>,
}

/// Sends `client_msg_id` until it is acknowledged; returns the message id.
async fn send_until_acked(ws: &mut WsClient, chat: &str, i: usize, sent: &mut Sent) -> String {
    loop {
        let frame_id = format!("f{i}-{}", sent.refused);
        let frame = json!({
            "id": frame_id, "type": "message", "room_id": chat,
            "payload": {"content": format!("m{i:04}"), "client_msg_id": format!("c{i}")},
        });
        ws.send_json(frame).await;
        let answer = loop {
            let frame = ws.next_frame_or_end(Duration::from_secs(30)).await.expect("the socket stays open");
            if frame["id"] == frame_id.as_str() {
                break frame;
            }
        };
        match answer["type"].as_str() {
            Some("ack") => return answer["payload"]["id"].as_str().unwrap().to_owned(),
            Some("error") => {
                assert_eq!(answer["payload"]["code"], "internal_error", "{answer}");
                sent.refused += 1;
                tokio::time::sleep(RETRY_AFTER).await;
            }
            _ => panic!("unexpected answer {answer}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_loses_nothing_acknowledged() {
    let Some(postgres) = OwnedPostgres::start().await else { return };
    let server = TestServer::start_on_database(support::BINARY, postgres.url(), &[]).await;
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut asha_ws = api.ws(&asha.token).await;

    let mut sent = Sent::default();
    let mut restarted_at = None;
    for i in 0..MESSAGES {
        if i == DOWN_AFTER {
            postgres.stop().await;
            // Sends keep coming while it is down; it comes back in the background.
            let again = OUTAGE;
            let owned = &postgres;
            let (id, restarted) = tokio::join!(send_until_acked(&mut asha_ws, &chat, i, &mut sent), async move {
                tokio::time::sleep(again).await;
                owned.restart().await;
                Instant::now()
            });
            restarted_at = Some(restarted);
            sent.first_ack_after_restart = Some(Instant::now());
            sent.acked.push(id);
            continue;
        }
        let id = send_until_acked(&mut asha_ws, &chat, i, &mut sent).await;
        sent.acked.push(id);
    }
    let restarted_at = restarted_at.unwrap();
    let back_after = sent.first_ack_after_restart.unwrap().saturating_duration_since(restarted_at);
    assert!(sent.refused > 0, "sends during the outage were refused, not acknowledged");
    assert!(back_after < Duration::from_secs(10), "the service came back by itself, {back_after:?} after the restart");
    eprintln!(
        "db_restart: {MESSAGES} messages acknowledged; {} sends refused during a {OUTAGE:?} outage; first ack {back_after:?} after PostgreSQL was back",
        sent.refused
    );

    // Stored: exactly the acknowledged messages, once each, in sending order.
    let mut stored: Vec<Value> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let page = match before {
            Some(seq) => format!("/api/messages?chat_id={chat}&limit=100&before_seq={seq}"),
            None => format!("/api/messages?chat_id={chat}&limit=100"),
        };
        let reply = api.get(&page, &ravi.token).await;
        let messages = reply.body["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            break;
        }
        before = messages.iter().filter_map(|m| m["seq"].as_i64()).min();
        stored.extend(messages);
    }
    stored.sort_by_key(|m| m["seq"].as_i64());
    let stored_ids: Vec<&str> = stored.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(
        stored_ids,
        sent.acked.iter().map(String::as_str).collect::<Vec<_>>(),
        "stored = acknowledged, in order"
    );
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=MESSAGES as i64).collect::<Vec<_>>(), "no gap, no duplicate");

    // Delivered: Ravi's device, catching up from the start, gets each once, in order.
    let mut ravi_ws = api.ws_resuming(&ravi.token).await;
    ravi_ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    let mut received = Vec::new();
    while received.len() < MESSAGES {
        received.push(ravi_ws.next_of_type("message").await["payload"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(received, sent.acked);
}
