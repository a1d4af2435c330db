//! Black-box: WebSocket input that breaks the rules. Frames that are sound
//! WebSocket but not sound ChitChat (binary, not a JSON object, deeply nested,
//! wrong payloads, steps out of order) get an `error` frame and the socket lives
//! on; frames that break the WebSocket protocol itself (oversized, fragments out
//! of order, invalid UTF-8, unmasked, reserved opcodes and bits, bad control
//! frames) close that one socket: 1009 for a frame over the size limit (refused on
//! the length its header announces), 1007 for text that is not UTF-8, 1002 for the
//! rest. The server never panics, logs nothing a client causes above WARN, and the
//! other sockets, of other people and of the same person, carry on untouched.

use crate::support;
use chitchat_testkit::ws_frame::coding::{Data, OpCode};
use chitchat_testkit::ws_frame::Frame;
use chitchat_testkit::{ApiClient, Login, SocketEnd, TestBackend, TestServer, WsClient};
use serde_json::{json, Value};
use std::time::Duration;

/// `WS_MAX_MESSAGE_SIZE` for these tests: small, so that oversized frames are
/// quick to send, and above the 64 KiB content limit.
const MAX_FRAME: usize = 100 * 1024;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_NOT_UTF8: u16 = 1007;
const CLOSE_PROTOCOL: u16 = 1002;

async fn start() -> TestServer {
    support::start(TestBackend::Sqlite, &[("WS_MAX_MESSAGE_SIZE", &MAX_FRAME.to_string())]).await.expect("SQLite")
}

struct Chat {
    api: ApiClient,
    asha: Login,
    ravi: Login,
    id: String,
}

async fn chat(server: &TestServer) -> Chat {
    let api = server.client();
    let (asha, ravi, id) = api.asha_and_ravi_in_a_chat().await;
    Chat { api, asha, ravi, id }
}

fn text(data: impl Into<Vec<u8>>, is_final: bool) -> Frame {
    Frame::message(data.into(), OpCode::Data(Data::Text), is_final)
}

/// The next frame, which must be an `error` of `code`; returns its `id`.
async fn expect_error(ws: &mut WsClient, code: &str, what: &str) -> Value {
    let frame = ws.next_json().await;
    assert_eq!((frame["type"].as_str(), frame["payload"]["code"].as_str()), (Some("error"), Some(code)), "{what}");
    frame["id"].clone()
}

