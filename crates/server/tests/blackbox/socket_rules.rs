//! Black-box: what one account's sockets may do. An account holds at most
//! `WS_MAX_CONNECTIONS_PER_USER` sockets on an instance, a device session at most
//! `WS_MAX_CONNECTIONS_PER_SESSION`; a socket closes with 4001 when its session
//! expires and sends nothing more; answers come in the order the frames were sent.

use crate::support;
use chitchat_testkit::{ApiClient, Login, SocketEnd, TestBackend, WsClient};
use serde_json::json;
use std::time::Duration;

/// The status and error code of a WebSocket upgrade the server refuses.
async fn refusal(api: &ApiClient, login: &Login) -> (u16, String) {
    let upgrade = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let response = api.get_raw(&format!("/ws?token={}", login.token), &login.token, &upgrade).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_holds_at_most_twenty_sockets_and_one_device_ten() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let devices: Vec<Login> = {
        let mut devices = Vec::new();
        for _ in 0..3 {
            devices.push(api.login("9876543210", "Asha").await);
        }
        devices
    };
    let ravi = api.login("9876543211", "Ravi").await;
    let too_many = (429, "too_many_connections".to_owned());

    let mut open: Vec<WsClient> = Vec::new();
    for _ in 0..10 {
        open.push(api.ws(&devices[0].token).await);
    }
    assert_eq!(refusal(&api, &devices[0]).await, too_many, "an eleventh socket of one device");
    for _ in 0..10 {
        open.push(api.ws(&devices[1].token).await);
    }
    assert_eq!(refusal(&api, &devices[2]).await, too_many, "a twenty-first socket of one person");
    let _ravi = api.ws(&ravi.token).await;

    // A socket that closes gives its place back.
    let closing = open.pop().unwrap();
    drop(closing);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match api.try_ws_resuming(&devices[2].token).await {
            Ok(ws) => {
                open.push(ws);
                break;
            }
            Err(error) => assert!(tokio::time::Instant::now() < deadline, "no place freed: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refusal(&api, &devices[2]).await, too_many, "and only that one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_closes_with_4001_when_its_session_expires_and_sends_nothing_after() {
    let server = support::start(TestBackend::Sqlite, &[("JWT_EXPIRATION", "6s")]).await.expect("SQLite");
    let api = server.client();
    let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ws = api.ws(&asha.token).await;
    let ack = ws.send_message("before", &chat, "while logged in", "c1").await;
    assert_eq!(ack["type"], "ack", "{ack}");

    let (frames, end) = ws.frames_until_end(Duration::from_secs(10)).await;
    assert_eq!(end, SocketEnd::Closed(Some(4001)), "frames before the end: {frames:?}");
    assert!(frames.iter().any(|f| f["payload"]["code"] == "session_expired"), "told why: {frames:?}");
    // Ravi's first token has expired too: he logs in again to look.
    let ravi = api.login("9876543211", "Ravi").await;
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 1, "nothing was sent after expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_come_in_the_order_the_frames_were_sent() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ws = api.ws(&asha.token).await;

    let message = |id: &str| {
        json!({"id": id, "type": "message", "room_id": chat,
               "payload": {"content": id, "content_type": "text", "client_msg_id": id}})
    };
    let typing = |id: &str| json!({"id": id, "type": "typing", "room_id": chat, "payload": {"typing": true}});
    let frames = [
        message("m1"),
        typing("t1"),
        json!({"id": "r1", "type": "resume", "payload": {"chats": {}}}),
        message("m2"),
        json!({"id": "u1", "type": "no_such_type"}),
        json!({"id": "s1", "type": "status_update", "room_id": chat, "payload": {"status": "read", "seq": 0}}),
        typing("t2"),
    ];
    for frame in &frames {
        ws.send_json(frame.clone()).await;
    }
    let mut answered = Vec::new();
    while answered.len() < frames.len() {
        let frame = ws.next_json().await;
        if let Some(id) = frame["id"].as_str() {
            answered.push(id.to_owned());
        }
    }
    assert_eq!(answered, ["m1", "t1", "r1", "m2", "u1", "s1", "t2"]);
}
