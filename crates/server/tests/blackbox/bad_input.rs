//! Black-box: bad input gets a clear 4xx or an `error` frame, and nothing that was
//! already stored is lost or changed.

use crate::support;
use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    bad_requests_get_clear_errors_and_change_nothing,
    bad_frames_get_error_frames_and_the_socket_lives,
    national_numbers_that_begin_with_the_country_code_log_in,
);

async fn bad_requests_get_clear_errors_and_change_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    api.send_text(&asha, &chat, "kept", None).await;
    for search in ["/api/users/search?q=as%00ha", "/api/messages/search?q=ke%00pt"] {
        let refused = api.get(search, &asha.token).await;
        assert_eq!((refused.status.as_u16(), refused.error_code()), (422, "invalid_query"), "{search}");
    }

    let cases = [
        (json!({"chat_id": chat, "content": "   "}), StatusCode::UNPROCESSABLE_ENTITY, "empty_content"),
        // PostgreSQL cannot store a NUL in text: refused up front on both backends.
        (json!({"chat_id": chat, "content": "a\u{0}b"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_content"),
        (
            json!({"chat_id": chat, "content": "x".repeat(64 * 1024 + 1)}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "content_too_large",
        ),
        (
            json!({"chat_id": chat, "content": "hi", "content_type": "sticker"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_content_type",
        ),
        (
            json!({"chat_id": "00000000-0000-4000-8000-000000000000", "content": "hi"}),
            StatusCode::NOT_FOUND,
            "chat_not_found",
        ),
        (json!({"chat_id": "not-an-id", "content": "hi"}), StatusCode::NOT_FOUND, "chat_not_found"),
        (json!({"chat_id": chat}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (
            json!({"chat_id": chat, "content": "x".repeat(300 * 1024)}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let reply = api.post("/api/messages", &asha.token, body).await;
        assert_eq!((reply.status, reply.error_code()), (status, code), "{:?}", reply.body);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let malformed = api.post_raw("/api/messages", Some(&asha.token), "{\"chat_id\": ").await;
    assert_eq!((malformed.status, malformed.error_code()), (StatusCode::BAD_REQUEST, "invalid_json"));

    let bad_phone = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "12"}))).await;
    assert_eq!((bad_phone.status, bad_phone.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone"));
    // A premium-rate number would make each code a charge to the operator.
    for premium in ["+1 900 555 0199", "+44 909 879 0000"] {
        let refused = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": premium}))).await;
        assert_eq!((refused.status, refused.error_code()), (StatusCode::UNPROCESSABLE_ENTITY, "phone_not_mobile"));
    }
    let group = api.post("/api/chats", &asha.token, json!({"type": "channel", "user_ids": []})).await;
    assert_eq!(group.status, StatusCode::UNPROCESSABLE_ENTITY);
    let myself = api.post("/api/chats", &asha.token, json!({"type": "direct", "user_ids": [asha.user_id()]})).await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_page = api.get(&format!("/api/messages?chat_id={chat}&offset=-1"), &asha.token).await;
    assert_eq!(bad_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let capped = api.get(&format!("/api/messages?chat_id={chat}&limit=5000"), &asha.token).await;
    assert_eq!(capped.status, StatusCode::OK);
    let unknown = api.get("/api/nothing-here", &asha.token).await;
    assert_eq!((unknown.status, unknown.error_code()), (StatusCode::NOT_FOUND, "not_found"));

    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    let messages = history.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["content"], "kept");
    let health = api.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["services"]["database"], "connected");
    assert_eq!(health.body["services"]["redis"], "not_configured");
}

async fn bad_frames_get_error_frames_and_the_socket_lives(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ws = api.ws(&asha.token).await;

    ws.send_text("this is not json").await;
    assert_eq!(ws.next_json().await["payload"]["code"], "invalid_frame");
    ws.send_json(json!({"id": 7, "type": "teleport", "room_id": chat})).await;
    let unknown = ws.next_json().await;
    assert_eq!((unknown["type"].as_str(), unknown["id"].as_i64()), (Some("error"), Some(7)));
    assert_eq!(unknown["payload"]["code"], "unknown_type");
    ws.send_json(json!({"id": "e1", "type": "message", "room_id": chat, "payload": {"content": ""}})).await;
    assert_eq!(ws.next_json().await["payload"]["code"], "empty_content");
    ws.send_json(json!({"id": "e2", "type": "message", "room_id": chat, "payload": {"text": "wrong field"}})).await;
    assert_eq!(ws.next_json().await["payload"]["code"], "invalid_payload");

    let ack = ws.send_message("ok", &chat, "still connected", "c-1").await;
    assert_eq!(ack["type"], "ack", "the socket survives bad frames: {ack}");
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1);
}

/// An Indian mobile whose national digits begin with 91, the country code, typed
/// nationally as the docs show: it gets a code, and every spelling of it is one user.
async fn national_numbers_that_begin_with_the_country_code_log_in(server: TestServer) {
    let api = server.client();
    let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9112345678"}))).await;
    assert_eq!(otp.status, StatusCode::ACCEPTED, "{:?}", otp.body);
    let national = api.login("9112345678", "Nila").await;
    assert_eq!(national.user["phone"], "+919112345678");
    for spelling in ["+91 91123 45678", "091123-45678", "0091 (911) 234 5678"] {
        let again = api.login(spelling, "Nila").await;
        assert_eq!(again.user_id(), national.user_id(), "{spelling:?}");
    }
}

/// Names that hide or reverse text, and messages that show nothing, are refused
/// wherever they come in; emoji sequences that need a joiner still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invisible_and_direction_changing_characters_are_refused() {
    let server = support::start(chitchat_testkit::TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let tricks = ["Ravi\u{202E}ivaR", "Asha\u{200B}", "\u{FEFF}Asha", "Asha\u{E0041}\u{E0042}", "\u{200B}\u{200B}"];

    for name in tricks {
        let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543212"}))).await;
        assert_eq!(otp.status, StatusCode::ACCEPTED);
        let body = json!({"phone": "9876543212", "name": name, "code": "123456"});
        let signup = api.call(Method::POST, "/api/auth/register", None, Some(body)).await;
        assert_eq!(
            (signup.status, signup.error_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            "{name:?}"
        );
        let rename = api.call(Method::PATCH, "/api/users/me", Some(&asha.token), Some(json!({"name": name}))).await;
        assert_eq!(
            (rename.status, rename.error_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
            "{name:?}"
        );
        let group = json!({"type": "group", "name": name, "user_ids": [ravi.user_id()]});
        let group = api.post("/api/chats", &asha.token, group).await;
        assert_eq!(group.error_code(), "invalid_group_name", "{name:?}");
    }
    assert_eq!(api.get("/api/users/me", &asha.token).await.body["user"]["name"], "Asha", "the name is unchanged");

    let message = api.send_text(&asha, &chat, "hi", None).await;
    let message_id = message.body["id"].as_str().unwrap().to_owned();
    for blank in ["\u{200B}\u{200B}\u{200B}", "\u{FEFF}", "\u{2060} \u{200B}", "\u{3164}"] {
        let reply = api.post("/api/messages", &asha.token, json!({"chat_id": chat, "content": blank})).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "empty_content"),
            "{blank:?}"
        );
    }
    let reactions = format!("/api/messages/{message_id}/reactions");
    for emoji in ["\u{200B}", "\u{202E}👍", "👍\u{200B}", "\u{FE0F}"] {
        let reply = api.call(Method::PUT, &reactions, Some(&ravi.token), Some(json!({"emoji": emoji}))).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_emoji"),
            "{emoji:?}"
        );
    }
    let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
    let reply = api.call(Method::PUT, &reactions, Some(&ravi.token), Some(json!({"emoji": family}))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1, "nothing blank was stored");
}
