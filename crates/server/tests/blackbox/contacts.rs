//! Black-box: profile, contacts and blocks as a person uses them.

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    profile_contacts_and_blocks_work_as_a_person_expects,
    saving_a_number_does_not_tell_whether_anyone_uses_it,
);

async fn profile_contacts_and_blocks_work_as_a_person_expects(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;

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
    assert_eq!(
        (&by_phone.body["phone"], &by_phone.body["user"]),
        (&json!("+919876543211"), &json!(null)),
        "Ravi does not know Asha yet: the number alone"
    );
    let renamed = api.post("/api/contacts", &asha.token, json!({"user_id": ravi.user_id(), "alias": "R"})).await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(api.get("/api/contacts", &ravi.token).await.body["contacts"], json!([]), "one-way");
    let saved_back = api.post("/api/contacts", &ravi.token, json!({"phone": "+91 98765 43210"})).await;
    assert_eq!(saved_back.status, StatusCode::CREATED);
    assert_eq!(saved_back.body["user"]["id"], asha.user_id(), "Asha saved Ravi: he sees her account");
    let listed = api.get("/api/contacts", &asha.token).await;
    assert_eq!(listed.body["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["contacts"][0]["alias"], "R");
    assert_eq!(listed.body["contacts"][0]["user"]["id"], ravi.user_id(), "now that he saved her");
    let bad = api.post("/api/contacts", &asha.token, json!({"phone": "12"})).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone"));
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

/// An attacker saves two numbers, one registered and one not, and compares every
/// answer: the save, the list, and a search by the digits. Nothing differs but the
/// number itself, until the person saved the attacker or shares a chat with them.
async fn saving_a_number_does_not_tell_whether_anyone_uses_it(server: TestServer) {
    let api = server.client();
    api.login("9876543210", "Asha").await;
    let mallory = api.login("9876543213", "Mallory").await;
    let (registered, unused) = ("+919876543210", "+919876543299");

    let mut answers = Vec::new();
    for phone in [registered, unused] {
        let saved = api.post("/api/contacts", &mallory.token, json!({ "phone": phone, "alias": "?" })).await;
        let again = api.post("/api/contacts", &mallory.token, json!({ "phone": phone, "alias": "??" })).await;
        answers.push((
            saved.status,
            again.status,
            without_times(&saved.body, phone),
            without_times(&again.body, phone),
        ));
    }
    assert_eq!(answers[0], answers[1], "saving and renaming answer alike");
    assert_eq!(answers[0].0, StatusCode::CREATED);
    let listed = api.get("/api/contacts", &mallory.token).await;
    let contacts = listed.body["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 2, "{:?}", listed.body);
    assert_eq!(without_times(&contacts[0], registered), without_times(&contacts[1], unused), "listed alike");
    for digits in ["98765432", "9876543210", "543210"] {
        let found = api.get(&format!("/api/users/search?q={digits}"), &mallory.token).await;
        assert_eq!(found.body["users"], json!([]), "a number finds nobody who does not know the caller");
    }

    // The unused number registers: still a number to Mallory.
    let zoya = api.login(unused, "Zoya").await;
    let listed = api.get("/api/contacts", &mallory.token).await;
    assert!(listed.body["contacts"].as_array().unwrap().iter().all(|c| c["user"].is_null()), "{:?}", listed.body);
    // Zoya writes to Mallory: now they know each other.
    let chat = api.direct_chat(&zoya, &mallory.user_id()).await;
    assert_eq!(api.send_text(&zoya, &chat, "hi, it's Zoya", None).await.status, StatusCode::CREATED);
    api.send_text(&mallory, &chat, "hello", None).await;
    let listed = api.get("/api/contacts", &mallory.token).await;
    let shown: Vec<_> = listed.body["contacts"].as_array().unwrap().iter().map(|c| c["user"]["id"].clone()).collect();
    assert_eq!(shown, [json!(null), json!(zoya.user_id())], "Zoya, saved before she registered, shows; Asha not");
    let found = api.get("/api/users/search?q=543299", &mallory.token).await;
    assert_eq!(found.body["users"][0]["id"], zoya.user_id(), "and her number finds her");
    let found = api.get("/api/users/search?q=543210", &mallory.token).await;
    assert_eq!(found.body["users"], json!([]));

    // A saved number is removed by the number, shown or not.
    for phone in [registered, "9876543299"] {
        let removed = api
            .call(
                Method::DELETE,
                &format!("/api/contacts?phone={}", phone.replace('+', "%2B")),
                Some(&mallory.token),
                None,
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    }
    assert_eq!(api.get("/api/contacts", &mallory.token).await.body["contacts"], json!([]));
    let gone = api.call(Method::DELETE, "/api/contacts?phone=%2B919876543210", Some(&mallory.token), None).await;
    assert_eq!((gone.status, gone.error_code()), (StatusCode::NOT_FOUND, "contact_not_found"));
}

/// The answer with the number and the times taken out.
fn without_times(body: &serde_json::Value, phone: &str) -> serde_json::Value {
    let mut body = body.clone();
    assert_eq!(body["phone"], phone, "{body}");
    for key in ["phone", "added_at"] {
        body.as_object_mut().unwrap().remove(key);
    }
    body
}
