//! Black-box: nobody reads, writes or learns of a chat they are not in; tokens
//! and codes work exactly as long as they should.

use chitchat_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    a_non_member_is_refused_everywhere_and_learns_nothing,
    tokens_are_required_and_logout_revokes_one_device,
    login_codes_are_checked,
    revoking_a_device_logs_it_out_and_closes_its_socket_at_once,
);

async fn a_non_member_is_refused_everywhere_and_learns_nothing(server: TestServer) {
    let api = server.client();
    let (asha, ravi) = api.asha_and_ravi().await;
    let mallory = api.login("9876543212", "Mallory").await;
    let chat = api.direct_chat(&asha, &ravi.user_id()).await;
    api.send_text(&asha, &chat, "private", None).await;
    let mut mallory_ws = api.ws(&mallory.token).await;

    let unknown_chat = uuid_v4();
    for chat_id in [chat.as_str(), unknown_chat.as_str()] {
        let details = api.get(&format!("/api/chats/{chat_id}"), &mallory.token).await;
        let history = api.get(&format!("/api/messages?chat_id={chat_id}"), &mallory.token).await;
        let post = api.send_text(&mallory, chat_id, "let me in", None).await;
        for reply in [&details, &history, &post] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
            assert_eq!(reply.error_code(), "chat_not_found", "same answer whether or not the chat exists");
            assert!(!reply.body.to_string().contains("private"));
        }
        let frame = mallory_ws.send_message("m1", chat_id, "let me in", "x").await;
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["payload"]["code"], "chat_not_found");
    }
    let mallory_chats = api.get("/api/chats", &mallory.token).await;
    assert_eq!(mallory_chats.body["chats"], json!([]));
    assert!(mallory_ws.silent_for(Duration::from_millis(300)).await, "outsiders get no frames");
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1, "nothing was added");
}

async fn tokens_are_required_and_logout_revokes_one_device(server: TestServer) {
    let api = server.client();
    let phone = api.login("9876543210", "Asha").await;
    let laptop = api.login("9876543210", "Asha").await;
    for path in ["/api/auth/verify", "/api/chats", "/api/users/search?q=a"] {
        let anonymous = api.call(Method::GET, path, None, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(anonymous.error_code(), "missing_token");
        let forged = api.get(path, "eyJhbGciOiJub25lIn0.e30.").await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(api.ws_refusal("").await, 401);
    assert_eq!(api.ws_refusal("?token=garbage").await, 401);

    let verify = api.get("/api/auth/verify", &phone.token).await;
    assert_eq!(verify.status, StatusCode::OK);
    assert_eq!(verify.body["user"]["phone"], "+919876543210");

    let logout = api.call(Method::POST, "/api/auth/logout", Some(&phone.token), None).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/auth/verify", &phone.token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.ws_refusal(&format!("?token={}", phone.token)).await, 401);
    assert_eq!(api.get("/api/auth/verify", &laptop.token).await.status, StatusCode::OK, "other devices stay in");
}

async fn login_codes_are_checked(server: TestServer) {
    let api = server.client();
    let register = |code: &'static str| {
        let api = api.clone();
        async move {
            api.call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"phone": "9876543210", "name": "Asha", "code": code})),
            )
            .await
        }
    };
    // No code requested yet.
    assert_eq!(register("123456").await.status, StatusCode::UNAUTHORIZED);
    let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543210"}))).await;
    assert_eq!(otp.status, StatusCode::ACCEPTED);
    assert!(otp.body["expires_at"].is_string());
    for _ in 0..5 {
        let wrong = register("000000").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.error_code(), "invalid_code");
    }
    let locked = register("123456").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "five wrong tries lock the code");
    // A new code starts over, and works once.
    api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "+919876543210"}))).await;
    assert_eq!(register("123456").await.status, StatusCode::OK);
    assert_eq!(register("123456").await.status, StatusCode::UNAUTHORIZED, "a code is single use");
}

fn uuid_v4() -> String {
    // Any well-formed id that no chat has.
    "00000000-0000-4000-8000-000000000000".to_owned()
}

async fn revoking_a_device_logs_it_out_and_closes_its_socket_at_once(server: TestServer) {
    let api = server.client();
    let phone = api.login("9876543210", "Asha").await;
    let laptop = api.login("9876543210", "Asha").await;
    let mallory = api.login("9876543212", "Mallory").await;

    let listed = api.get("/api/auth/sessions", &phone.token).await;
    assert_eq!(listed.status, StatusCode::OK);
    let sessions = listed.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let laptop_session = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    // Nobody else can see or end Asha's devices.
    let theirs =
        api.call(Method::DELETE, &format!("/api/auth/sessions/{laptop_session}"), Some(&mallory.token), None).await;
    assert_eq!((theirs.status, theirs.error_code()), (StatusCode::NOT_FOUND, "session_not_found"));
    assert_eq!(api.get("/api/auth/sessions", &mallory.token).await.body["sessions"].as_array().unwrap().len(), 1);

    let mut laptop_ws = api.ws(&laptop.token).await;
    let mut phone_ws = api.ws(&phone.token).await;
    let revoked =
        api.call(Method::DELETE, &format!("/api/auth/sessions/{laptop_session}"), Some(&phone.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let notice = laptop_ws.next_json().await;
    assert_eq!(notice["type"], "session_revoked");
    assert!(laptop_ws.next_json_within(Duration::from_secs(5)).await.is_none(), "the socket is closed");
    assert_eq!(api.get("/api/auth/verify", &laptop.token).await.status, StatusCode::UNAUTHORIZED);
    assert!(phone_ws.silent_for(Duration::from_millis(300)).await, "the other device stays connected and quiet");
    assert_eq!(api.get("/api/auth/sessions", &phone.token).await.body["sessions"].as_array().unwrap().len(), 1);
    let again =
        api.call(Method::DELETE, &format!("/api/auth/sessions/{laptop_session}"), Some(&phone.token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "an ended session is gone");

    // Logging out closes the device's own socket too.
    api.call(Method::POST, "/api/auth/logout", Some(&phone.token), None).await;
    assert_eq!(phone_ws.next_json().await["type"], "session_revoked");
}
