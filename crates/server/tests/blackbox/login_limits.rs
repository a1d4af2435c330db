//! Black-box: the per-phone login limits hold under concurrency, the way an
//! attacker would try them: a burst of wrong codes on separate connections checks
//! at most five of them (and then even the right code is refused), and a burst of
//! code requests sends exactly one code, also when spread over two instances.

use crate::support;
use chitchat_testkit::server::TEST_OTP_CODE;
use chitchat_testkit::{TestBackend, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Barrier};

on_both_backends!(wrong_codes_sent_at_once_check_at_most_five, the_right_code_in_a_burst_of_wrong_ones_is_one_of_five);

const PHONE: &str = "9876543210";

/// Sends every `(url, body)` at the same moment, each on a connection of its own,
/// and returns the answers (status and error code) in order.
async fn burst(requests: Vec<(String, Value)>) -> Vec<(StatusCode, String)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(url, body)| {
            let barrier = barrier.clone();
            // A client each: no connection is shared, as from many attackers' machines.
            let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
            tokio::spawn(async move {
                barrier.wait().await;
                let reply = client.post(url).json(&body).send().await.unwrap();
                let status = reply.status();
                let body: Value = reply.json().await.unwrap_or(Value::Null);
                (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn register(server: &TestServer, code: &str) -> (String, Value) {
    (format!("{}/api/auth/register", server.base_url), json!({"phone": PHONE, "name": "Asha", "code": code}))
}

fn wrong_code(i: usize) -> String {
    format!("{:06}", 900_000 + i)
}

fn count(answers: &[(StatusCode, String)], status: StatusCode, code: &str) -> usize {
    answers.iter().filter(|(s, c)| *s == status && c == code).count()
}

async fn request_code(server: &TestServer) {
    let reply = server.client().call(reqwest::Method::POST, "/api/auth/otp", None, Some(json!({"phone": PHONE}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
}

async fn wrong_codes_sent_at_once_check_at_most_five(server: TestServer) {
    request_code(&server).await;
    let answers = burst((0..60).map(|i| register(&server, &wrong_code(i))).collect()).await;
    let checked = count(&answers, StatusCode::UNAUTHORIZED, "invalid_code");
    let locked = count(&answers, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    assert_eq!((checked, locked), (5, 55), "five codes checked, the rest refused unchecked: {answers:?}");

    let right = server
        .client()
        .call(reqwest::Method::POST, "/api/auth/register", None, Some(register(&server, TEST_OTP_CODE).1))
        .await;
    assert_eq!((right.status, right.error_code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
}

/// The attack as it was seen: the right code hidden in a burst of wrong ones. The
/// right code gets in only when it is one of the five tries let through (about one
/// burst in twenty here), and then the tries that come after it find no code to
/// compare; otherwise exactly five codes are compared and the rest, the right one
/// included, are refused unchecked. Before tries were counted first, the right code
/// got in nearly every time, after dozens of wrong codes had been compared.
async fn the_right_code_in_a_burst_of_wrong_ones_is_one_of_five(server: TestServer) {
    const ROUNDS: usize = 6;
    let mut logins = 0;
    for round in 0..ROUNDS {
        request_code(&server).await;
        let mut requests: Vec<_> = (0..99).map(|i| register(&server, &wrong_code(i))).collect();
        requests.insert(50, register(&server, TEST_OTP_CODE));
        let answers = burst(requests).await;
        let checked = count(&answers, StatusCode::UNAUTHORIZED, "invalid_code");
        let locked = count(&answers, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
        let logged_in = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert!(logged_in <= 1, "round {round}: {answers:?}");
        assert_eq!(checked + locked + logged_in, 100, "round {round}: {answers:?}");
        if logged_in == 0 {
            assert_eq!((checked, locked), (5, 95), "round {round}: five compared, the right code refused: {answers:?}");
        }
        logins += logged_in;
    }
    // With five tries of a hundred let through, the right code is among them in all
    // six bursts about once in 60 million runs (three bursts would fail a run in 8,000).
    assert!(logins < ROUNDS, "the right code got in through every burst");
}

/// A stand-in SMS gateway that counts the codes it is asked to send.
async fn gateway() -> (String, mpsc::UnboundedReceiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if raw.len() >= end + 4 + length {
                        break raw[end + 4..end + 4 + length].to_vec();
                    }
                };
                let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    (url, rx)
}

/// Thirty requests for one phone at once, spread over `servers`: one code is sent,
/// the others are told to wait.
async fn thirty_requests_send_one_code(servers: &[TestServer], mut sent: mpsc::UnboundedReceiver<Value>) {
    let requests = (0..30)
        .map(|i| {
            let server = &servers[i % servers.len()];
            // Every spelling of the number is the same phone.
            let phone = if i % 2 == 0 { PHONE } else { "+91 98765 43210" };
            (format!("{}/api/auth/otp", server.base_url), json!({"phone": phone}))
        })
        .collect();
    let answers = burst(requests).await;
    let accepted = answers.iter().filter(|(s, _)| *s == StatusCode::ACCEPTED).count();
    let refused = count(&answers, StatusCode::TOO_MANY_REQUESTS, "code_recently_sent");
    assert_eq!((accepted, refused), (1, 29), "{answers:?}");
    // The gateway is called before the request is answered: every code is in.
    let mut codes = Vec::new();
    while let Ok(body) = sent.try_recv() {
        codes.push(body);
    }
    assert_eq!(codes.len(), 1, "one text message: {codes:?}");
    assert_eq!(codes[0]["phone"], "+919876543210");
}

fn gateway_env(url: &str) -> [(&str, &str); 3] {
    [("OTP_WEBHOOK_URL", url), ("OTP_FIXED_CODE", ""), ("OTP_RESEND_COOLDOWN", "30s")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_code_requests_sends_one_code_on_sqlite() {
    let (url, sent) = gateway().await;
    let server = support::start(TestBackend::Sqlite, &gateway_env(&url)).await.expect("SQLite");
    thirty_requests_send_one_code(&[server], sent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_code_requests_over_two_instances_sends_one_code_on_postgres() {
    let (url, sent) = gateway().await;
    let Some(servers) = TestServer::start_cluster(support::BINARY, 2, &gateway_env(&url)).await else { return };
    thirty_requests_send_one_code(&servers, sent).await;
}
