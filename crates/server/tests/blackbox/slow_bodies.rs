//! Black-box, as a slowloris attacker would try it: raw TCP connections that
//! announce a large body and then send a few bytes, or drip one byte at a time.
//! The server answers 408 `body_timeout` and closes them within
//! `BODY_READ_TIMEOUT` (a stall) or `BODY_DEADLINE` (a drip), for JSON bodies,
//! uploads and oversized bodies being read away, while `/health` keeps
//! answering. With `MAX_CONNECTIONS_PER_IP`, one address cannot hold more open.

use crate::support;
use chitchat_testkit::{TestBackend, TestServer};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_TIMEOUT: &str = "1s";
const DEADLINE: &str = "3s";
/// Stated bounds, with room for a busy machine.
const STALL_ANSWERED_WITHIN: Duration = Duration::from_secs(4);
const DRIP_ANSWERED_WITHIN: Duration = Duration::from_secs(7);
const ENV: [(&str, &str); 2] = [("BODY_READ_TIMEOUT", READ_TIMEOUT), ("BODY_DEADLINE", DEADLINE)];

fn address(server: &TestServer) -> String {
    server.base_url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// A request head announcing `length` bytes of body, and the first bytes of it.
fn stalled_request(path: &str, content_type: &str, length: usize, token: Option<&str>, start: &[u8]) -> Vec<u8> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: chitchat\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{auth}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(start);
    request
}

/// Everything the server writes until it closes the connection, or None when it
/// is still open after `within`.
async fn answer_then_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(within, stream.read_to_end(&mut answer)).await;
    match read {
        Ok(Ok(_)) | Ok(Err(_)) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

fn assert_timed_out(answer: Option<String>, what: &str) {
    let answer = answer.unwrap_or_else(|| panic!("{what}: the connection is still open"));
    assert!(answer.starts_with("HTTP/1.1 408"), "{what}: {answer}");
    assert!(answer.contains("\"body_timeout\""), "{what}: {answer}");
}

async fn stalled_socket(server: &TestServer, request: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address(server)).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_are_answered_408_and_closed() {
    let server = support::start(TestBackend::Sqlite, &ENV).await.expect("SQLite");
    let api = server.client();
    let asha = api.login("9876543210", "Asha").await;
    let otp = stalled_request("/api/auth/otp", "application/json", 100_000, None, br#"{"phone":"#);
    // More than the JSON limit: the server reads it away to answer 413, and stalls there.
    let oversized =
        stalled_request("/api/messages", "application/json", 1_000_000, Some(&asha.token), &[b' '; 300_000]);
    let boundary = "slowloris";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n%PDF-1.4 secret"
    );
    let upload = stalled_request(
        "/api/attachments",
        &format!("multipart/form-data; boundary={boundary}"),
        5_000_000,
        Some(&asha.token),
        head.as_bytes(),
    );
    // An Upgrade header does not make a request a WebSocket.
    let mut upgrade =
        b"POST /api/auth/otp HTTP/1.1\r\nHost: chitchat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".to_vec();
    upgrade.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
    let cases =
        [("a login body", otp), ("an oversized body", oversized), ("an upload", upload), ("an upgrade", upgrade)];
    for (what, request) in cases {
        let started = Instant::now();
        let mut stream = stalled_socket(&server, &request).await;
        assert_timed_out(answer_then_close(&mut stream, STALL_ANSWERED_WITHIN).await, what);
        assert!(started.elapsed() >= Duration::from_millis(900), "{what}: not before BODY_READ_TIMEOUT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dripping_one_byte_at_a_time_meets_the_deadline() {
    let server = support::start(TestBackend::Sqlite, &ENV).await.expect("SQLite");
    let mut stream =
        stalled_socket(&server, &stalled_request("/api/auth/otp", "application/json", 100_000, None, b"{")).await;
    let (mut reader, mut writer) = stream.split();
    let drip = async {
        // Each byte well within the read timeout: only the deadline can end it.
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let mut answer = Vec::new();
    let read = async { tokio::time::timeout(DRIP_ANSWERED_WITHIN, reader.read_to_end(&mut answer)).await };
    let closed = tokio::select! {
        read = read => read.is_ok(),
        () = drip => true,
    };
    assert!(closed, "the connection is still open");
    if !answer.is_empty() {
        assert_timed_out(Some(String::from_utf8_lossy(&answer).into_owned()), "a dripping body");
    }
}

/// Two hundred stalled bodies from one address: /health still answers, and every
/// one of them is answered and closed within the stated time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_many_bodies_stall_and_all_of_them_are_closed() {
    let server = support::start(TestBackend::Sqlite, &ENV).await.expect("SQLite");
    let request = stalled_request("/api/auth/otp", "application/json", 100_000, None, br#"{"phone":"#);
    let opened = Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..200 {
        sockets.push(stalled_socket(&server, &request).await);
    }
    let health = reqwest::get(format!("{}/health", server.base_url)).await.unwrap();
    assert_eq!(health.status(), 200, "/health while 200 bodies stall");
    // The sockets stalled together, so one bound covers them all.
    let all_closed_by = opened + STALL_ANSWERED_WITHIN + Duration::from_secs(2);
    for socket in &mut sockets {
        let left = all_closed_by.saturating_duration_since(Instant::now());
        assert_timed_out(answer_then_close(socket, left).await, "one of 200 stalled bodies");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_more_than_max_connections_per_ip() {
    let env = [("MAX_CONNECTIONS_PER_IP", "5")];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    // Five connections, each answered once (so surely counted), then held open.
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut socket = stalled_socket(&server, b"GET /health HTTP/1.1\r\nHost: chitchat\r\n\r\n").await;
        let mut answer = [0u8; 1024];
        let read = socket.read(&mut answer).await.unwrap();
        assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..read]));
        held.push(socket);
    }
    // The sixth is refused at its first request and closed.
    let mut sixth = stalled_socket(&server, b"GET /health HTTP/1.1\r\nHost: chitchat\r\n\r\n").await;
    let answer = answer_then_close(&mut sixth, Duration::from_secs(5)).await;
    let answer = answer.unwrap_or_else(|| panic!("still open; the server's log:\n{}", server.log_text()));
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("\"too_many_connections\""), "{answer}");
    // Once some close, the address may connect again.
    held.truncate(3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = reqwest::get(format!("{}/health", server.base_url)).await.unwrap();
    assert_eq!(health.status(), 200, "with two connections given back");
}

/// A WebSocket is not a request body: silent for longer than BODY_READ_TIMEOUT
/// and open for longer than BODY_DEADLINE, it still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_outlives_both_body_clocks() {
    let server = support::start(TestBackend::Sqlite, &ENV).await.expect("SQLite");
    let api = server.client();
    let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut socket = api.ws(&asha.token).await;
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let ack = socket.send_message("f1", &chat, "still here", "m1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
}
