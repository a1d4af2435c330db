//! Black-box: typing and presence reach the right people, live, and nobody else.

use chitchat_testkit::TestServer;
use serde_json::json;
use std::time::Duration;

on_both_backends!(typing_reaches_the_other_member_only_and_is_throttled, presence_follows_devices_with_a_grace_period,);

async fn typing_reaches_the_other_member_only_and_is_throttled(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let asha_laptop = api.login("9876543210", "Asha").await;
    let ravi = api.login("9876543211", "Ravi").await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut asha_laptop_ws = api.ws(&asha_laptop.token).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut mallory_ws = api.ws(&mallory.token).await;

    for _ in 0..5 {
        asha_ws.send_json(json!({"type": "typing", "room_id": chat, "payload": {"typing": true}})).await;
    }
    let seen = ravi_ws.collect_of_type("typing", Duration::from_millis(800)).await;
    assert_eq!(seen.len(), 1, "five keystrokes in a burst make one typing event: {seen:?}");
    assert_eq!(seen[0]["room_id"], chat.as_str());
    assert_eq!(seen[0]["sender"], asha.user_id());
    assert_eq!(seen[0]["payload"]["typing"], true);
    assert!(seen[0]["payload"]["expires_in_ms"].as_u64().unwrap() > 0, "it expires by itself");

    asha_ws.send_json(json!({"type": "typing", "room_id": chat, "payload": {"typing": false}})).await;
    let stopped = ravi_ws.next_of_type("typing").await;
    assert_eq!(stopped["payload"]["typing"], false);

    assert!(
        asha_laptop_ws.collect_of_type("typing", Duration::from_millis(300)).await.is_empty(),
        "not echoed to the typer"
    );
    assert!(mallory_ws.collect_of_type("typing", Duration::from_millis(300)).await.is_empty(), "outsiders see nothing");

    mallory_ws.send_json(json!({"id": "t1", "type": "typing", "room_id": chat, "payload": {"typing": true}})).await;
    let refused = mallory_ws.next_of_type("error").await;
    assert_eq!((refused["id"].as_str(), refused["payload"]["code"].as_str()), (Some("t1"), Some("chat_not_found")));
    assert!(ravi_ws.collect_of_type("typing", Duration::from_millis(300)).await.is_empty());
}

async fn presence_follows_devices_with_a_grace_period(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    api.exchange_messages(&asha, &ravi).await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut mallory_ws = api.ws(&mallory.token).await;

    let asha_ws = api.ws(&asha.token).await;
    let online = ravi_ws.next_of_type("presence").await;
    assert_eq!(online["sender"], asha.user_id());
    assert_eq!(online["payload"]["online"], true);

    // A device that connects now hears at once who is online already.
    let mut ravi_laptop = api.ws(&ravi.token).await;
    let snapshot = ravi_laptop.next_of_type("presence").await;
    assert_eq!((&snapshot["sender"], &snapshot["payload"]["online"]), (&asha.user_id().into(), &true.into()));
    drop(ravi_laptop);

    // A reload inside the grace period does not flap.
    drop(asha_ws);
    let asha_ws = api.ws(&asha.token).await;
    // A repeated "online" is harmless (the snapshot a device gets on connecting may
    // cross the announcement); an "offline" would be the flap.
    let flap = ravi_ws.collect_of_type("presence", Duration::from_millis(2500)).await;
    assert!(flap.iter().all(|f| f["payload"]["online"] == true), "no offline/online flap: {flap:?}");

    drop(asha_ws);
    let offline = ravi_ws.next_of_type("presence").await;
    assert_eq!(offline["payload"]["online"], false);
    assert!(offline["payload"]["last_seen"].is_string());
    let chats = api.get("/api/chats", &ravi.token).await;
    let asha_member = chats.body["chats"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == asha.user_id())
        .cloned()
        .unwrap();
    assert_eq!(asha_member["user"]["last_seen"], offline["payload"]["last_seen"], "last_seen is stored");

    assert!(
        mallory_ws.collect_of_type("presence", Duration::from_millis(300)).await.is_empty(),
        "strangers learn nothing"
    );
}
