//! Black-box: two instances on one PostgreSQL and one Redis act as one server.

use crate::support;
use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use std::time::Duration;

const ENV: &[(&str, &str)] = &[("PRESENCE_GRACE_PERIOD", support::PRESENCE_GRACE)];

async fn two_instances() -> Option<Vec<TestServer>> {
    support::start_cluster(2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_on_different_instances_chat_live() {
    let Some(servers) = two_instances().await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let ravi_second = a.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;

    let mut asha_ws = a.ws(&asha.token).await;
    let mut ravi_ws = b.ws(&ravi.token).await;
    let mut ravi_second_ws = a.ws(&ravi_second.token).await;

    let sent = a.send_text(&asha, &chat, "from instance A", Some("c1")).await;
    assert_eq!(sent.status, StatusCode::CREATED);
    let on_b = ravi_ws.next_of_type("message").await;
    assert_eq!(on_b["payload"]["id"], sent.body["id"]);
    assert_eq!(ravi_second_ws.next_of_type("message").await["payload"]["id"], sent.body["id"]);
    assert_eq!(asha_ws.next_of_type("message").await["event_seq"], 1, "the sender's own device too");

    let ack = ravi_ws.send_message("f1", &chat, "from instance B", "r1").await;
    assert_eq!(ack["type"], "ack");
    let on_a = asha_ws.next_of_type("message").await;
    assert_eq!(on_a["payload"]["content"], "from instance B");
    assert_eq!(on_a["event_seq"], 2);

    for server in &servers {
        let health = server.client().call(Method::GET, "/health", None, None).await;
        assert_eq!(health.body["services"]["redis"], "connected", "{:?}", health.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_on_one_instance_is_disconnected_on_the_other() {
    let Some(servers) = two_instances().await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let phone = a.login("9876543210", "Asha").await;
    let laptop = b.login("9876543210", "Asha").await;
    let mut laptop_ws = b.ws(&laptop.token).await;
    let sessions = a.get("/api/auth/sessions", &phone.token).await;
    let laptop_session = sessions.body["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked =
        a.call(Method::DELETE, &format!("/api/auth/sessions/{laptop_session}"), Some(&phone.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(laptop_ws.next_json().await["type"], "session_revoked");
    assert!(laptop_ws.next_json_within(Duration::from_secs(5)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_redis_outage_local_delivery_goes_on_and_nothing_is_missing_after() {
    let Some(mut redis) = chitchat_testkit::redis::OwnedRedis::start().await else { return };
    let Some(servers) = TestServer::start_cluster_on(support::BINARY, 2, &redis.url(), ENV).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let ravi_on_a = a.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;
    let mut ravi_ws = b.ws_resuming(&ravi.token).await;
    ravi_ws.send_json(serde_json::json!({"id": "r", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    assert_eq!(ravi_ws.next_json().await["id"], "r");
    let mut ravi_on_a_ws = a.ws(&ravi_on_a.token).await;

    a.send_text(&asha, &chat, "before", None).await;
    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["content"], "before");
    assert_eq!(ravi_on_a_ws.next_of_type("message").await["payload"]["content"], "before");

    redis.stop().await;
    for text in ["during 1", "during 2"] {
        let sent = a.send_text(&asha, &chat, text, None).await;
        assert_eq!(sent.status, StatusCode::CREATED, "the API keeps working without Redis");
        let local = ravi_on_a_ws.next_of_type("message").await;
        assert_eq!(local["payload"]["content"], text, "devices on the same instance still get it live");
    }
    let health = a.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);

    redis.restart().await;
    // Without reconnecting, the device on the other instance catches up from the log.
    let mut contents = Vec::new();
    while contents.len() < 2 {
        let frame = ravi_ws.next_json_within(Duration::from_secs(20)).await.expect("caught up after the outage");
        if frame["type"] == "message" {
            contents.push(frame["payload"]["content"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(contents, vec!["during 1", "during 2"]);
    let after = a.send_text(&asha, &chat, "after", None).await;
    assert_eq!(after.status, StatusCode::CREATED);
    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["content"], "after");
    assert!(ravi_ws.silent_for(Duration::from_millis(500)).await, "nothing twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_typing_cross_instances() {
    let Some(servers) = two_instances().await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let asha_laptop = b.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chat = a.exchange_messages(&asha, &ravi).await;
    let mut ravi_ws = b.ws(&ravi.token).await;

    let asha_ws = a.ws(&asha.token).await;
    assert_eq!(ravi_ws.next_of_type("presence").await["payload"]["online"], true);
    // A second device on the other instance: still one person online, no new announcement.
    let laptop_ws = b.ws(&asha_laptop.token).await;
    let mut asha_ws = asha_ws;
    asha_ws.send_json(serde_json::json!({"type": "typing", "room_id": chat, "payload": {"typing": true}})).await;
    let typing = ravi_ws.next_of_type("typing").await;
    assert_eq!(typing["sender"], asha.user_id(), "typing crosses instances");
    drop(asha_ws);
    let presence = ravi_ws.collect_of_type("presence", Duration::from_millis(2500)).await;
    assert!(presence.iter().all(|f| f["payload"]["online"] == true), "the laptop keeps her online: {presence:?}");
    drop(laptop_ws);
    let offline = ravi_ws.next_of_type("presence").await;
    assert_eq!(offline["payload"]["online"], false, "offline once her last device, on either instance, is gone");
}
