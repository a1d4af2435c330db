//! Black-box: two instances on one PostgreSQL and one Redis; one person with a
//! device on each. What the person changes on one device shows at once on the
//! other, whichever instance each is on: their chat settings (archive, mute, pin),
//! their blocks, their profile (which their chat partners and the people they
//! saved see too). A device that resumes gets the chat settings as they are
//! now. Read positions are proven in `cluster_events.rs`.

use crate::support;
use chitchat_testkit::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The types of the frames that arrive on `ws` before the first frame of type
/// `marker` (published after them by the same instance, so it comes after them).
async fn types_before(ws: &mut WsClient, marker: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let frame: Value = ws.next_json().await;
        if frame["type"] == marker {
            return seen;
        }
        seen.push(frame["type"].as_str().unwrap_or("").to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_settings_reach_the_persons_other_device_and_a_resume_brings_them() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, chat } = support::asha_and_ravi_across(&a, &b).await;
    let mut laptop_ws = a.ws(&ravi_laptop.token).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let settings = format!("/api/chats/{chat}/settings");

    // Archived and muted on the phone (B): the laptop (A) moves the chat at once.
    let until = "2099-01-01T00:00:00Z";
    let body = json!({"archived": true, "muted_until": until, "pinned": false});
    let put = b.call(Method::PUT, &settings, Some(&ravi_phone.token), Some(body)).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let frame = laptop_ws.next_of_type("chat_settings").await;
    assert_eq!(
        (frame["room_id"].as_str(), frame["sender"].as_str()),
        (Some(chat.as_str()), ravi_phone.user["id"].as_str())
    );
    assert_eq!(frame["payload"]["archived"], true);
    assert_eq!(frame["payload"]["pinned"], false);
    let muted = frame["payload"]["muted_until"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(muted).unwrap(),
        chrono::DateTime::parse_from_rfc3339(until).unwrap()
    );
    assert!(frame.get("event_seq").is_none(), "settings are not a chat event");
    // A message Ravi sends next, from the same instance, comes after anything sent to Asha before.
    assert_eq!(b.send_text(&ravi_phone, &chat, "still there?", None).await.status, StatusCode::CREATED);
    assert_eq!(types_before(&mut asha_ws, "message").await, Vec::<String>::new(), "Ravi's settings are his own");

    // A device that was away resumes, on either instance: the answer carries the
    // settings as they are now...
    for server in [&a, &b] {
        let mut back = server.ws_resuming(&ravi_laptop.token).await;
        let (_, answer) = back.resume("r", json!({ chat.clone(): 0 })).await;
        assert_eq!(answer["payload"]["settings"][&chat]["archived"], true, "{answer}");
    }
    // ...and, once they are back to the defaults, no entry for the chat.
    let reset = json!({"archived": false, "muted_until": null, "pinned": false});
    assert_eq!(b.call(Method::PUT, &settings, Some(&ravi_phone.token), Some(reset)).await.status, StatusCode::OK);
    let frame = laptop_ws.next_of_type("chat_settings").await;
    assert_eq!(frame["payload"], json!({"archived": false, "muted_until": null, "pinned": false}));
    let mut back = a.ws_resuming(&ravi_laptop.token).await;
    let (_, answer) = back.resume("r", json!({ chat.clone(): 0 })).await;
    assert_eq!(answer["payload"]["settings"], json!({}), "{answer}");
    assert!(answer["payload"]["chats"][&chat].is_i64(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_reach_the_blockers_other_device_and_never_the_blocked() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, .. } = support::asha_and_ravi_across(&a, &b).await;
    let mut laptop_ws = a.ws(&ravi_laptop.token).await;
    let mut asha_ws = a.ws(&asha.token).await;
    let block = format!("/api/users/{}/block", asha.user_id());

    let blocked = b.call(Method::POST, &block, Some(&ravi_phone.token), None).await;
    assert_eq!(blocked.status, StatusCode::NO_CONTENT, "{:?}", blocked.body);
    let frame = laptop_ws.next_of_type("block_update").await;
    assert_eq!(frame["sender"], ravi_phone.user_id());
    assert_eq!(frame["payload"], json!({"user_id": asha.user_id(), "blocked": true}));

    let unblocked = b.call(Method::DELETE, &block, Some(&ravi_phone.token), None).await;
    assert_eq!(unblocked.status, StatusCode::NO_CONTENT, "{:?}", unblocked.body);
    let frame = laptop_ws.next_of_type("block_update").await;
    assert_eq!(frame["payload"], json!({"user_id": asha.user_id(), "blocked": false}));
    let chat = b.direct_chat(&ravi_phone, &asha.user_id()).await;
    assert_eq!(b.send_text(&ravi_phone, &chat, "sorry", None).await.status, StatusCode::CREATED);
    assert_eq!(types_before(&mut asha_ws, "message").await, Vec::<String>::new(), "Asha is never told");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_name_reaches_chat_partners_contacts_and_own_devices_on_either_instance() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let support::AcrossInstances { asha, ravi_phone, ravi_laptop, chat } = support::asha_and_ravi_across(&a, &b).await;
    let asha_laptop = b.login("9876543210", "Asha").await;
    let zoya = b.login("9876543215", "Zoya").await; // Asha saved her number, never chatted
    let mallory = b.login("9876543213", "Mallory").await; // saved Asha's number, never chatted
    let stranger = b.login("9876543214", "Eve").await;
    let saved = a.post("/api/contacts", &asha.token, json!({"phone": "9876543215"})).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{:?}", saved.body);
    let saved = b.post("/api/contacts", &mallory.token, json!({"phone": "9876543210"})).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{:?}", saved.body);
    let mut watchers = [
        ("Ravi's phone", b.ws(&ravi_phone.token).await),
        ("Ravi's laptop", a.ws(&ravi_laptop.token).await),
        ("Asha's laptop", b.ws(&asha_laptop.token).await),
        ("Zoya", b.ws(&zoya.token).await),
    ];
    let mut stranger_ws = b.ws(&stranger.token).await;
    let mut mallory_ws = b.ws(&mallory.token).await;

    let body = json!({"name": "Asha K", "status": "on holiday"});
    let changed = a.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(body)).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    for (who, ws) in &mut watchers {
        let frame = ws.next_of_type("user_update").await;
        assert_eq!(frame["sender"], asha.user_id(), "{who}");
        assert_eq!(
            frame["payload"],
            json!({"user_id": asha.user_id(), "name": "Asha K", "status": "on holiday"}),
            "{who}"
        );
    }
    // A chat Asha starts with Eve next, on the same instance, reaches Eve after
    // anything sent to her before.
    a.direct_chat(&asha, &stranger.user_id()).await;
    assert_eq!(types_before(&mut stranger_ws, "chat_update").await, Vec::<String>::new(), "a stranger");
    // Saving Asha's number lets Mallory see nothing of her, this included.
    a.direct_chat(&asha, &mallory.user_id()).await;
    assert_eq!(types_before(&mut mallory_ws, "chat_update").await, Vec::<String>::new(), "one who saved her");

    // A privacy change alone is no profile change.
    let privacy = json!({"privacy": {"last_seen": "contacts"}});
    assert_eq!(a.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(privacy)).await.status, StatusCode::OK);
    assert_eq!(a.send_text(&asha, &chat, "back soon", None).await.status, StatusCode::CREATED);
    assert_eq!(types_before(&mut watchers[0].1, "message").await, Vec::<String>::new());
}
