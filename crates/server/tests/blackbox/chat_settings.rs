//! Black-box: each person archives, mutes and pins their own chats.

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(archive_mute_and_pin_work_like_a_messenger,);

async fn archive_mute_and_pin_work_like_a_messenger(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chen = api.login("9876543212", "Chen").await;
    let with_ravi = api.direct_chat(&asha, &ravi.user_id()).await;
    let with_chen = api.direct_chat(&asha, &chen.user_id()).await;
    let ids = |reply: &chitchat_testkit::client::Reply| -> Vec<String> {
        reply.body["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let settings = |chat: &str| format!("/api/chats/{chat}/settings");

    // Pinning puts Ravi's chat first although Chen's is newer.
    let pinned = api.call(Method::PUT, &settings(&with_ravi), Some(&asha.token), Some(json!({"pinned": true}))).await;
    assert_eq!(pinned.status, StatusCode::OK);
    assert_eq!(ids(&api.get("/api/chats", &asha.token).await), vec![with_ravi.clone(), with_chen.clone()]);

    // Archived: out of the list, in the archive; only for Asha.
    api.call(Method::PUT, &settings(&with_chen), Some(&asha.token), Some(json!({"archived": true}))).await;
    assert_eq!(ids(&api.get("/api/chats", &asha.token).await), vec![with_ravi.clone()]);
    let archive = api.get("/api/chats?archived=true", &asha.token).await;
    assert_eq!(ids(&archive), vec![with_chen.clone()]);
    assert_eq!(archive.body["chats"][0]["settings"]["archived"], true);
    assert_eq!(ids(&api.get("/api/chats", &chen.token).await), vec![with_chen.clone()], "Chen's list is his own");

    // A new message brings an unmuted archived chat back...
    api.send_text(&chen, &with_chen, "are you there?", None).await;
    assert!(ids(&api.get("/api/chats", &asha.token).await).contains(&with_chen));
    // ...but not a muted one.
    let until = (chrono::Utc::now() + chrono::Duration::hours(8)).to_rfc3339();
    let muted = json!({"archived": true, "muted_until": until});
    api.call(Method::PUT, &settings(&with_chen), Some(&asha.token), Some(muted)).await;
    api.send_text(&chen, &with_chen, "hello??", None).await;
    assert!(!ids(&api.get("/api/chats", &asha.token).await).contains(&with_chen));
    let archived = api.get("/api/chats?archived=true", &asha.token).await;
    assert!(archived.body["chats"][0]["settings"]["muted_until"].is_string());

    let outsider = api.call(Method::PUT, &settings(&with_chen), Some(&ravi.token), Some(json!({"pinned": true}))).await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND);
    let bad =
        api.call(Method::PUT, &settings(&with_chen), Some(&asha.token), Some(json!({"muted_until": "soon"}))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
