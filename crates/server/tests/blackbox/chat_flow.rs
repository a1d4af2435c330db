//! Black-box: people log in with codes, open a direct chat and talk live.

use chitchat_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    two_people_chat_live_on_every_device,
    messages_arrive_in_order_with_consecutive_seq,
    a_burst_of_sends_is_stored_in_order_and_each_answered_in_turn,
    a_repeated_client_msg_id_yields_one_message,
    history_and_chat_list_survive_a_restart,
    the_same_pair_always_gets_the_same_chat,
);

async fn two_people_chat_live_on_every_device(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let ravi_phone = api.login("+919876543211", "Ravi").await;
    let ravi_laptop = api.login("+91 98765 43211", "Ravi").await;
    assert_eq!(ravi_phone.user_id(), ravi_laptop.user_id(), "one person, two devices");

    let found = api.get("/api/users/search?q=rav", &asha.token).await;
    assert_eq!(found.body["users"][0]["id"], ravi_phone.user_id());
    let chat = api.direct_chat(&asha, &ravi_phone.user_id()).await;

    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws_phone = api.ws(&ravi_phone.token).await;
    let mut ravi_ws_laptop = api.ws(&ravi_laptop.token).await;

    // Over REST: every device of both people gets the frame, the sender's included.
    let sent = api.send_text(&asha, &chat, "Hello Ravi", Some("c-1")).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    for ws in [&mut ravi_ws_phone, &mut ravi_ws_laptop, &mut asha_ws] {
        let frame = ws.next_of_type("message").await;
        assert_eq!(frame["room_id"], chat.as_str());
        assert_eq!(frame["sender"], asha.user_id());
        assert_eq!(frame["payload"]["content"], "Hello Ravi");
        assert_eq!(frame["payload"]["id"], sent.body["id"]);
    }

    // Over the socket: the sender gets an ack with the stored message.
    let ack = ravi_ws_phone.send_message("f1", &chat, "Hi Asha!", "r-1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["payload"]["seq"], 2);
    let frame = asha_ws.next_of_type("message").await;
    assert_eq!(frame["payload"]["content"], "Hi Asha!");
    assert_eq!(frame["payload"]["id"], ack["payload"]["id"]);
    let own_other_device = ravi_ws_laptop.next_of_type("message").await;
    assert_eq!(own_other_device["payload"]["id"], ack["payload"]["id"]);

    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi_laptop.token).await;
    let contents: Vec<&str> =
        history.body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, vec!["Hi Asha!", "Hello Ravi"], "newest first");
}

async fn messages_arrive_in_order_with_consecutive_seq(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut asha_ws = api.ws(&asha.token).await;
    for i in 1..=20 {
        let reply = asha_ws.send_message(&format!("f{i}"), &chat, &format!("message {i}"), &format!("c{i}")).await;
        assert_eq!(reply["type"], "ack");
    }
    for i in 1..=20 {
        let frame = ravi_ws.next_of_type("message").await;
        assert_eq!(frame["payload"]["seq"], i);
        assert_eq!(frame["payload"]["content"], format!("message {i}"));
    }
    assert!(ravi_ws.silent_for(Duration::from_millis(300)).await, "nothing twice");
}

