//! Black-box: a device that reconnects says where it is and gets exactly what it
//! missed, in order, before live events, none twice.

use chitchat_testkit::{TestServer, WsClient};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    a_reconnecting_device_gets_what_it_missed_once_and_in_order,
    a_resume_racing_with_new_messages_misses_nothing_and_repeats_nothing,
    resume_refuses_chats_the_caller_is_not_in,
    a_late_resume_after_live_events_repeats_nothing,
);

/// Reads frames until the ack of `frame_id`; returns the message frames seen before it.
async fn replay_until_ack(ws: &mut WsClient, frame_id: &str) -> (Vec<Value>, Value) {
    let mut messages = Vec::new();
    loop {
        let frame = ws.next_json().await;
        if frame["id"] == frame_id {
            return (messages, frame);
        }
        if frame["type"] == "message" {
            messages.push(frame);
        }
    }
}

fn contents(frames: &[Value]) -> Vec<String> {
    frames.iter().map(|f| f["payload"]["content"].as_str().unwrap().to_owned()).collect()
}

async fn a_reconnecting_device_gets_what_it_missed_once_and_in_order(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;

    let mut ravi_ws = api.ws(&ravi.token).await;
    for text in ["one", "two", "three"] {
        assert_eq!(api.send_text(&asha, &chat, text, None).await.status, StatusCode::CREATED);
    }
    let mut position = 0;
    for _ in 0..3 {
        position = ravi_ws.next_of_type("message").await["event_seq"].as_i64().unwrap();
    }
    assert_eq!(position, 3);
    drop(ravi_ws);

    for text in ["four", "five", "six"] {
        api.send_text(&asha, &chat, text, None).await;
    }
    let mut ravi_ws = api.ws(&ravi.token).await;
    ravi_ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): position}}})).await;
    let (missed, ack) = replay_until_ack(&mut ravi_ws, "r1").await;
    assert_eq!(contents(&missed), vec!["four", "five", "six"]);
    assert_eq!(missed.iter().map(|f| f["event_seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["payload"]["chats"][&chat], 6);

    api.send_text(&asha, &chat, "seven", None).await;
    let live = ravi_ws.next_of_type("message").await;
    assert_eq!((live["payload"]["content"].as_str(), live["event_seq"].as_i64()), (Some("seven"), Some(7)));
    assert!(ravi_ws.silent_for(Duration::from_millis(300)).await, "nothing twice");

    // Chat details tell a device that loaded over REST where to resume from.
    let details = api.get(&format!("/api/chats/{chat}"), &ravi.token).await;
    assert_eq!(details.body["last_event_seq"], 7);
}

async fn a_resume_racing_with_new_messages_misses_nothing_and_repeats_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for i in 1..=10 {
        api.send_text(&asha, &chat, &format!("before {i}"), None).await;
    }
    let mut ravi_ws = api.ws_resuming(&ravi.token).await;
    let sender = {
        let api = api.clone();
        let (asha, chat) = (asha.clone(), chat.clone());
        tokio::spawn(async move {
            for i in 1..=20 {
                let reply = api.send_text(&asha, &chat, &format!("during {i}"), Some(&format!("d{i}"))).await;
                assert_eq!(reply.status, StatusCode::CREATED);
            }
        })
    };
    ravi_ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    sender.await.unwrap();
    let mut seen = Vec::new();
    while let Some(frame) = ravi_ws.next_json_within(Duration::from_secs(2)).await {
        if frame["type"] == "message" {
            seen.push(frame["event_seq"].as_i64().unwrap());
        }
    }
    assert_eq!(seen, (1..=30).collect::<Vec<i64>>(), "every event once, in order");
}

async fn resume_refuses_chats_the_caller_is_not_in(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    api.send_text(&asha, &chat, "private", None).await;

    let mut ws = api.ws(&mallory.token).await;
    ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 0, "garbage": 0}}})).await;
    let (messages, ack) = replay_until_ack(&mut ws, "r1").await;
    assert!(messages.is_empty(), "no events of a chat the caller is not in");
    let mut not_found: Vec<&str> =
        ack["payload"]["not_found"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    not_found.sort_unstable();
    let mut expected = vec![chat.as_str(), "garbage"];
    expected.sort_unstable();
    assert_eq!(not_found, expected);
    ws.send_json(json!({"id": "r2", "type": "resume", "payload": {"chats": "nope"}})).await;
    assert_eq!(ws.next_json().await["payload"]["code"], "invalid_payload");
}

async fn a_late_resume_after_live_events_repeats_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for i in 1..=3 {
        api.send_text(&asha, &chat, &format!("old {i}"), None).await;
    }
    // Without ?resume=1 live events flow at once; a resume sent later must not repeat them.
    let mut ravi_ws = api.ws(&ravi.token).await;
    api.send_text(&asha, &chat, "live 4", None).await;
    assert_eq!(ravi_ws.next_of_type("message").await["event_seq"], 4);
    ravi_ws.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): 1}}})).await;
    let (missed, ack) = replay_until_ack(&mut ravi_ws, "r1").await;
    assert_eq!(contents(&missed), vec!["old 2", "old 3"]);
    assert_eq!(ack["payload"]["chats"][&chat], 4);
    api.send_text(&asha, &chat, "live 5", None).await;
    assert_eq!(ravi_ws.next_of_type("message").await["event_seq"], 5);
    assert!(ravi_ws.silent_for(Duration::from_millis(300)).await);
}
