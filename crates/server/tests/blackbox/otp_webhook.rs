//! Black-box: with OTP_WEBHOOK_URL, login codes go to the SMS gateway's webhook,
//! a person logs in with the code it received, and the code never reaches the log.

use crate::support;
use chitchat_testkit::{TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A stand-in SMS gateway: records each request (authorization header, JSON body)
/// and answers with the status set in `status`.
async fn gateway() -> (String, mpsc::UnboundedReceiver<(String, Value)>, Arc<AtomicU16>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let status = Arc::new(AtomicU16::new(200));
    let answer = status.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, body) = loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if raw.len() >= end + 4 + length {
                        break (text[..end].to_owned(), raw[end + 4..end + 4 + length].to_vec());
                    }
                }
            };
            let auth =
                head.lines().find_map(|l| l.strip_prefix("authorization: ").map(str::to_owned)).unwrap_or_default();
            let _ = tx.send((auth, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            let code = answer.load(Ordering::Relaxed);
            let reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    (url, rx, status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_go_to_the_webhook_and_never_to_the_log() {
    let (url, mut sent, status) = gateway().await;
    let env = [("OTP_WEBHOOK_URL", url.as_str()), ("OTP_WEBHOOK_TOKEN", "gateway-secret"), ("OTP_FIXED_CODE", "")];
    let server = TestServer::start_with_env(support::BINARY, TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();

    let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "98765 43210"}))).await;
    assert_eq!(otp.status, StatusCode::ACCEPTED);
    let (auth, body) = sent.recv().await.expect("the gateway got the code");
    assert_eq!(auth, "Bearer gateway-secret");
    assert_eq!(body["phone"], "+919876543210");
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    let login = api
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"phone": "9876543210", "name": "Asha", "code": code})),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    assert!(!server.log_text().contains(&code), "the code is not in the log");

    // A gateway that fails: the caller hears so, without details.
    status.store(500, Ordering::Relaxed);
    let failed = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543211"}))).await;
    assert_eq!((failed.status, failed.error_code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"));
    let (_, body) = sent.recv().await.unwrap();
    assert!(!server.log_text().contains(body["code"].as_str().unwrap()));
}
