//! Black-box: the `last_seen` privacy setting decides who sees when someone was
//! last online, in profiles, member lists, search and presence frames alike.

use chitchat_testkit::{Login, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

/// Asha's `last_seen` as `viewer` sees it in their direct chat with her.
async fn last_seen_in_chat(server: &TestServer, viewer: &Login, chat: &str, asha: &Login) -> Value {
    let chat = server.client().get(&format!("/api/chats/{chat}"), &viewer.token).await;
    let members = chat.body["members"].as_array().unwrap().clone();
    let asha_member = members.into_iter().find(|m| m["user_id"] == asha.user_id()).unwrap();
    asha_member["user"]["last_seen"].clone()
}

/// The next "offline" presence frame (a repeated "online" may come first: the
/// snapshot a device gets on connecting can cross the announcement).
async fn next_offline(ws: &mut chitchat_testkit::WsClient) -> Value {
    loop {
        let frame = ws.next_of_type("presence").await;
        if frame["payload"]["online"] == false {
            return frame;
        }
    }
}

async fn set_last_seen(server: &TestServer, who: &Login, setting: &str) -> chitchat_testkit::client::Reply {
    let body = json!({ "privacy": { "last_seen": setting } });
    server.client().call(Method::PATCH, "/api/users/me", Some(&who.token), Some(body)).await
}

async fn last_seen_follows_the_privacy_setting(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let zoya = api.login("9876543212", "Zoya").await;
    let with_ravi = api.exchange_messages(&asha, &ravi).await;
    let with_zoya = api.exchange_messages(&asha, &zoya).await;
    let saved = api.post("/api/contacts", &asha.token, json!({ "user_id": ravi.user_id() })).await;
    assert_eq!(saved.status, 201);

    let me = api.get("/api/users/me", &asha.token).await;
    assert_eq!(me.body["privacy"]["last_seen"], "everyone", "everyone by default");
    assert!(last_seen_in_chat(&server, &zoya, &with_zoya, &asha).await.is_string());

    let changed = set_last_seen(&server, &asha, "contacts").await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["privacy"]["last_seen"], "contacts");
    assert!(changed.body["user"]["last_seen"].is_string(), "people always see their own");
    assert!(last_seen_in_chat(&server, &ravi, &with_ravi, &asha).await.is_string(), "a saved contact sees it");
    assert!(last_seen_in_chat(&server, &zoya, &with_zoya, &asha).await.is_null(), "others do not");
    let found = api.get("/api/users/search?q=Asha", &zoya.token).await;
    assert!(found.body["users"][0]["last_seen"].is_null(), "nor in search: {:?}", found.body);
    let found = api.get("/api/users/search?q=Asha", &ravi.token).await;
    assert!(found.body["users"][0]["last_seen"].is_string());

    // Coming online and going offline: only the saved contact hears of it, and
    // when; the setting covers being online as well as the time.
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut zoya_ws = api.ws(&zoya.token).await;
    let asha_ws = api.ws(&asha.token).await;
    assert_eq!(ravi_ws.next_of_type("presence").await["payload"]["online"], true);
    drop(asha_ws);
    let to_ravi = next_offline(&mut ravi_ws).await;
    assert!(to_ravi["payload"]["last_seen"].is_string(), "{to_ravi}");
    let to_zoya = zoya_ws.collect_of_type("presence", std::time::Duration::from_millis(300)).await;
    assert!(to_zoya.is_empty(), "not a contact: nothing at all: {to_zoya:?}");

    assert_eq!(set_last_seen(&server, &asha, "nobody").await.status, 200);
    assert!(last_seen_in_chat(&server, &ravi, &with_ravi, &asha).await.is_null(), "nobody means nobody");
    let asha_ws = api.ws(&asha.token).await;
    let mut ravi_laptop = api.ws(&ravi.token).await;
    drop(asha_ws);
    let to_ravi = ravi_ws.collect_of_type("presence", std::time::Duration::from_millis(2500)).await;
    assert!(to_ravi.is_empty(), "nobody: not even the saved contact sees her online or offline: {to_ravi:?}");
    let snapshot = ravi_laptop.collect_of_type("presence", std::time::Duration::from_millis(300)).await;
    assert!(snapshot.is_empty(), "nor in a new device's list of who is online: {snapshot:?}");
    let contacts = api.get("/api/contacts", &asha.token).await;
    assert_eq!(contacts.status, 200);

    // A bad value changes nothing, not even the fields sent along with it.
    let body = json!({ "name": "Renamed", "privacy": { "last_seen": "friends" } });
    let refused = api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(body)).await;
    assert_eq!((refused.status.as_u16(), refused.error_code()), (422, "invalid_privacy"));
    let me = api.get("/api/users/me", &asha.token).await;
    assert_eq!(
        (me.body["user"]["name"].as_str(), me.body["privacy"]["last_seen"].as_str()),
        (Some("Asha"), Some("nobody"))
    );
}

on_both_backends!(last_seen_follows_the_privacy_setting);
