//! Black-box authorization matrix over the WebSocket: every client frame type
//! (`message`, `status_update`, `typing`, `resume`, and the call frames) from an anonymous caller, a
//! stranger, a former member, a member, an admin and the sender. Outsiders get an
//! `error` frame (or `not_found` in a resume) and change nothing anyone can see: no
//! message stored or delivered, no receipt, no typing indicator, no event of the
//! chat on their own socket. Members, admins and senders are served. Presence
//! reaches only the people a user exchanged messages with (or mutual contacts),
//! and a former member reads messages as they were when they left. A person's
//! `chat_settings` and `block_update` frames reach only their own devices, and
//! `user_update` never a stranger.

use chitchat_testkit::{Login, TestServer, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    every_frame_type_checks_who_is_sending_it,
    presence_reaches_only_people_the_user_exchanged_messages_with,
    a_former_member_sees_messages_as_they_were_when_they_left,
    private_frames_reach_only_their_owners_devices,
    every_call_frame_checks_who_is_sending_it,
);

const QUIET: Duration = Duration::from_millis(400);

/// One client frame of each type for `chat`, with the frame id `id`; the receipt
/// reports everything up to `seq` read. It comes first: a member's own message
/// moves their position past `seq`, after which the receipt would change nothing.
fn frames(id: &str, chat: &str, seq: i64) -> Vec<(&'static str, Value)> {
    vec![
        (
            "status_update",
            json!({"id": id, "type": "status_update", "room_id": chat, "payload": {"status": "read", "seq": seq}}),
        ),
        (
            "message",
            json!({"id": id, "type": "message", "room_id": chat,
                   "payload": {"content": format!("sent as {id}"), "client_msg_id": id}}),
        ),
        ("typing", json!({"id": id, "type": "typing", "room_id": chat, "payload": {"typing": true}})),
        ("resume", json!({"id": id, "type": "resume", "payload": {"chats": {chat: 0}}})),
    ]
}

/// Sends `frame` and returns the events that came before its answer, and the answer.
async fn answer(ws: &mut WsClient, frame: Value) -> (Vec<Value>, Value) {
    let id = frame["id"].clone();
    ws.send_json(frame).await;
    let mut before = Vec::new();
    loop {
        let next = ws.next_json().await;
        if next["id"] == id && (next["type"] == "ack" || next["type"] == "error") {
            return (before, next);
        }
        before.push(next);
    }
}

/// Frames of `chat` that arrive on `ws` within a short while.
async fn frames_of_chat(ws: &mut WsClient, chat: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(frame) = ws.next_json_within(QUIET).await {
        if frame["room_id"] == chat || frame["payload"]["chat_id"] == chat {
            seen.push(frame);
        }
    }
    seen
}

async fn history(server: &TestServer, login: &Login, chat: &str) -> Vec<String> {
    let reply = server.client().get(&format!("/api/messages?chat_id={chat}&limit=100"), &login.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap_or("").to_owned()).collect()
}

