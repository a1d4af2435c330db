//! Black-box: a device whose connection keeps dropping still ends with every
//! message exactly once, in order; a send retried after a lost ack is stored once.

use chitchat_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

on_both_backends!(
    a_flaky_device_gets_a_thousand_messages_exactly_once_in_order,
    a_send_retried_after_a_lost_ack_is_stored_once,
);

const MESSAGES: usize = 1000;

async fn a_flaky_device_gets_a_thousand_messages_exactly_once_in_order(server: TestServer) {
    let api = server.client();
    let ravi = api.login("9876543211", "Ravi").await;
    let mut chats = Vec::new();
    let mut senders = Vec::new();
    for (i, phone) in ["9876543210", "9876543212", "9876543213"].into_iter().enumerate() {
        let sender = api.login(phone, &format!("Sender {i}")).await;
        chats.push(api.direct_chat(&sender, &ravi.user_id()).await);
        senders.push(sender);
    }
    // Three people send concurrently, a third of the messages each, in their own chat.
    let sending: Vec<_> = senders
        .iter()
        .zip(&chats)
        .map(|(sender, chat)| {
            let (api, sender, chat) = (api.clone(), sender.clone(), chat.clone());
            tokio::spawn(async move {
                for i in 0..MESSAGES / 3 + 1 {
                    let reply = api.send_text(&sender, &chat, &format!("{i}"), Some(&format!("{chat}-{i}"))).await;
                    assert_eq!(reply.status, StatusCode::CREATED);
                }
            })
        })
        .collect();
    let expected: usize = 3 * (MESSAGES / 3 + 1);

    // Ravi's device drops its connection after a varying number of frames, and resumes.
    let mut positions: BTreeMap<String, i64> = chats.iter().map(|c| (c.clone(), 0)).collect();
    let mut received: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut total = 0;
    let mut round = 0u64;
    while total < expected {
        round += 1;
        let mut ws = api.ws_resuming(&ravi.token).await;
        ws.send_json(json!({"id": "r", "type": "resume", "payload": {"chats": positions}})).await;
        // Pseudo-random but reproducible: between 1 and 97 frames before the drop.
        let budget = 1 + (round * 7919 % 97);
        for _ in 0..budget {
            let Some(frame) = ws.next_json_within(Duration::from_secs(10)).await else { break };
            if frame["type"] != "message" {
                continue;
            }
            let chat = frame["room_id"].as_str().unwrap().to_owned();
            positions.insert(chat.clone(), frame["event_seq"].as_i64().unwrap());
            received.entry(chat).or_default().push(frame["payload"]["seq"].as_i64().unwrap());
            total += 1;
        }
        drop(ws);
        assert!(round < 10_000, "no progress");
    }
    for task in sending {
        task.await.unwrap();
    }
    assert_eq!(total, expected);
    for chat in &chats {
        let seqs = &received[chat];
        assert_eq!(seqs, &(1..=seqs.len() as i64).collect::<Vec<_>>(), "chat {chat}: every message once, in order");
    }
}

async fn a_send_retried_after_a_lost_ack_is_stored_once(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;

    let frame = json!({"id": "f1", "type": "message", "room_id": chat,
        "payload": {"content": "did this arrive?", "content_type": "text", "client_msg_id": "retry-1"}});
    let mut ws = api.ws(&asha.token).await;
    ws.send_json(frame.clone()).await;
    drop(ws); // the ack is lost with the connection

    let mut ws = api.ws(&asha.token).await;
    ws.send_json(frame).await;
    let ack = loop {
        let reply = ws.next_json().await;
        if reply["id"] == "f1" {
            break reply;
        }
    };
    assert_eq!(ack["type"], "ack");
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    let messages = history.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "stored once");
    assert_eq!(messages[0]["id"], ack["payload"]["id"]);
}