/// A device that sends without waiting for each ack (a burst, or its outbox
/// emptied after a reconnect): the sends waiting behind each other are stored
/// together, but each is still checked and answered on its own, in order.
async fn a_burst_of_sends_is_stored_in_order_and_each_answered_in_turn(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let nowhere = "0190a000-0000-7000-8000-000000000000";
    for i in 1..=30 {
        // The tenth goes to a chat that does not exist; the twentieth repeats the
        // fifth's client_msg_id.
        let (room, key) = match i {
            10 => (nowhere.to_owned(), "c10".to_owned()),
            20 => (chat.clone(), "c5".to_owned()),
            _ => (chat.clone(), format!("c{i}")),
        };
        asha_ws
            .send_json(json!({
                "id": format!("f{i}"),
                "type": "message",
                "room_id": room,
                "payload": { "content": format!("message {i}"), "content_type": "text", "client_msg_id": key }
            }))
            .await;
    }
    let mut replies = Vec::new();
    while replies.len() < 30 {
        let frame = asha_ws.next_json().await;
        if frame["id"].is_string() {
            replies.push(frame);
        }
    }
    let ids: Vec<String> = replies.iter().map(|r| r["id"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(ids, (1..=30).map(|i| format!("f{i}")).collect::<Vec<_>>(), "answered in the order sent");
    assert_eq!(replies[9]["type"], "error");
    assert_eq!(replies[9]["payload"]["code"], "chat_not_found", "{}", replies[9]);
    assert_eq!(replies[19]["type"], "ack");
    assert_eq!(replies[19]["payload"]["id"], replies[4]["payload"]["id"], "a repeated key is the first message");
    let stored: Vec<&serde_json::Value> =
        replies.iter().enumerate().filter(|(i, _)| *i != 9 && *i != 19).map(|(_, r)| r).collect();
    for (n, ack) in stored.iter().enumerate() {
        assert_eq!(ack["type"], "ack", "{ack}");
        assert_eq!(ack["payload"]["seq"], n + 1, "numbered in the order sent: {ack}");
    }
    for ack in &stored {
        let frame = ravi_ws.next_of_type("message").await;
        assert_eq!(frame["payload"]["id"], ack["payload"]["id"], "delivered in order, once each");
    }
    assert!(ravi_ws.silent_for(Duration::from_millis(300)).await, "nothing twice");
}

async fn a_repeated_client_msg_id_yields_one_message(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ravi_ws = api.ws(&ravi.token).await;

    let first = api.send_text(&asha, &chat, "only once", Some("retry-me")).await;
    let again = api.send_text(&asha, &chat, "only once", Some("retry-me")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], first.body["id"]);

    let mut asha_ws = api.ws(&asha.token).await;
    let ack = asha_ws.send_message("f1", &chat, "only once", "retry-me").await;
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["payload"]["id"], first.body["id"]);

    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["id"], first.body["id"]);
    assert!(ravi_ws.silent_for(Duration::from_millis(500)).await, "the retry is not delivered again");
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1);
}

async fn history_and_chat_list_survive_a_restart(mut server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for text in ["one", "two", "three"] {
        assert_eq!(api.send_text(&asha, &chat, text, None).await.status, StatusCode::CREATED);
    }
    server.restart().await;
    let api = server.client();
    let verify = api.get("/api/auth/verify", &ravi.token).await;
    assert_eq!(verify.status, StatusCode::OK, "logins survive a restart");
    let history = api.get(&format!("/api/messages?chat_id={chat}&limit=2"), &ravi.token).await;
    let seqs: Vec<i64> =
        history.body["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![3, 2]);
    let older = api.get(&format!("/api/messages?chat_id={chat}&limit=2&offset=2"), &ravi.token).await;
    assert_eq!(older.body["messages"][0]["content"], "one");
    let chats = api.get("/api/chats", &ravi.token).await;
    assert_eq!(chats.body["chats"][0]["id"], chat.as_str());
    assert_eq!(chats.body["chats"][0]["last_message"]["content"], "three");
    let next = api.send_text(&ravi, &chat, "four", None).await;
    assert_eq!(next.body["seq"], 4, "seq continues after a restart");
}

async fn the_same_pair_always_gets_the_same_chat(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let created = api.post("/api/chats", &asha.token, json!({"type": "direct", "user_ids": [ravi.user_id()]})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let from_ravi = api.post("/api/chats", &ravi.token, json!({"type": "direct", "user_ids": [asha.user_id()]})).await;
    assert_eq!(from_ravi.status, StatusCode::OK);
    assert_eq!(from_ravi.body["id"], created.body["id"]);
    let members = created.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    let details = api.get(&format!("/api/chats/{}", created.body["id"].as_str().unwrap()), &ravi.token).await;
    assert_eq!(details.status, StatusCode::OK);
    assert_eq!(details.body["type"], "direct");
}
