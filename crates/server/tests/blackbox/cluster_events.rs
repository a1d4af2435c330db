//! Black-box: two instances on one PostgreSQL and one Redis. What people do on one
//! instance reaches the devices on the other at once: receipts (and the unread
//! count of the reader's other device), edits, deletions and reactions, and group
//! changes, including who receives the messages sent right after a member is
//! added or removed; a new direct chat shows on both people's devices before
//! anything is sent in it.

use crate::support;
use chitchat_testkit::{ApiClient, Login, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// The `unread_count` of `chat` in the chat list of `who`.
async fn unread(api: &ApiClient, who: &Login, chat: &str) -> i64 {
    let list = api.get("/api/chats", &who.token).await;
    let row = list.body["chats"].as_array().unwrap().iter().find(|c| c["id"] == chat).cloned();
    row.expect("the chat is listed")["unread_count"].as_i64().unwrap()
}

/// Sends a receipt over the socket and waits for its ack.
async fn report(ws: &mut WsClient, chat: &str, status: &str, seq: i64) {
    let id = format!("{status}-{seq}");
    ws.send_json(
        json!({"id": id, "type": "status_update", "room_id": chat, "payload": {"status": status, "seq": seq}}),
    )
    .await;
    let answer = ws.next_where("ack", |f| f["id"] == id.as_str()).await;
    assert!(answer.get("payload").is_none(), "{answer}");
}

/// The next `message_update` of `action` about `message_id`.
async fn next_update(ws: &mut WsClient, message_id: &str, action: &str) -> Value {
    ws.next_where("message_update", |f| f["payload"]["message"]["id"] == message_id && f["payload"]["action"] == action)
        .await
}

/// The next group system message of `action`.
async fn next_system(ws: &mut WsClient, action: &str) -> Value {
    ws.next_where("message", |f| f["payload"]["system"]["action"] == action).await
}

/// The next `message` frame; returns its content.
async fn next_content(ws: &mut WsClient) -> String {
    ws.next_of_type("message").await["payload"]["content"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_cross_instances_and_clear_unread_on_the_readers_other_device() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, chat } = support::asha_and_ravi_across(&a, &b).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut phone_ws = b.ws(&ravi_phone.token).await;
    let mut laptop_ws = a.ws(&ravi_laptop.token).await;

    for text in ["one", "two", "three"] {
        assert_eq!(a.send_text(&asha, &chat, text, None).await.status, StatusCode::CREATED);
        assert_eq!(next_content(&mut phone_ws).await, text);
    }
    assert_eq!(unread(&a, &ravi_laptop, &chat).await, 3);

    // Ravi's phone, on B, has all three: Asha, on A, sees two grey ticks.
    report(&mut phone_ws, &chat, "delivered", 3).await;
    let delivered = asha_ws.next_of_type("status_update").await;
    assert_eq!(delivered["sender"], ravi_phone.user_id());
    assert_eq!(delivered["payload"]["chat"], json!({"delivered_seq": 3, "read_seq": 0}));

    // He reads two on the phone: Asha sees blue ticks up to the second, and his
    // laptop, on A, hears of his own reading and drops its unread count to one.
    report(&mut phone_ws, &chat, "read", 2).await;
    let read = asha_ws.next_of_type("status_update").await;
    assert_eq!(read["payload"]["chat"], json!({"delivered_seq": 3, "read_seq": 2}));
    let own = laptop_ws.next_where("status_update", |f| f["payload"]["read_seq"] == 2).await;
    assert_eq!(own["payload"]["user_id"], ravi_laptop.user_id(), "the reader's own position");
    assert_eq!(unread(&a, &ravi_laptop, &chat).await, 1);
    let history = a.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    let statuses: Vec<&str> =
        history.body["messages"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["delivered", "read", "read"], "newest first");

    report(&mut phone_ws, &chat, "read", 3).await;
    laptop_ws.next_where("status_update", |f| f["payload"]["read_seq"] == 3).await;
    assert_eq!(unread(&a, &ravi_laptop, &chat).await, 0);
    assert_eq!(unread(&b, &ravi_phone, &chat).await, 0);

    // The laptop's connection already has every event of the chat, the receipts
    // made on B included, so a resume on it replays nothing; the log itself holds
    // the three messages, then the three receipts.
    let (replayed, _) = laptop_ws.resume("r", json!({ chat.clone(): 0 })).await;
    let seqs: Vec<i64> = replayed.iter().map(|f| f["event_seq"].as_i64().unwrap()).collect();
    assert!(seqs.is_empty(), "the live connection had them all already: {seqs:?}");
    let mut fresh = a.ws_resuming(&ravi_laptop.token).await;
    let (log, _) = fresh.resume("r", json!({ chat.clone(): 0 })).await;
    let kinds: Vec<&str> = log.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["message", "message", "message", "status_update", "status_update", "status_update"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_deletions_and_reactions_cross_instances() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut ravi_ws = b.ws(&ravi.token).await;
    let first = a.send_text(&asha, &chat, "see you at 5", None).await.body["id"].as_str().unwrap().to_owned();
    let second = a.send_text(&asha, &chat, "the code is 4711", None).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(next_content(&mut ravi_ws).await, "see you at 5");
    assert_eq!(next_content(&mut ravi_ws).await, "the code is 4711");

    let path = format!("/api/messages/{first}");
    let edited = a.call(Method::PATCH, &path, Some(&asha.token), Some(json!({"content": "see you at 6"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    let update = next_update(&mut ravi_ws, &first, "edited").await;
    assert_eq!(update["sender"], asha.user_id());
    assert_eq!(update["payload"]["message"]["content"], "see you at 6");

    let reactions = format!("{path}/reactions");
    let reacted = b.call(Method::PUT, &reactions, Some(&ravi.token), Some(json!({"emoji": "👍"}))).await;
    assert_eq!(reacted.status, StatusCode::NO_CONTENT, "{:?}", reacted.body);
    let update = next_update(&mut asha_ws, &first, "reaction").await;
    assert_eq!(
        (update["sender"].clone(), update["payload"]["user_id"].clone()),
        (json!(ravi.user_id()), json!(ravi.user_id()))
    );
    assert_eq!(update["payload"]["message"]["reactions"], json!({"👍": 1}));
    assert_eq!(update["payload"]["message"]["content"], "see you at 6");

    let deleted =
        a.call(Method::DELETE, &format!("/api/messages/{second}?for=everyone"), Some(&asha.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    let update = next_update(&mut ravi_ws, &second, "deleted").await;
    assert_eq!(update["payload"]["message"]["content"], "", "the text is gone on B too");
    assert!(update["payload"]["message"]["deleted_at"].is_string());

    let taken_back = b.call(Method::DELETE, &reactions, Some(&ravi.token), None).await;
    assert_eq!(taken_back.status, StatusCode::NO_CONTENT);
    let update = next_update(&mut asha_ws, &first, "reaction").await;
    assert_eq!(update["payload"]["removed"], true);
    assert!(update["payload"]["message"].get("reactions").is_none(), "no reactions left: {update}");

    // Whichever instance made them, the chat's log holds the changes in the order made.
    let mut fresh = b.ws_resuming(&ravi.token).await;
    let (log, _) = fresh.resume("r", json!({ chat.clone(): 0 })).await;
    let steps: Vec<(i64, &str)> = log
        .iter()
        .map(|f| (f["event_seq"].as_i64().unwrap(), f["payload"]["action"].as_str().unwrap_or("sent")))
        .collect();
    assert_eq!(steps, vec![(1, "sent"), (2, "sent"), (3, "edited"), (4, "reaction"), (5, "deleted"), (6, "reaction")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_changes_cross_instances_and_membership_takes_effect_at_once() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chen_phone = b.login("9876543212", "Chen").await;
    let chen_laptop = a.login("9876543212", "Chen").await;
    let mut asha_ws = a.ws(&asha.token).await;
    let mut ravi_ws = b.ws(&ravi.token).await;
    let mut chen_sockets = [b.ws(&chen_phone.token).await, a.ws(&chen_laptop.token).await];

    let group = a.create_group(&asha, "Trip", &[&ravi]).await;
    let chat = group["id"].as_str().unwrap().to_owned();
    next_system(&mut ravi_ws, "group_created").await;
    a.send_text(&asha, &chat, "before Chen", None).await;
    assert_eq!(next_content(&mut ravi_ws).await, "before Chen");

    // Added on A; the very next message, sent on B, reaches both of Chen's devices.
    let added =
        a.post(&format!("/api/chats/{chat}/members"), &asha.token, json!({"user_ids": [chen_phone.user_id()]})).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    let ack = ravi_ws.send_message("w", &chat, "welcome Chen", "welcome").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    for ws in &mut chen_sockets {
        // The addition (and the group's new state) come from A, the welcome from B:
        // a socket may see the welcome first, as the first event of a new chat.
        let mut seen = Vec::new();
        let arrived = |seen: &[Value], kind: &str, content: Option<&str>| {
            seen.iter().any(|f| f["type"] == kind && content.is_none_or(|c| f["payload"]["content"] == c))
        };
        while !arrived(&seen, "message", Some("welcome Chen")) || !arrived(&seen, "chat_update", None) {
            seen.push(ws.next_json().await);
        }
        let update = seen.iter().find(|f| f["type"] == "chat_update").unwrap();
        assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 3);
        let messages: Vec<&str> =
            seen.iter().filter(|f| f["type"] == "message").map(|f| f["payload"]["content"].as_str().unwrap()).collect();
        assert!(messages.iter().all(|m| ["Asha added Chen", "welcome Chen"].contains(m)), "{messages:?}");
    }

    // Renamed on A: the new name reaches B as a chat_update.
    let renamed = a
        .call(Method::PATCH, &format!("/api/chats/{chat}"), Some(&asha.token), Some(json!({"name": "Goa trip"})))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    for ws in [&mut ravi_ws, &mut chen_sockets[0]] {
        let update = ws.next_where("chat_update", |f| f["payload"]["name"] == "Goa trip").await;
        assert_eq!(
            (update["room_id"].as_str(), update["sender"].as_str()),
            (Some(chat.as_str()), asha.user["id"].as_str())
        );
        assert!(update["payload"].get("membership").is_none(), "chat_update carries the shared view");
    }

    // Removed on A; nothing sent afterwards, on either instance, reaches Chen.
    let removed = a
        .call(Method::DELETE, &format!("/api/chats/{chat}/members/{}", chen_phone.user_id()), Some(&asha.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let ack = ravi_ws.send_message("a1", &chat, "after 1", "after-1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(a.send_text(&asha, &chat, "after 2", None).await.status, StatusCode::CREATED);
    for ws in [&mut ravi_ws, &mut asha_ws] {
        ws.next_where("message", |f| f["payload"]["content"] == "after 2").await;
    }
    for ws in &mut chen_sockets {
        let last = next_system(ws, "member_removed").await;
        assert_eq!(last["payload"]["system"]["user_ids"], json!([chen_phone.user_id()]));
        assert!(ws.silent_for(Duration::from_millis(500)).await, "nothing after the removal, not even chat_update");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_direct_chat_shows_at_once_on_both_peoples_devices_on_either_instance() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let asha_laptop = b.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let mut ravi_ws = b.ws(&ravi.token).await;
    let mut laptop_ws = b.ws(&asha_laptop.token).await;

    // Asha starts a chat on instance A and sends nothing: Ravi's device and her
    // own laptop, both on B, show it at once.
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;
    for ws in [&mut ravi_ws, &mut laptop_ws] {
        let update = ws.next_of_type("chat_update").await;
        assert_eq!(update["room_id"], chat.as_str());
        assert_eq!(update["sender"], asha.user_id());
        assert_eq!(update["payload"]["type"], "direct");
        assert_eq!(update["payload"]["members"].as_array().unwrap().len(), 2);
        assert!(update.get("event_seq").is_none(), "chat_update is not logged");
    }
    // The same chat asked for again is not new: nothing more is announced.
    assert_eq!(b.direct_chat(&ravi, &asha.user_id()).await, chat);
    assert!(ravi_ws.silent_for(Duration::from_millis(500)).await);
}