#[expect(clippy::too_many_lines, reason = "one matrix of frame types and senders, read as a table")]
async fn every_frame_type_checks_who_is_sending_it(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await; // admin of the group, sender of its message
    let ravi = api.login("9876543211", "Ravi").await; // member
    let chen = api.login("9876543212", "Chen").await; // former member
    let mallory = api.login("9876543213", "Mallory").await; // stranger
    let group = api.create_group(&asha, "Plans", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let sent = api.send_text(&asha, &group, "secret plans", None).await;
    let message = sent.body["id"].as_str().unwrap().to_owned();
    let seq = sent.body["seq"].as_i64().unwrap();
    let removed = api
        .call(Method::DELETE, &format!("/api/chats/{group}/members/{}", chen.user_id()), Some(&asha.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let removal = removed.body["last_event_seq"].as_i64().unwrap();

    // Anonymous: no socket without a valid, live token.
    assert_eq!(api.ws_refusal("").await, 401, "no token");
    assert_eq!(api.ws_refusal("?token=not-a-token").await, 401, "a garbage token");
    let gone = api.login("9876543214", "Gone").await;
    let logout = api.call(Method::POST, "/api/auth/logout", Some(&gone.token), None).await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    assert_eq!(api.ws_refusal(&format!("?token={}", gone.token)).await, 401, "a logged-out device's token");

    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut chen_ws = api.ws(&chen.token).await;
    let mut mallory_ws = api.ws(&mallory.token).await;
    let stored_before = history(&server, &asha, &group).await;

    // Outsiders: every frame refused, nothing of the chat shown to them.
    for (who, ws) in [("stranger", &mut mallory_ws), ("former member", &mut chen_ws)] {
        for (kind, frame) in frames(&who.replace(' ', "-"), &group, seq) {
            let (events, reply) = answer(ws, frame).await;
            if kind == "resume" {
                assert_eq!(reply["type"], "ack", "{who} resume: {reply}");
                if who == "stranger" {
                    assert_eq!(reply["payload"]["not_found"], json!([group]), "{who} resume");
                    assert!(events.is_empty(), "a stranger's resume replays nothing: {events:?}");
                } else {
                    assert_caught_up_to_removal_only(&events, &reply, &group, removal);
                }
            } else {
                assert_eq!(reply["type"], "error", "{who} {kind}: {reply}");
                let code = reply["payload"]["code"].as_str().unwrap_or_default();
                assert!(["chat_not_found", "forbidden", "not_member"].contains(&code), "{who} {kind}: {reply}");
                assert!(events.is_empty(), "{who} {kind} saw events: {events:?}");
            }
        }
    }
    assert!(frames_of_chat(&mut asha_ws, &group).await.is_empty(), "the admin saw nothing of the outsiders");
    assert!(frames_of_chat(&mut ravi_ws, &group).await.is_empty(), "the member saw nothing of the outsiders");
    assert_eq!(history(&server, &asha, &group).await, stored_before, "outsiders stored nothing");
    let receipts = api.get(&format!("/api/messages/{message}/receipts"), &asha.token).await;
    assert_eq!(receipts.status, StatusCode::OK);
    let readers: Vec<&Value> = receipts.body["receipts"].as_array().unwrap().iter().map(|r| &r["user_id"]).collect();
    assert!(
        !readers.contains(&&json!(mallory.user_id())) && !readers.contains(&&json!(chen.user_id())),
        "outsiders left no receipt: {readers:?}"
    );

    // Insiders: the member, then the admin who is also the message's sender.
    let (mut to_ravi, mut to_asha) = (Vec::new(), Vec::new());
    for (who, login, ws, heard) in
        [("member", &ravi, &mut ravi_ws, &mut to_ravi), ("admin", &asha, &mut asha_ws, &mut to_asha)]
    {
        for (kind, frame) in frames(who, &group, seq) {
            let (events, reply) = answer(ws, frame).await;
            heard.extend(events);
            assert_eq!(reply["type"], "ack", "{who} {kind}: {reply}");
            if kind == "message" {
                assert_eq!(reply["payload"]["sender_id"], login.user_id(), "{who}: {reply}");
            }
            if kind == "resume" {
                assert_eq!(reply["payload"]["not_found"], json!([]), "{who} resume");
            }
        }
    }
    let stored = history(&server, &asha, &group).await;
    assert!(
        stored.contains(&"sent as member".to_owned()) && stored.contains(&"sent as admin".to_owned()),
        "{stored:?}"
    );
    let receipts = api.get(&format!("/api/messages/{message}/receipts"), &asha.token).await;
    let readers: Vec<&Value> = receipts.body["receipts"].as_array().unwrap().iter().map(|r| &r["user_id"]).collect();
    assert_eq!(
        readers,
        vec![&json!(ravi.user_id())],
        "the member's read receipt reached the sender: {:?}",
        receipts.body
    );
    // Each insider's frames reached the other: the message, the receipt and typing.
    to_asha.extend(frames_of_chat(&mut asha_ws, &group).await);
    for kind in ["message", "status_update", "typing"] {
        assert!(
            to_asha.iter().any(|f| f["type"] == kind && f["sender"] == ravi.user_id()),
            "the admin got the member's {kind}: {to_asha:?}"
        );
    }
    to_ravi.extend(frames_of_chat(&mut ravi_ws, &group).await);
    assert!(to_ravi.iter().any(|f| f["type"] == "typing" && f["sender"] == asha.user_id()), "{to_ravi:?}");

    // Neither outsider's socket heard anything of the chat meanwhile, and a former
    // member's new socket still replays nothing after the removal.
    assert!(frames_of_chat(&mut mallory_ws, &group).await.is_empty(), "the stranger heard the chat");
    assert!(frames_of_chat(&mut chen_ws, &group).await.is_empty(), "the former member heard the chat");
    let mut chen_again = api.ws(&chen.token).await;
    let (events, reply) =
        answer(&mut chen_again, json!({"id": "again", "type": "resume", "payload": {"chats": {group.clone(): 0}}}))
            .await;
    assert_caught_up_to_removal_only(&events, &reply, &group, removal);
}

/// A former member's resume replays the chat up to their removal and no further.
fn assert_caught_up_to_removal_only(events: &[Value], reply: &Value, group: &str, removal: i64) {
    assert_eq!(reply["type"], "ack", "former member resume: {reply}");
    let replayed: Vec<i64> = events.iter().filter_map(|e| e["event_seq"].as_i64()).collect();
    assert_eq!(replayed, (1..=removal).collect::<Vec<_>>(), "former member resume: {events:?}");
    assert_eq!(reply["payload"]["chats"][group], removal, "former member resume: {reply}");
}

/// The `presence` frames about `user` that arrive on `ws` within `wait`.
async fn presence_of(ws: &mut WsClient, user: &Login, wait: Duration) -> Vec<Value> {
    let frames = ws.collect_of_type("presence", wait).await;
    frames.into_iter().filter(|f| f["sender"] == user.user_id()).collect()
}

async fn presence_reaches_only_people_the_user_exchanged_messages_with(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await; // the one watched
    let ravi = api.login("9876543211", "Ravi").await; // exchanged messages with Asha
    let mallory = api.login("9876543213", "Mallory").await; // saved her number, opened an empty chat
    let eve = api.login("9876543214", "Eve").await; // wrote to her; she never answered
    api.exchange_messages(&asha, &ravi).await;
    let saved = api.post("/api/contacts", &mallory.token, json!({"phone": "9876543210"})).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{:?}", saved.body);
    api.direct_chat(&mallory, &asha.user_id()).await;
    let to_asha = api.direct_chat(&eve, &asha.user_id()).await;
    let sent = api.send_text(&eve, &to_asha, "hi, remember me?", None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(api.post("/api/contacts", &eve.token, json!({"user_id": asha.user_id()})).await.status, 201);

    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut mallory_ws = api.ws(&mallory.token).await;
    let mut eve_ws = api.ws(&eve.token).await;
    let asha_ws = api.ws(&asha.token).await;
    let online = ravi_ws.next_where("presence", |f| f["sender"] == asha.user_id()).await;
    assert_eq!(online["payload"]["online"], true, "the person she wrote with sees her online");
    let mut mallory_laptop = api.ws(&mallory.token).await;
    drop(asha_ws);
    let offline = ravi_ws.next_where("presence", |f| f["sender"] == asha.user_id() && f["payload"]["online"] == false);
    assert!(offline.await["payload"]["last_seen"].is_string());
    for (who, ws) in [("Mallory", &mut mallory_ws), ("Eve", &mut eve_ws), ("Mallory's new device", &mut mallory_laptop)]
    {
        let heard = presence_of(ws, &asha, Duration::from_millis(300)).await;
        assert!(heard.is_empty(), "{who} watched Asha come and go: {heard:?}");
    }

    // Saved by both sides, contacts see each other.
    assert_eq!(api.post("/api/contacts", &asha.token, json!({"user_id": mallory.user_id()})).await.status, 201);
    let asha_ws = api.ws(&asha.token).await;
    let online = mallory_ws.next_where("presence", |f| f["sender"] == asha.user_id()).await;
    assert_eq!(online["payload"]["online"], true, "mutual contacts see each other");
    drop(asha_ws);
    for ws in [&mut mallory_ws, &mut ravi_ws] {
        ws.next_where("presence", |f| f["sender"] == asha.user_id() && f["payload"]["online"] == false).await;
    }

    // `last_seen: nobody` hides being online too, from everyone: set while she is
    // online, those who saw her see her go offline, without a time.
    let asha_ws = api.ws(&asha.token).await;
    for ws in [&mut mallory_ws, &mut ravi_ws] {
        ws.next_where("presence", |f| f["sender"] == asha.user_id() && f["payload"]["online"] == true).await;
    }
    let body = json!({"privacy": {"last_seen": "nobody"}});
    let hidden = api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(body)).await;
    assert_eq!(hidden.status, StatusCode::OK, "{:?}", hidden.body);
    for ws in [&mut mallory_ws, &mut ravi_ws] {
        let gone = ws.next_where("presence", |f| f["sender"] == asha.user_id()).await;
        assert_eq!((&gone["payload"]["online"], &gone["payload"]["last_seen"]), (&json!(false), &Value::Null));
    }
    let mut ravi_laptop = api.ws(&ravi.token).await;
    drop(asha_ws);
    for (who, ws) in [("Ravi", &mut ravi_ws), ("Mallory", &mut mallory_ws), ("Ravi's new device", &mut ravi_laptop)] {
        let heard = presence_of(ws, &asha, Duration::from_millis(2500)).await;
        assert!(heard.is_empty(), "{who} saw Asha despite `nobody`: {heard:?}");
    }
}

/// The messages of a history page, or the frames carrying a message, with `id`.
fn message_in<'a>(frames: &'a [Value], id: &str) -> Vec<&'a Value> {
    frames.iter().filter(|m| m["id"] == id || m["payload"]["id"] == id || m["payload"]["message"]["id"] == id).collect()
}

async fn a_former_member_sees_messages_as_they_were_when_they_left(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await; // admin, writes and edits
    let ravi = api.login("9876543211", "Ravi").await; // member, reacts
    let chen = api.login("9876543212", "Chen").await; // removed
    let group = api.create_group(&asha, "Plans", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let sent = api.send_text(&asha, &group, "plan A", None).await;
    let message = sent.body["id"].as_str().unwrap().to_owned();
    let edit = |content: &'static str| {
        let path = format!("/api/messages/{message}");
        let token = asha.token.clone();
        let api = &api;
        async move { api.call(Method::PATCH, &path, Some(&token), Some(json!({"content": content}))).await }
    };
    let react = |who: &Login, emoji: &'static str| {
        let path = format!("/api/messages/{message}/reactions");
        let token = who.token.clone();
        let api = &api;
        async move { api.call(Method::PUT, &path, Some(&token), Some(json!({"emoji": emoji}))).await }
    };
    assert_eq!(edit("plan B").await.status, StatusCode::OK);
    assert_eq!(react(&ravi, "👍").await.status, StatusCode::NO_CONTENT);
    let reply =
        api.post("/api/messages", &ravi.token, json!({"chat_id": group, "content": "ok", "reply_to_id": message}));
    let reply = reply.await.body["id"].as_str().unwrap().to_owned();
    let as_left = api.get(&format!("/api/messages?chat_id={group}"), &asha.token).await.body["messages"].clone();
    let as_left = message_in(as_left.as_array().unwrap(), &message)[0].clone();
    let removed = api
        .call(Method::DELETE, &format!("/api/chats/{group}/members/{}", chen.user_id()), Some(&asha.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);

    // After Chen left: another edit, Ravi changes his reaction, Asha reacts.
    assert_eq!(edit("plan C, the secret one").await.status, StatusCode::OK);
    assert_eq!(react(&ravi, "😂").await.status, StatusCode::NO_CONTENT);
    assert_eq!(react(&asha, "🎉").await.status, StatusCode::NO_CONTENT);
    let now = api.get(&format!("/api/messages?chat_id={group}"), &ravi.token).await.body["messages"].clone();
    assert_eq!(message_in(now.as_array().unwrap(), &message)[0]["content"], "plan C, the secret one");

    // History: the message as it was.
    let history = api.get(&format!("/api/messages?chat_id={group}"), &chen.token).await;
    assert_eq!(history.status, StatusCode::OK);
    let seen = message_in(history.body["messages"].as_array().unwrap(), &message)[0].clone();
    for field in ["content", "edited_at", "reactions"] {
        assert_eq!(seen[field], as_left[field], "history {field}: {seen}");
    }
    assert_eq!((seen["content"].as_str(), &seen["reactions"]), (Some("plan B"), &json!({"👍": 1})));
    let quoting = message_in(history.body["messages"].as_array().unwrap(), &reply)[0].clone();
    assert_eq!(quoting["reply_to"]["preview"], "plan B", "a reply quotes it as it was: {quoting}");

    // Edits: only those made before.
    let edits = api.get(&format!("/api/messages/{message}/edits"), &chen.token).await;
    assert_eq!(edits.status, StatusCode::OK);
    let texts: Vec<&str> =
        edits.body["edits"].as_array().unwrap().iter().filter_map(|e| e["content"].as_str()).collect();
    assert_eq!(texts, ["plan A"], "{:?}", edits.body);

    // Forwarding it elsewhere copies it as they can read it.
    let elsewhere = api.direct_chat(&chen, &ravi.user_id()).await;
    let path = format!("/api/messages/{message}/forward");
    let forward = api.post(&path, &chen.token, json!({"chat_ids": [elsewhere]})).await;
    assert_eq!(forward.status, StatusCode::CREATED, "{:?}", forward.body);
    assert!(!forward.body.to_string().contains("secret"), "{:?}", forward.body);
    let copied = api.get(&format!("/api/messages?chat_id={elsewhere}"), &ravi.token).await;
    assert_eq!(copied.body["messages"][0]["content"], "plan B", "{:?}", copied.body);

    // Resume: every replayed frame carries the message as it was.
    let mut chen_ws = api.ws(&chen.token).await;
    let (events, reply) =
        answer(&mut chen_ws, json!({"id": "r", "type": "resume", "payload": {"chats": {group.clone(): 0}}})).await;
    assert_eq!(reply["type"], "ack", "{reply}");
    let carried = message_in(&events, &message);
    assert!(!carried.is_empty(), "the message is replayed: {events:?}");
    for frame in carried {
        let shown =
            if frame["payload"]["message"].is_object() { &frame["payload"]["message"] } else { &frame["payload"] };
        assert_eq!(shown["content"], "plan B", "{frame}");
        assert!(shown["reactions"].get("🎉").is_none() && shown["reactions"].get("😂").is_none(), "{frame}");
    }
    let everything = serde_json::to_string(&events).unwrap();
    assert!(!everything.contains("secret") && !everything.contains("🎉"), "nothing after: {everything}");
}

/// The frames that arrive on `ws` up to the `message` with `content` (which ends them).
async fn frames_until_message(ws: &mut WsClient, content: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json().await;
        if frame["type"] == "message" && frame["payload"]["content"] == content {
            return seen;
        }
        seen.push(frame);
    }
}

