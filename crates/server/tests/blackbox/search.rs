//! Black-box: people find their own messages, and only their own, at most a second
//! after they were sent.

use chitchat_testkit::{ApiClient, Login, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

on_both_backends!(
    search_finds_the_callers_messages_with_marked_excerpts,
    search_finds_a_message_within_a_second_of_its_send,
);

/// How far search may lag the newest message (docs/api.md), and the room a busy
/// test machine gets on top.
const LAG: Duration = Duration::from_secs(1);
const SLACK: Duration = Duration::from_millis(500);

/// The results of `path` once it finds something, asked again and again; fails when
/// nothing was found within the lag (and the slack) from `sent`.
async fn found_within_lag(api: &ApiClient, path: &str, who: &Login, sent: Instant) -> Vec<Value> {
    loop {
        let reply = api.get(path, &who.token).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let results = reply.body["results"].as_array().cloned().unwrap_or_default();
        if !results.is_empty() {
            return results;
        }
        assert!(sent.elapsed() < LAG + SLACK, "{path} found nothing {:?} after the send", sent.elapsed());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn search_finds_the_callers_messages_with_marked_excerpts(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    api.send_text(&asha, &chat, "Shall we have dinner at the station café?", None).await;
    api.send_text(&ravi, &chat, "今天晚上一起吃饭吗", None).await;
    // The first was stored before the second: once the second is found through the
    // index ("一起吃饭": three characters or more, which SQLite also looks up in the
    // index), the first was indexed too.
    let second = format!("/api/messages/search?q={}&chat_id={chat}", "%E4%B8%80%E8%B5%B7%E5%90%83%E9%A5%AD");
    found_within_lag(&api, &second, &asha, Instant::now()).await;

    let found = api.get("/api/messages/search?q=Dinner", &ravi.token).await;
    assert_eq!(found.status, StatusCode::OK);
    let hit = &found.body["results"][0];
    assert_eq!(hit["message"]["chat_id"], chat.as_str());
    let text = hit["snippet"]["text"].as_str().unwrap();
    let [start, end] =
        [hit["snippet"]["highlights"][0][0].as_u64().unwrap(), hit["snippet"]["highlights"][0][1].as_u64().unwrap()];
    let marked: String = text.chars().skip(start as usize).take((end - start) as usize).collect();
    assert_eq!(marked, "dinner");

    let cjk = api.get(&format!("/api/messages/search?q=%E5%90%83%E9%A5%AD&chat_id={chat}"), &asha.token).await;
    assert_eq!(cjk.body["results"].as_array().unwrap().len(), 1);
    let outsider = api.get("/api/messages/search?q=dinner", &mallory.token).await;
    assert_eq!(outsider.body["results"], serde_json::json!([]), "nobody finds what they cannot read");
    let other_chat = api.get(&format!("/api/messages/search?q=dinner&chat_id={chat}"), &mallory.token).await;
    assert_eq!(other_chat.body["results"], serde_json::json!([]));
    let empty = api.get("/api/messages/search?q=", &asha.token).await;
    assert_eq!((empty.status, empty.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query"));
}

async fn search_finds_a_message_within_a_second_of_its_send(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    for n in 0..3 {
        let word = format!("pumpernickel{n}");
        let sent = api.send_text(&asha, &chat, &format!("bring the {word} loaf"), None).await;
        let sent_at = Instant::now();
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        let results = found_within_lag(&api, &format!("/api/messages/search?q={word}"), &ravi, sent_at).await;
        assert_eq!(results.len(), 1);
        assert_eq!(results[0]["message"]["content"], format!("bring the {word} loaf"));
    }
}