/// The others still send and receive, and the server has not panicked.
async fn others_carry_on(server: &TestServer, chat: &Chat, bystanders: &mut [WsClient], text: &str) {
    let sent = chat.api.send_text(&chat.ravi, &chat.id, text, None).await;
    assert!(sent.status.is_success(), "{:?}", sent.body);
    for ws in bystanders {
        ws.next_where("message", |f| f["payload"]["content"] == text).await;
    }
    let health = chat.api.call(reqwest::Method::GET, "/health", None, None).await;
    assert_eq!(health.status, reqwest::StatusCode::OK);
    assert!(!server.log_text().contains("panicked"), "{}", server.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_that_are_not_chitchat_frames_get_errors_and_the_socket_lives() {
    let server = start().await;
    let chat = chat(&server).await;
    let mut ravi_ws = chat.api.ws(&chat.ravi.token).await;
    let mut ws = chat.api.ws(&chat.asha.token).await;
    let room = chat.id.as_str();

    ws.send_frame(Frame::message(b"{\"type\":\"typing\"}".to_vec(), OpCode::Data(Data::Binary), true)).await;
    assert_eq!(expect_error(&mut ws, "invalid_frame", "binary").await, Value::Null);
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let not_frames =
        ["", "[]", "42", "\"message\"", "null", "{}", "{\"type\": 7}", "{\"id\": \"x\"}", "{\"type\"", &deep];
    for raw in not_frames {
        ws.send_text(raw).await;
        expect_error(&mut ws, "invalid_frame", &raw[..raw.len().min(20)]).await;
    }

    let any_id = json!({"any": ["json", 1]});
    let wrong = [
        (json!({"id": any_id, "type": "teleport"}), "unknown_type"),
        (json!({"id": "p1", "type": "status_update", "room_id": room}), "invalid_payload"),
        (
            json!({"id": "p2", "type": "status_update", "room_id": room, "payload": {"status": "read", "seq": "1"}}),
            "invalid_payload",
        ),
        (
            json!({"id": "p3", "type": "status_update", "room_id": room, "payload": {"status": "seen", "seq": 1}}),
            "invalid_status",
        ),
        (
            json!({"id": "p4", "type": "status_update", "room_id": room, "payload": {"status": "read", "seq": 0}}),
            "invalid_seq",
        ),
        (json!({"id": "p5", "type": "typing", "room_id": room, "payload": {"typing": "yes"}}), "invalid_payload"),
        (json!({"id": "p6", "type": "message", "room_id": room, "payload": "hello"}), "invalid_payload"),
        (json!({"id": "p7", "type": "resume", "payload": {"chats": {room: "7"}}}), "invalid_payload"),
        (
            json!({"id": "p8", "type": "message", "room_id": "not-a-chat", "payload": {"content": "hi"}}),
            "chat_not_found",
        ),
        (json!({"id": "p9", "type": "message", "payload": {"content": "hi"}}), "chat_not_found"),
        (json!({"id": "p11", "type": "typing", "room_id": 5, "payload": {"typing": true}}), "chat_not_found"),
        (
            json!({"id": "p12", "type": "status_update", "room_id": [room], "payload": {"status": "read", "seq": 1}}),
            "chat_not_found",
        ),
        (
            json!({"id": "p10", "type": "message", "room_id": room, "payload": {"content": "x".repeat(64 * 1024 + 1)}}),
            "content_too_large",
        ),
    ];
    for (frame, code) in wrong {
        ws.send_json(frame.clone()).await;
        assert_eq!(expect_error(&mut ws, code, code).await, frame["id"], "the error echoes the frame's id");
    }

    // Steps out of their usual order: a receipt for messages that do not exist yet
    // (which must not mark later ones read), an answer to a ping nobody sent.
    ws.send_json(
        json!({"id": "early", "type": "status_update", "room_id": room, "payload": {"status": "read", "seq": 99}}),
    )
    .await;
    assert_eq!(ws.next_json().await, json!({"type": "ack", "id": "early"}));
    ws.send_frame(Frame::pong(b"unasked".to_vec())).await;
    let later = chat.api.send_text(&chat.ravi, room, "sent after that receipt", None).await;
    let history = chat.api.get(&format!("/api/messages?chat_id={room}"), &chat.ravi.token).await;
    assert_eq!(history.body["messages"][0]["status"], "sent", "{:?}", later.body);
    let list = chat.api.get("/api/chats", &chat.asha.token).await;
    assert_eq!(list.body["chats"][0]["unread_count"], 1);

    let ack = ws.send_message("ok", room, "still connected", "c-1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let contents: Vec<Value> = ravi_ws.collect_of_type("message", Duration::from_millis(500)).await;
    let contents: Vec<&str> = contents.iter().map(|f| f["payload"]["content"].as_str().unwrap()).collect();
    assert_eq!(contents, vec!["sent after that receipt", "still connected"], "only valid messages reached the chat");
    others_carry_on(&server, &chat, &mut [ravi_ws, ws], "and on").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resuming_socket_whose_first_frame_is_not_resume_is_answered_and_goes_live() {
    let server = start().await;
    let chat = chat(&server).await;
    let mut ws = chat.api.ws_resuming(&chat.asha.token).await;
    let ack = ws.send_message("first", &chat.id, "before any resume", "c-1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    chat.api.send_text(&chat.ravi, &chat.id, "live", None).await;
    let live = ws.next_where("message", |f| f["payload"]["content"] == "live").await;
    assert_eq!(live["event_seq"], 2);
}

/// Opens a socket of Asha's, sends `frames` and tells how the socket ended.
async fn end_after(chat: &Chat, frames: Vec<Frame>) -> SocketEnd {
    let mut ws = chat.api.ws(&chat.asha.token).await;
    for frame in frames {
        ws.send_frame(frame).await;
    }
    ws.wait_for_end(Duration::from_secs(5)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_that_break_the_websocket_protocol_close_that_socket_only() {
    let server = start().await;
    let chat = chat(&server).await;
    let mut bystanders = vec![chat.api.ws(&chat.ravi.token).await, chat.api.ws(&chat.asha.token).await];
    let oversized = format!("{{\"type\":\"typing\",\"pad\":\"{}\"}}", "x".repeat(MAX_FRAME));
    let too_long_ping = Frame::ping(vec![0u8; 126]);
    let mut fragmented_ping = Frame::ping(b"a".to_vec());
    fragmented_ping.header_mut().is_final = false;
    let mut reserved_bit = text(&b"{}"[..], true);
    reserved_bit.header_mut().rsv1 = true;

    let cases: Vec<(&str, Vec<Frame>, u16)> = vec![
        ("a frame over WS_MAX_MESSAGE_SIZE", vec![text(oversized, true)], CLOSE_TOO_BIG),
        (
            "a continuation with no message begun",
            vec![Frame::message(b"{}".to_vec(), OpCode::Data(Data::Continue), true)],
            CLOSE_PROTOCOL,
        ),
        (
            "a new message inside a fragmented one",
            vec![text(&b"{\"type\":"[..], false), text(&b"{}"[..], true)],
            CLOSE_PROTOCOL,
        ),
        ("text that is not UTF-8", vec![text(vec![b'"', 0xff, 0xfe, b'"'], true)], CLOSE_NOT_UTF8),
        (
            "a reserved opcode",
            vec![Frame::message(b"{}".to_vec(), OpCode::Data(Data::Reserved(3)), true)],
            CLOSE_PROTOCOL,
        ),
        ("a reserved bit", vec![reserved_bit], CLOSE_PROTOCOL),
        ("a ping over 125 bytes", vec![too_long_ping], CLOSE_PROTOCOL),
        ("a fragmented ping", vec![fragmented_ping], CLOSE_PROTOCOL),
    ];
    for (what, frames, code) in cases {
        assert_eq!(end_after(&chat, frames).await, SocketEnd::Closed(Some(code)), "{what}");
    }
    // An unmasked frame (`{}` as text), which no client library would write.
    let mut ws = chat.api.ws(&chat.asha.token).await;
    ws.send_raw_bytes(&[0x81, 0x02, b'{', b'}']).await;
    assert_eq!(ws.wait_for_end(Duration::from_secs(5)).await, SocketEnd::Closed(Some(CLOSE_PROTOCOL)), "unmasked");

    others_carry_on(&server, &chat, &mut bystanders, "nobody else noticed").await;
}

/// A masked text frame header announcing `length` payload bytes, and a few of them.
fn announcing(length: u64) -> Vec<u8> {
    let mut bytes = vec![0x81, 0x80 | 127];
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(b"{\"type\":");
    bytes
}

/// A frame is refused on the length its header announces: the socket is closed at
/// once, without waiting for (and buffering) the payload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_announcing_more_than_the_limit_is_refused_on_its_header() {
    let server = start().await;
    let chat = chat(&server).await;
    for length in [MAX_FRAME as u64 + 1, 10 * 1024 * 1024, i64::MAX as u64] {
        let mut ws = chat.api.ws(&chat.asha.token).await;
        ws.send_raw_bytes(&announcing(length)).await;
        let end = ws.wait_for_end(Duration::from_secs(3)).await;
        assert_eq!(end, SocketEnd::Closed(Some(CLOSE_TOO_BIG)), "a header announcing {length} bytes");
    }
    let mut bystanders = vec![chat.api.ws(&chat.ravi.token).await];
    others_carry_on(&server, &chat, &mut bystanders, "still here").await;
}

/// What a client sends, however broken, is logged at WARN at most: a client must
/// not be able to raise the operator's alarms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_client_sends_is_logged_as_an_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start().await;
    let chat = chat(&server).await;
    let mut fragmented_ping = Frame::ping(b"a".to_vec());
    fragmented_ping.header_mut().is_final = false;
    end_after(&chat, vec![fragmented_ping]).await;
    end_after(&chat, vec![text(vec![0xff], true)]).await;
    let address = server.base_url.trim_start_matches("http://").to_owned();
    for request in [
        "GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_owned(),
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_owned(),
        format!(
            "GET /ws?token={} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            chat.asha.token
        ),
    ] {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), socket.read_to_end(&mut answer)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log_text();
    let errors: Vec<&str> = log.lines().filter(|line| line.contains(" ERROR ")).collect();
    assert!(errors.is_empty(), "client input logged as errors: {errors:#?}");
    assert!(log.contains("chitchat::peer"), "the library's complaint is still there, at WARN:\n{log}");
}

/// `WS_MAX_MESSAGE_SIZE` bounds a client frame however it is cut into WebSocket
/// fragments: two fragments under the limit that make a message over it close the
/// socket like one oversized fragment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_in_fragments_under_it_closes_the_socket() {
    let server = start().await;
    let chat = chat(&server).await;
    let piece = "x".repeat(MAX_FRAME * 3 / 5);
    let frames =
        vec![text(piece.clone(), false), Frame::message(piece.into_bytes(), OpCode::Data(Data::Continue), true)];
    assert_eq!(end_after(&chat, frames).await, SocketEnd::Closed(Some(CLOSE_TOO_BIG)));
}
