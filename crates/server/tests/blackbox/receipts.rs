//! Black-box: delivered and read ticks, unread counts across devices, receipts.

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(ticks_unread_counts_and_receipts_follow_what_people_did,);

async fn ticks_unread_counts_and_receipts_follow_what_people_did(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut laptop_ws = api.ws(&ravi_laptop.token).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(api.send_text(&asha, &chat, text, None).await.body["id"].as_str().unwrap().to_owned());
    }
    let statuses = |reply: &chitchat_testkit::client::Reply| -> Vec<String> {
        reply.body["messages"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap().to_owned()).collect()
    };
    let history = format!("/api/messages?chat_id={chat}");
    assert_eq!(statuses(&api.get(&history, &asha.token).await), vec!["sent", "sent", "sent"]);
    assert_eq!(api.get("/api/chats", &ravi.token).await.body["chats"][0]["unread_count"], 3);

    // Ravi's phone got all three.
    ravi_ws
        .send_json(
            json!({"id": "d1", "type": "status_update", "room_id": chat, "payload": {"status": "delivered", "seq": 3}}),
        )
        .await;
    let update = asha_ws.next_of_type("status_update").await;
    assert_eq!(update["sender"], ravi.user_id());
    assert_eq!(update["payload"]["chat"]["delivered_seq"], 3);
    assert!(update["event_seq"].as_i64().is_some(), "receipts are durable events");
    assert_eq!(statuses(&api.get(&history, &asha.token).await), vec!["delivered", "delivered", "delivered"]);
    for ws in [&mut ravi_ws, &mut laptop_ws] {
        assert_eq!(ws.next_of_type("status_update").await["payload"]["delivered_seq"], 3, "every member hears it");
    }

    // Ravi reads up to the second on his laptop: his phone hears it too.
    let read = api.post(&format!("/api/chats/{chat}/read"), &ravi_laptop.token, json!({"seq": 2})).await;
    assert_eq!(read.status, StatusCode::NO_CONTENT);
    assert_eq!(asha_ws.next_of_type("status_update").await["payload"]["chat"]["read_seq"], 2);
    assert_eq!(
        ravi_ws.next_of_type("status_update").await["payload"]["read_seq"],
        2,
        "his other device clears its count"
    );
    assert_eq!(laptop_ws.next_of_type("status_update").await["payload"]["read_seq"], 2);
    assert_eq!(statuses(&api.get(&history, &asha.token).await), vec!["delivered", "read", "read"]);
    assert_eq!(api.get("/api/chats", &ravi.token).await.body["chats"][0]["unread_count"], 1);

    // Who has it, and when: for the sender only.
    let receipts = api.get(&format!("/api/messages/{}/receipts", ids[1]), &asha.token).await;
    assert_eq!(receipts.status, StatusCode::OK);
    let ravi_receipt = &receipts.body["receipts"][0];
    assert_eq!(ravi_receipt["user_id"], ravi.user_id());
    assert!(ravi_receipt["delivered_at"].is_string() && ravi_receipt["read_at"].is_string());
    let not_sender = api.get(&format!("/api/messages/{}/receipts", ids[1]), &ravi.token).await;
    assert_eq!((not_sender.status, not_sender.error_code()), (StatusCode::FORBIDDEN, "not_sender"));
    let outsider = api.get(&format!("/api/messages/{}/receipts", ids[1]), &mallory.token).await;
    assert_eq!((outsider.status, outsider.error_code()), (StatusCode::NOT_FOUND, "message_not_found"));

    // The seed's endpoint: read up to a message; statuses never move back.
    let seed = api.post("/api/messages/status", &ravi.token, json!({"message_id": ids[2], "status": "read"})).await;
    assert_eq!(seed.status, StatusCode::NO_CONTENT);
    let back =
        api.post("/api/messages/status", &ravi.token, json!({"message_id": ids[0], "status": "delivered"})).await;
    assert_eq!(back.status, StatusCode::NO_CONTENT);
    assert_eq!(statuses(&api.get(&history, &asha.token).await), vec!["read", "read", "read"]);
    assert_eq!(api.get("/api/chats", &ravi.token).await.body["chats"][0]["unread_count"], 0);

    let bad = api.post("/api/messages/status", &ravi.token, json!({"message_id": ids[0], "status": "seen"})).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_status"));
    let stranger =
        api.post("/api/messages/status", &mallory.token, json!({"message_id": ids[0], "status": "read"})).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let anonymous = api.call(Method::POST, &format!("/api/chats/{chat}/read"), None, Some(json!({"seq": 1}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
