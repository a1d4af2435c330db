//! Black-box: what people do to messages once sent. Edits, deletions and reactions
//! reach the other members live as `message_update` events, stay in the history and
//! come back on `resume`; replies show their original; forwarded copies are new
//! messages of the chats they land in. Outsiders and non-senders are refused.

use crate::support;
use chitchat_testkit::client::Reply;
use chitchat_testkit::{ApiClient, Login, TestBackend, TestServer, WsClient};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    an_edit_shows_live_and_in_history_with_its_earlier_versions,
    deleting_for_everyone_leaves_a_placeholder_live_in_history_and_on_resume,
    admins_delete_anyones_group_message_and_former_members_change_nothing,
    deleting_for_me_hides_the_message_from_me_alone,
    a_reply_carries_a_preview_of_its_original,
    forwarded_copies_are_delivered_live_in_the_chats_they_land_in,
    reactions_are_counted_one_per_person_and_replaced,
);

async fn call(api: &ApiClient, method: Method, path: &str, who: &Login, body: Option<Value>) -> Reply {
    api.call(method, path, Some(&who.token), body).await
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!((reply.status, reply.error_code()), (status, code), "{:?}", reply.body);
}

/// Sends `content` to `chat` over REST; returns the stored message.
async fn send(api: &ApiClient, who: &Login, chat: &str, content: &str) -> Value {
    let reply = api.send_text(who, chat, content, None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

fn id(message: &Value) -> String {
    message["id"].as_str().unwrap().to_owned()
}

async fn history(api: &ApiClient, who: &Login, chat: &str) -> Vec<Value> {
    let reply = api.get(&format!("/api/messages?chat_id={chat}"), &who.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["messages"].as_array().unwrap().clone()
}

/// The next `message_update` about `message_id`, skipping other frames.
async fn next_update(ws: &mut WsClient, message_id: &str) -> Value {
    loop {
        let frame = ws.next_of_type("message_update").await;
        if frame["payload"]["message"]["id"] == message_id {
            return frame;
        }
    }
}

async fn an_edit_shows_live_and_in_history_with_its_earlier_versions(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let message = send(&api, &asha, &chat, "see you at 5").await;
    let path = format!("/api/messages/{}", id(&message));
    assert_eq!(ravi_ws.next_of_type("message").await["event_seq"], 1);

    let edited = call(&api, Method::PATCH, &path, &asha, Some(json!({"content": "see you at 6"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["content"], "see you at 6");
    assert!(edited.body["edited_at"].is_string());

    let update = next_update(&mut ravi_ws, &id(&message)).await;
    assert_eq!(
        (update["room_id"].as_str(), update["sender"].as_str()),
        (Some(chat.as_str()), Some(asha.user_id().as_str()))
    );
    assert_eq!(update["event_seq"], 2, "an edit is the chat's next logged event");
    assert_eq!(update["payload"]["action"], "edited");
    assert_eq!(update["payload"]["message"]["content"], "see you at 6");
    assert_eq!(update["payload"]["message"]["edited_at"], edited.body["edited_at"]);

    call(&api, Method::PATCH, &path, &asha, Some(json!({"content": "see you at 7"}))).await;
    let shown = &history(&api, &ravi, &chat).await[0];
    assert_eq!((shown["content"].as_str(), shown["seq"].as_i64()), (Some("see you at 7"), Some(1)));
    assert!(shown["edited_at"].is_string());
    let edits = api.get(&format!("{path}/edits"), &ravi.token).await;
    assert_eq!(edits.status, StatusCode::OK);
    let versions: Vec<&str> =
        edits.body["edits"].as_array().unwrap().iter().map(|e| e["content"].as_str().unwrap()).collect();
    assert_eq!(versions, vec!["see you at 5", "see you at 6"], "earlier versions, oldest first");
    assert!(edits.body["edits"][0]["edited_at"].is_string());

    let not_sender = call(&api, Method::PATCH, &path, &ravi, Some(json!({"content": "no"}))).await;
    assert_error(&not_sender, StatusCode::FORBIDDEN, "not_sender");
    let outsider = call(&api, Method::PATCH, &path, &mallory, Some(json!({"content": "no"}))).await;
    assert_error(&outsider, StatusCode::NOT_FOUND, "message_not_found");
    assert_error(&api.get(&format!("{path}/edits"), &mallory.token).await, StatusCode::NOT_FOUND, "message_not_found");
    let blank = call(&api, Method::PATCH, &path, &asha, Some(json!({"content": "  "}))).await;
    assert_error(&blank, StatusCode::UNPROCESSABLE_ENTITY, "empty_content");
    let unknown = call(&api, Method::PATCH, "/api/messages/nope", &asha, Some(json!({"content": "x"}))).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "message_not_found");
    let anonymous = api.call(Method::PATCH, &path, None, Some(json!({"content": "x"}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn deleting_for_everyone_leaves_a_placeholder_live_in_history_and_on_resume(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let mut phone = api.ws(&ravi.token).await;
    let mut laptop = api.ws(&ravi_laptop.token).await;
    let message = send(&api, &asha, &chat, "the code is 4711").await;
    let path = format!("/api/messages/{}", id(&message));
    let position = phone.next_of_type("message").await["event_seq"].as_i64().unwrap();
    drop(phone);

    let by_ravi = call(&api, Method::DELETE, &format!("{path}?for=everyone"), &ravi, None).await;
    assert_error(&by_ravi, StatusCode::FORBIDDEN, "not_sender");
    let by_mallory = call(&api, Method::DELETE, &format!("{path}?for=everyone"), &mallory, None).await;
    assert_error(&by_mallory, StatusCode::NOT_FOUND, "message_not_found");
    let deleted = call(&api, Method::DELETE, &format!("{path}?for=everyone"), &asha, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);

    let update = next_update(&mut laptop, &id(&message)).await;
    assert_eq!(update["payload"]["action"], "deleted");
    assert_eq!(update["payload"]["message"]["content"], "");
    assert!(update["payload"]["message"]["deleted_at"].is_string());
    let shown = &history(&api, &ravi, &chat).await[0];
    assert_eq!((shown["id"].as_str(), shown["content"].as_str()), (Some(id(&message).as_str()), Some("")));
    assert!(shown["deleted_at"].is_string(), "a placeholder stays");
    let again = call(&api, Method::DELETE, &format!("{path}?for=everyone"), &asha, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "deleting again is fine");
    assert!(laptop.silent_for(Duration::from_millis(300)).await, "and changes nothing");
    let edit = call(&api, Method::PATCH, &path, &asha, Some(json!({"content": "oops"}))).await;
    assert_error(&edit, StatusCode::CONFLICT, "message_deleted");

    // The phone was away: resuming from before the deletion brings it, and nothing of the text.
    let mut phone = api.ws_resuming(&ravi.token).await;
    phone.send_json(json!({"id": "r1", "type": "resume", "payload": {"chats": {chat.clone(): position}}})).await;
    let replayed = phone.next_json().await;
    assert_eq!(
        (replayed["type"].as_str(), replayed["event_seq"].as_i64()),
        (Some("message_update"), Some(position + 1))
    );
    assert_eq!(replayed["payload"]["action"], "deleted");
    assert!(!replayed.to_string().contains("4711"));
    let ack = phone.next_json().await;
    assert_eq!((ack["id"].as_str(), ack["payload"]["chats"][&chat].as_i64()), (Some("r1"), Some(position + 1)));
}

async fn admins_delete_anyones_group_message_and_former_members_change_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chen = api.login("9876543212", "Chen").await;
    let ids = [ravi.user_id(), chen.user_id()];
    let group = api.post("/api/chats", &asha.token, json!({"type": "group", "name": "Trip", "user_ids": ids})).await;
    let chat = group.body["id"].as_str().unwrap().to_owned();
    let mut chen_ws = api.ws(&chen.token).await;
    let by_ravi = send(&api, &ravi, &chat, "rude words").await;
    let by_asha = send(&api, &asha, &chat, "be nice").await;

    let member = call(&api, Method::DELETE, &format!("/api/messages/{}?for=everyone", id(&by_asha)), &chen, None).await;
    assert_error(&member, StatusCode::FORBIDDEN, "not_sender");
    let admin = call(&api, Method::DELETE, &format!("/api/messages/{}?for=everyone", id(&by_ravi)), &asha, None).await;
    assert_eq!(admin.status, StatusCode::NO_CONTENT, "an admin deletes anyone's message");
    let update = next_update(&mut chen_ws, &id(&by_ravi)).await;
    assert_eq!(
        (update["payload"]["action"].as_str(), update["sender"].as_str()),
        (Some("deleted"), Some(asha.user_id().as_str()))
    );

    let left = call(&api, Method::DELETE, &format!("/api/chats/{chat}/members/{}", chen.user_id()), &chen, None).await;
    assert_eq!(left.status, StatusCode::OK);
    let mine = send(&api, &asha, &chat, "bye Chen").await;
    for (method, path, body) in [
        (Method::PATCH, format!("/api/messages/{}", id(&by_asha)), Some(json!({"content": "x"}))),
        (Method::PUT, format!("/api/messages/{}/reactions", id(&by_asha)), Some(json!({"emoji": "👋"}))),
        (Method::GET, format!("/api/messages/{}/edits", id(&mine)), None),
    ] {
        let refused = call(&api, method, &path, &chen, body).await;
        assert_error(&refused, StatusCode::NOT_FOUND, "message_not_found");
    }
    let readable = api.get(&format!("/api/messages/{}/edits", id(&by_asha)), &chen.token).await;
    assert_eq!(readable.status, StatusCode::OK, "what they could read stays readable");
}

async fn deleting_for_me_hides_the_message_from_me_alone(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let first = send(&api, &asha, &chat, "first").await;
    let second = send(&api, &asha, &chat, "second").await;
    let mut laptop = api.ws(&ravi_laptop.token).await;
    let mut asha_ws = api.ws(&asha.token).await;

    let path = format!("/api/messages/{}", id(&first));
    let hidden = call(&api, Method::DELETE, &format!("{path}?for=me"), &ravi, None).await;
    assert_eq!(hidden.status, StatusCode::NO_CONTENT, "{:?}", hidden.body);
    let frame = laptop.next_of_type("message_hidden").await;
    assert_eq!(
        (frame["room_id"].as_str(), frame["payload"]["message_id"].as_str()),
        (Some(chat.as_str()), Some(id(&first).as_str()))
    );
    assert!(frame.get("event_seq").is_none(), "not a logged event");
    assert!(asha_ws.silent_for(Duration::from_millis(300)).await, "nobody else hears of it");

    let ids = |messages: Vec<Value>| messages.iter().map(id).collect::<Vec<_>>();
    assert_eq!(ids(history(&api, &ravi, &chat).await), vec![id(&second)]);
    assert_eq!(ids(history(&api, &asha, &chat).await), vec![id(&second), id(&first)]);
    let again = call(&api, Method::DELETE, &format!("{path}?for=me"), &ravi, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let gone = call(&api, Method::PUT, &format!("{path}/reactions"), &ravi, Some(json!({"emoji": "👍"}))).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "message_not_found");

    let bad = call(&api, Method::DELETE, &format!("{path}?for=all"), &ravi, None).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_delete_scope");
    let missing = call(&api, Method::DELETE, &path, &ravi, None).await;
    assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_delete_scope");
}

async fn a_reply_carries_a_preview_of_its_original(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chen = api.login("9876543212", "Chen").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let elsewhere = api.direct_chat(&asha, &chen.user_id()).await;
    let long = format!("{}{}", "a".repeat(100), "b".repeat(50));
    let original = send(&api, &asha, &chat, &long).await;
    let mut asha_ws = api.ws(&asha.token).await;

    let body = json!({"chat_id": chat, "content": "agreed", "reply_to_id": id(&original)});
    let reply = api.post("/api/messages", &ravi.token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let expected =
        json!({"id": id(&original), "sender_id": asha.user_id(), "preview": "a".repeat(100), "deleted": false});
    assert_eq!(reply.body["reply_to"], expected);
    assert_eq!(asha_ws.next_of_type("message").await["payload"]["reply_to"], expected, "live too");
    assert_eq!(history(&api, &asha, &chat).await[0]["reply_to"], expected, "and in history");
    assert!(history(&api, &asha, &chat).await[1].get("reply_to").is_none(), "only replies carry one");

    let mut ravi_ws = api.ws(&ravi.token).await;
    ravi_ws
        .send_json(json!({
            "id": "c1", "type": "message", "room_id": chat,
            "payload": {"content": "me too", "client_msg_id": "r-1", "reply_to_id": id(&original)}
        }))
        .await;
    let ack = loop {
        let frame = ravi_ws.next_json().await;
        if frame["id"] == "c1" {
            break frame;
        }
    };
    assert_eq!((ack["type"].as_str(), &ack["payload"]["reply_to"]), (Some("ack"), &expected));

    let other_chat = json!({"chat_id": elsewhere, "content": "hm", "reply_to_id": id(&original)});
    assert_error(
        &api.post("/api/messages", &asha.token, other_chat).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_reply",
    );
    let malformed = json!({"chat_id": chat, "content": "hm", "reply_to_id": "nope"});
    assert_error(
        &api.post("/api/messages", &asha.token, malformed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_reply",
    );

    call(&api, Method::DELETE, &format!("/api/messages/{}?for=everyone", id(&original)), &asha, None).await;
    let shown = &history(&api, &ravi, &chat).await[1];
    assert_eq!(shown["content"], "agreed");
    assert_eq!(
        (shown["reply_to"]["preview"].clone(), shown["reply_to"]["deleted"].clone()),
        (Value::Null, json!(true))
    );
}

async fn forwarded_copies_are_delivered_live_in_the_chats_they_land_in(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chen = api.login("9876543212", "Chen").await;
    let mallory = api.login("9876543213", "Mallory").await;
    let with_ravi = api.direct_chat(&asha, &ravi.user_id()).await;
    let with_chen = api.direct_chat(&asha, &chen.user_id()).await;
    let ravi_chen = api.direct_chat(&ravi, &chen.user_id()).await;
    let original = send(&api, &ravi, &with_ravi, "the venue is on 5th street").await;
    let mut chen_ws = api.ws(&chen.token).await;
    let path = format!("/api/messages/{}/forward", id(&original));

    let refused = api.post(&path, &asha.token, json!({"chat_ids": [with_chen, ravi_chen]})).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "chat_not_found");
    assert!(history(&api, &chen, &with_chen).await.is_empty(), "nothing was forwarded");
    let outsider = api.post(&path, &mallory.token, json!({"chat_ids": [with_chen]})).await;
    assert_error(&outsider, StatusCode::NOT_FOUND, "message_not_found");
    let empty = api.post(&path, &asha.token, json!({"chat_ids": []})).await;
    assert_error(&empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_chat_ids");

    let forwarded = api.post(&path, &asha.token, json!({"chat_ids": [with_chen]})).await;
    assert_eq!(forwarded.status, StatusCode::CREATED, "{:?}", forwarded.body);
    let copy = &forwarded.body["messages"][0];
    assert_eq!(forwarded.body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        (copy["chat_id"].as_str(), copy["sender_id"].as_str()),
        (Some(with_chen.as_str()), Some(asha.user_id().as_str()))
    );
    assert_eq!(
        (copy["content"].as_str(), copy["forwarded"].as_bool(), copy["seq"].as_i64()),
        (Some("the venue is on 5th street"), Some(true), Some(1))
    );
    assert_ne!(copy["id"], original["id"]);

    let live = chen_ws.next_of_type("message").await;
    assert_eq!(
        (live["room_id"].as_str(), live["payload"]["id"].clone()),
        (Some(with_chen.as_str()), copy["id"].clone())
    );
    assert_eq!(live["payload"]["forwarded"], true);
    assert_eq!(history(&api, &chen, &with_chen).await[0]["forwarded"], true);
    assert!(history(&api, &ravi, &with_ravi).await[0].get("forwarded").is_none(), "the original is not a copy");
    let chats = api.get("/api/chats", &chen.token).await;
    let row = chats.body["chats"].as_array().unwrap().iter().find(|c| c["id"] == with_chen.as_str()).unwrap().clone();
    assert_eq!(row["unread_count"], 1, "a copy is a message like any other");
}

async fn reactions_are_counted_one_per_person_and_replaced(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let message = send(&api, &asha, &chat, "we won!").await;
    let path = format!("/api/messages/{}/reactions", id(&message));
    let mut asha_ws = api.ws(&asha.token).await;

    let put = call(&api, Method::PUT, &path, &ravi, Some(json!({"emoji": "👍"}))).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{:?}", put.body);
    let update = next_update(&mut asha_ws, &id(&message)).await;
    let payload = &update["payload"];
    assert_eq!((payload["action"].as_str(), payload["emoji"].as_str()), (Some("reaction"), Some("👍")));
    assert_eq!(
        (payload["user_id"].as_str(), payload["removed"].as_bool()),
        (Some(ravi.user_id().as_str()), Some(false))
    );
    assert_eq!(payload["message"]["reactions"], json!({"👍": 1}));
    assert!(payload["message"].get("my_reaction").is_none(), "live frames carry the counts only");

    call(&api, Method::PUT, &path, &asha, Some(json!({"emoji": "👍"}))).await;
    let replaced = call(&api, Method::PUT, &path, &ravi, Some(json!({"emoji": "🎉"}))).await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT);
    let for_ravi = &history(&api, &ravi, &chat).await[0];
    assert_eq!(
        for_ravi["reactions"],
        json!({"👍": 1, "🎉": 1}),
        "one reaction per person: the new one replaced the old"
    );
    assert_eq!(for_ravi["my_reaction"], "🎉");
    assert_eq!(history(&api, &asha, &chat).await[0]["my_reaction"], "👍");

    let removed = call(&api, Method::DELETE, &path, &ravi, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let mut last = next_update(&mut asha_ws, &id(&message)).await;
    while last["payload"]["removed"] != true {
        last = next_update(&mut asha_ws, &id(&message)).await;
    }
    assert_eq!(
        (last["payload"]["emoji"].as_str(), last["payload"]["message"]["reactions"].clone()),
        (Some("🎉"), json!({"👍": 1}))
    );
    assert!(history(&api, &ravi, &chat).await[0].get("my_reaction").is_none());

    let word = call(&api, Method::PUT, &path, &ravi, Some(json!({"emoji": "yes"}))).await;
    assert_error(&word, StatusCode::UNPROCESSABLE_ENTITY, "invalid_emoji");
    let outsider = call(&api, Method::PUT, &path, &mallory, Some(json!({"emoji": "👎"}))).await;
    assert_error(&outsider, StatusCode::NOT_FOUND, "message_not_found");
    let block = call(&api, Method::POST, &format!("/api/users/{}/block", ravi.user_id()), &asha, None).await;
    assert_eq!(block.status, StatusCode::NO_CONTENT);
    let blocked = call(&api, Method::PUT, &path, &ravi, Some(json!({"emoji": "😢"}))).await;
    assert_error(&blocked, StatusCode::FORBIDDEN, "blocked");
}

/// With short windows: edits and deletions for everyone are refused once they have passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edit_and_delete_windows_close() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let env = [("MESSAGE_EDIT_WINDOW", "1s"), ("MESSAGE_DELETE_WINDOW", "1s")];
        let Some(server) = support::start(backend, &env).await else { continue };
        let api = server.client();
        let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
        let message = send(&api, &asha, &chat, "quick").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let path = format!("/api/messages/{}", id(&message));
        let edit = call(&api, Method::PATCH, &path, &asha, Some(json!({"content": "slow"}))).await;
        assert_error(&edit, StatusCode::FORBIDDEN, "edit_window_passed");
        let delete = call(&api, Method::DELETE, &format!("{path}?for=everyone"), &asha, None).await;
        assert_error(&delete, StatusCode::FORBIDDEN, "delete_window_passed");
        let for_me = call(&api, Method::DELETE, &format!("{path}?for=me"), &asha, None).await;
        assert_eq!(for_me.status, StatusCode::NO_CONTENT, "deleting for oneself has no window");
    }
}

/// `GET /api/config` tells clients, before login, the windows the server enforces:
/// the configured ones, not the defaults, and the search query limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_endpoint_reports_the_windows_the_server_enforces() {
    let env = [("MESSAGE_EDIT_WINDOW", "90s"), ("MESSAGE_DELETE_WINDOW", "2h")];
    let Some(server) = support::start(TestBackend::Sqlite, &env).await else { return };
    let reply = server.client().call(Method::GET, "/api/config", None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["edit_window_seconds"], 90);
    assert_eq!(reply.body["delete_window_seconds"], 7200);
    assert_eq!(reply.body["message_search_max_chars"], 100);
    assert_eq!(reply.body["people_search_max_chars"], 64);
}
