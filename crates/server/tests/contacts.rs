//! Black-box: profile, contacts and blocks as a person uses them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(profile_contacts_and_blocks_work_as_a_person_expects,);

async fn profile_contacts_and_blocks_work_as_a_person_expects(server: TestServer) {
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let ravi = api.login("9876543211", "Ravi").await;

    let changed = api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(json!({"status": "At work"}))).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(
        (changed.body["user"]["name"].as_str(), changed.body["user"]["status"].as_str()),
        (Some("Asha"), Some("At work"))
    );
    let me = api.get("/api/users/me", &asha.token).await;
    assert_eq!(me.body["user"]["status"], "At work");
    let too_long =
        api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(json!({"status": "x".repeat(141)}))).await;
    assert_eq!((too_long.status, too_long.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_status_line"));

    let by_phone =
        api.post("/api/contacts", &asha.token, json!({"phone": "98765 43211", "alias": "Ravi (work)"})).await;
    assert_eq!(by_phone.status, StatusCode::CREATED, "{:?}", by_phone.body);
    assert_eq!(by_phone.body["user"]["id"], ravi.user_id());
    let renamed = api.post("/api/contacts", &asha.token, json!({"user_id": ravi.user_id(), "alias": "R"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    let listed = api.get("/api/contacts", &asha.token).await;
    assert_eq!(listed.body["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["contacts"][0]["alias"], "R");
    assert_eq!(api.get("/api/contacts", &ravi.token).await.body["contacts"], json!([]), "one-way");
    let unknown = api.post("/api/contacts", &asha.token, json!({"phone": "9876543299"})).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::NOT_FOUND, "user_not_found"));
    let myself = api.post("/api/contacts", &asha.token, json!({"user_id": asha.user_id()})).await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    let removed = api.call(Method::DELETE, &format!("/api/contacts/{}", ravi.user_id()), Some(&asha.token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let again = api.call(Method::DELETE, &format!("/api/contacts/{}", ravi.user_id()), Some(&asha.token), None).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::NOT_FOUND, "contact_not_found"));

    let block = api.call(Method::POST, &format!("/api/users/{}/block", ravi.user_id()), Some(&asha.token), None).await;
    assert_eq!(block.status, StatusCode::NO_CONTENT);
    let new_chat = api.post("/api/chats", &ravi.token, json!({"type": "direct", "user_ids": [asha.user_id()]})).await;
    assert_eq!(
        (new_chat.status, new_chat.error_code()),
        (StatusCode::FORBIDDEN, "blocked"),
        "a blocked person cannot start a chat"
    );
    let unblock =
        api.call(Method::DELETE, &format!("/api/users/{}/block", ravi.user_id()), Some(&asha.token), None).await;
    assert_eq!(unblock.status, StatusCode::NO_CONTENT);
    let chat = api.direct_chat(&ravi, &asha.user_id()).await;
    assert_eq!(api.send_text(&ravi, &chat, "hi", None).await.status, StatusCode::CREATED);
    api.call(Method::POST, &format!("/api/users/{}/block", ravi.user_id()), Some(&asha.token), None).await;
    let refused = api.send_text(&ravi, &chat, "hello?", None).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (StatusCode::FORBIDDEN, "blocked"),
        "nor write in the existing one"
    );
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1, "nothing reached her");
    let unblock =
        api.call(Method::DELETE, &format!("/api/users/{}/block", ravi.user_id()), Some(&asha.token), None).await;
    assert_eq!(unblock.status, StatusCode::NO_CONTENT);
    let nobody =
        api.call(Method::POST, "/api/users/00000000-0000-4000-8000-000000000000/block", Some(&asha.token), None).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Method::GET, "/api/contacts", None, None).await.status, StatusCode::UNAUTHORIZED);
}
