//! Black-box: JSON and the web client's files come compressed (gzip or brotli, as
//! the client accepts) and read back the same; WebSocket frames and attachment
//! downloads do not.

use crate::support;
use chitchat_testkit::TestBackend;
use std::io::Read;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut plain).expect("valid gzip");
    plain
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 4096).read_to_end(&mut plain).expect("valid brotli");
    plain
}

async fn fetch(
    api: &chitchat_testkit::ApiClient,
    path: &str,
    token: Option<&str>,
    encoding: &str,
) -> (Option<String>, Vec<u8>) {
    let response = api.get_raw_as(path, token, &[("accept-encoding", encoding)]).await;
    assert!(response.status().is_success(), "{path}: {}", response.status());
    let used = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    (used, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_web_files_are_compressed_and_sockets_and_files_are_not() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for n in 0..20 {
        api.send_text(&asha, &chat, &format!("a message long enough to be worth compressing, number {n}"), None).await;
    }
    let history = format!("/api/messages?chat_id={chat}&limit=50");

    for path in ["/", "/app.js", "/style.css", "/api/openapi.json"] {
        let (none, plain) = fetch(&api, path, None, "identity").await;
        assert_eq!(none, None, "{path}");
        let (br, compressed) = fetch(&api, path, None, "br").await;
        assert_eq!(br.as_deref(), Some("br"), "{path}");
        assert!(compressed.len() < plain.len(), "{path}: {} !< {}", compressed.len(), plain.len());
        assert_eq!(unbrotli(&compressed), plain, "{path}");
        let (gzip, compressed) = fetch(&api, path, None, "gzip").await;
        assert_eq!(gzip.as_deref(), Some("gzip"), "{path}");
        assert_eq!(gunzip(&compressed), plain, "{path}");
    }
    let (_, plain) = fetch(&api, &history, Some(&ravi.token), "identity").await;
    let (gzip, compressed) = fetch(&api, &history, Some(&ravi.token), "gzip, br").await;
    assert!(gzip.is_some(), "the message history is compressed");
    let decoded = if gzip.as_deref() == Some("br") { unbrotli(&compressed) } else { gunzip(&compressed) };
    assert_eq!(decoded, plain);
    let messages: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert!(messages.to_string().contains("number 19"));

    // A file comes as stored, with its length, whatever the client accepts.
    let file = b"plain text that would compress well ".repeat(200);
    let upload = api.upload(&asha.token, "notes.txt", file.clone()).await;
    assert_eq!(upload.status, 201, "{}", upload.body);
    let id = upload.body["id"].as_str().unwrap().to_owned();
    let download =
        api.get_raw(&format!("/api/attachments/{id}"), &asha.token, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(download.status(), 200);
    assert!(download.headers().get("content-encoding").is_none_or(|v| v == "identity"));
    assert_eq!(download.headers()["content-length"], file.len().to_string().as_str());
    assert_eq!(download.bytes().await.unwrap().to_vec(), file);

    // A browser's upgrade asks for compression too; the socket works all the same.
    let mut ws = api.ws_accepting_compression(&ravi.token).await;
    let ack = ws.send_message("f1", &chat, "over a socket asked with accept-encoding", "c-compress").await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_has_one_access_log_line_with_its_id_and_never_a_token() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, _ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let marked = api
        .get_raw(&format!("/api/messages?chat_id={chat}&limit=5"), &asha.token, &[("x-request-id", "access-log-7")])
        .await;
    assert_eq!(marked.status(), 200);
    // The WebSocket URL carries the token in its query; the log line must not.
    let ws = api.ws(&asha.token).await;
    drop(ws);
    let log = log_once_it_shows(&server, "access-log-7").await;
    let line = log.lines().find(|line| line.contains("access-log-7") && line.contains("status")).expect("access line");
    assert!(line.contains("path=/api/messages"), "{line}");
    assert!(line.contains("status=200"), "{line}");
    assert!(!line.contains("limit=5") && !line.contains(&chat), "queries are left out: {line}");
    let all = server.log_text();
    assert!(all.lines().any(|l| l.contains("path=/ws")), "the upgrade is logged:\n{all}");
    assert!(!all.contains(&asha.token), "a token reached the log");
}

/// The server's log, once it shows `marker` (lines are read as the server writes them).
async fn log_once_it_shows(server: &chitchat_testkit::TestServer, marker: &str) -> String {
    for _ in 0..50 {
        let log = server.log_text();
        if log.contains(marker) {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{marker} never logged:\n{}", server.log_text());
}
