//! Black-box: people find their own messages, and only their own.

use chitchat_testkit::TestServer;
use reqwest::StatusCode;

on_both_backends!(search_finds_the_callers_messages_with_marked_excerpts,);

async fn search_finds_the_callers_messages_with_marked_excerpts(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    api.send_text(&asha, &chat, "Shall we have dinner at the station café?", None).await;
    api.send_text(&ravi, &chat, "今天晚上一起吃饭吗", None).await;

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