async fn private_frames_reach_only_their_owners_devices(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await; // the owner
    let asha_phone = api.login("9876543210", "Asha").await; // her other device
    let ravi = api.login("9876543211", "Ravi").await; // in a direct chat with her, and in the group
    let chen = api.login("9876543212", "Chen").await; // in the group
    let mallory = api.login("9876543213", "Mallory").await; // stranger
    let direct = api.exchange_messages(&asha, &ravi).await;
    let group = api.create_group(&asha, "Plans", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let mut own_ws = api.ws(&asha_phone.token).await;
    let mut others = [("Ravi", api.ws(&ravi.token).await), ("Chen", api.ws(&chen.token).await)];
    let mut mallory_ws = api.ws(&mallory.token).await;

    let settings = |chat: &str| format!("/api/chats/{chat}/settings");
    let archive = json!({"archived": true});
    let put = api.call(Method::PUT, &settings(&direct), Some(&asha.token), Some(archive)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let pin = api.call(Method::PUT, &settings(&group), Some(&asha.token), Some(json!({"pinned": true}))).await;
    assert_eq!(pin.status, StatusCode::OK, "{:?}", pin.body);
    let block = format!("/api/users/{}/block", ravi.user_id());
    assert_eq!(api.call(Method::POST, &block, Some(&asha.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::DELETE, &block, Some(&asha.token), None).await.status, StatusCode::NO_CONTENT);
    let renamed = api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(json!({"name": "Asha K"}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    // A message after all that: whatever was sent to a member came before it.
    assert_eq!(api.send_text(&asha, &group, "that is all", None).await.status, StatusCode::CREATED);

    let kinds = |frames: &[Value]| -> Vec<String> {
        frames.iter().map(|f| f["type"].as_str().unwrap_or("").to_owned()).collect()
    };
    let own = frames_until_message(&mut own_ws, "that is all").await;
    assert_eq!(
        kinds(&own),
        vec!["chat_settings", "chat_settings", "block_update", "block_update", "user_update"],
        "her other device: {own:?}"
    );
    for (who, ws) in &mut others {
        let seen = frames_until_message(ws, "that is all").await;
        assert_eq!(kinds(&seen), vec!["user_update"], "{who} sees only her new name: {seen:?}");
    }
    let heard = mallory_ws.next_json_within(QUIET).await;
    assert!(heard.is_none(), "a stranger hears nothing: {heard:?}");
}

/// Each call frame type for `call`, addressed to `to` where it names someone.
fn call_frames(id: &str, chat: &str, call: &str, to: &str) -> Vec<(&'static str, Value)> {
    let signal = |kind: &'static str, body: (&str, Value)| {
        let mut payload = json!({"call_id": call, "to_user_id": to});
        payload[body.0] = body.1;
        (kind, json!({"id": id, "type": kind, "payload": payload}))
    };
    vec![
        ("call_invite", json!({"id": id, "type": "call_invite", "room_id": chat, "payload": {"media": "voice"}})),
        signal("call_offer", ("sdp", json!("v=0"))),
        signal("call_answer", ("sdp", json!("v=0"))),
        signal("call_ice", ("candidate", json!({"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host"}))),
        ("call_decline", json!({"id": id, "type": "call_decline", "payload": {"call_id": call}})),
        ("call_accept", json!({"id": id, "type": "call_accept", "payload": {"call_id": call}})),
        ("call_hangup", json!({"id": id, "type": "call_hangup", "payload": {"call_id": call}})),
    ]
}

/// Call frames reaching `ws` within a short while.
async fn call_frames_heard(ws: &mut WsClient) -> Vec<Value> {
    let mut heard = Vec::new();
    while let Some(frame) = ws.next_json_within(QUIET).await {
        if frame["type"].as_str().is_some_and(|kind| kind.starts_with("call_")) {
            heard.push(frame);
        }
    }
    heard
}

async fn every_call_frame_checks_who_is_sending_it(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await; // admin of the group, the caller
    let ravi = api.login("9876543211", "Ravi").await; // member
    let chen = api.login("9876543212", "Chen").await; // former member
    let mallory = api.login("9876543213", "Mallory").await; // stranger
    let group = api.create_group(&asha, "Plans", &[&ravi, &chen]).await["id"].as_str().unwrap().to_owned();
    let removed = api
        .call(Method::DELETE, &format!("/api/chats/{group}/members/{}", chen.user_id()), Some(&asha.token), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut chen_ws = api.ws(&chen.token).await;
    let mut mallory_ws = api.ws(&mallory.token).await;

    asha_ws
        .send_json(json!({"id": "start", "type": "call_invite", "room_id": group, "payload": {"media": "voice"}}))
        .await;
    let (_, ringing) = answer_any(&mut asha_ws, "start").await;
    assert_eq!(ringing["type"], "call_ringing", "{ringing}");
    assert_eq!(ringing["payload"]["user_ids"], json!([ravi.user_id()]), "a former member is not rung");
    let call = ringing["payload"]["call_id"].as_str().unwrap().to_owned();
    assert_eq!(call_frames_heard(&mut ravi_ws).await.len(), 1, "the member rings");

    // Outsiders: every call frame refused, as if the call did not exist.
    for (who, ws) in [("stranger", &mut mallory_ws), ("former member", &mut chen_ws)] {
        for (kind, frame) in call_frames(&who.replace(' ', "-"), &group, &call, &asha.user_id()) {
            let id = frame["id"].as_str().unwrap().to_owned();
            ws.send_json(frame).await;
            let (events, reply) = answer_any(ws, &id).await;
            assert_eq!(reply["type"], "error", "{who} {kind}: {reply}");
            let expected = if kind == "call_invite" { "chat_not_found" } else { "call_not_found" };
            assert_eq!(reply["payload"]["code"], expected, "{who} {kind}: {reply}");
            assert!(events.is_empty(), "{who} {kind} saw events: {events:?}");
        }
    }
    assert!(call_frames_heard(&mut asha_ws).await.is_empty(), "the caller heard nothing of the outsiders");
    assert!(call_frames_heard(&mut ravi_ws).await.is_empty(), "the member heard nothing of the outsiders");

    // Insiders: the member answers and offers, the admin answers, sends a candidate and hangs up.
    let by_kind = |id: &str, to: &Login| -> std::collections::HashMap<&'static str, Value> {
        call_frames(id, &group, &call, &to.user_id()).into_iter().collect()
    };
    let (from_member, from_admin) = (by_kind("member", &asha), by_kind("admin", &ravi));
    let (mut to_member, mut to_admin) = (Vec::new(), Vec::new());
    for (who, ws, frames, kinds, heard) in [
        ("member", &mut ravi_ws, &from_member, ["call_accept", "call_offer"].as_slice(), &mut to_member),
        ("admin", &mut asha_ws, &from_admin, ["call_answer", "call_ice", "call_hangup"].as_slice(), &mut to_admin),
    ] {
        for kind in kinds {
            let frame = frames[kind].clone();
            let id = frame["id"].as_str().unwrap().to_owned();
            ws.send_json(frame).await;
            let (events, reply) = answer_any(ws, &id).await;
            heard.extend(events);
            assert_eq!(reply["type"], "ack", "{who} {kind}: {reply}");
        }
    }
    to_member.extend(call_frames_heard(&mut ravi_ws).await);
    to_admin.extend(call_frames_heard(&mut asha_ws).await);
    let kinds_heard = |frames: &[Value]| -> Vec<String> {
        frames.iter().map(|f| f["type"].as_str().unwrap_or_default().to_owned()).collect()
    };
    let (to_member, to_admin) = (kinds_heard(&to_member), kinds_heard(&to_admin));
    for kind in ["call_accept", "call_answer", "call_ice", "call_ended"] {
        assert!(to_member.iter().any(|h| h == kind), "the member got the admin's {kind}: {to_member:?}");
    }
    assert!(to_admin.iter().any(|h| h == "call_accept") && to_admin.iter().any(|h| h == "call_offer"), "{to_admin:?}");
    assert!(call_frames_heard(&mut mallory_ws).await.is_empty() && call_frames_heard(&mut chen_ws).await.is_empty());
}

/// Reads up to the frame echoing `id`, whatever its type; returns the frames
/// before it, and it.
async fn answer_any(ws: &mut WsClient, id: &str) -> (Vec<Value>, Value) {
    let mut before = Vec::new();
    loop {
        let next = ws.next_json().await;
        if next["id"] == id {
            return (before, next);
        }
        before.push(next);
    }
}
