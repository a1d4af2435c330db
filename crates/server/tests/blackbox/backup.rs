//! Black-box: `chitchat backup PATH` of a SQLite server under traffic, restored
//! into a fresh directory as docs/operations.md says, and served again: every
//! message and upload acknowledged before the backup began is there, and the
//! devices logged in before it stay logged in (the generated secret is part of
//! the backup). On PostgreSQL the command refuses and names pg_dump.

use crate::support;
use chitchat_testkit::{ApiClient, Login, TestBackend, TestServer};
use serde_json::json;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server acknowledged, and when.
#[derive(Default)]
struct Acked {
    /// Message id, chat id.
    messages: Vec<(Instant, String, String)>,
    /// Upload id, its uploader's token, its bytes.
    uploads: Vec<(Instant, String, String, Vec<u8>)>,
}

/// A file of `len` bytes that is different for each `n` (and not text).
fn file(n: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 131 + n * 17 + i / 251) % 256) as u8).collect()
}

async fn backup_command(server: &TestServer, target: &Path) -> Output {
    tokio::process::Command::new(support::BINARY)
        .args(["backup", target.to_str().unwrap()])
        .env_clear()
        .env("DATABASE_URL", &server.database_url)
        .env("DATA_DIR", server.data_dir())
        .output()
        .await
        .expect("the binary runs")
}

/// Sends texts in `chat` until told to stop.
fn keep_sending(api: ApiClient, who: Login, chat: String, acked: Arc<Mutex<Acked>>, stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let sent = api.send_text(&who, &chat, &format!("message {n}"), None).await;
            assert_eq!(sent.status, 201, "{:?}", sent.body);
            let id = sent.body["id"].as_str().unwrap().to_owned();
            acked.lock().unwrap().messages.push((Instant::now(), id, chat.clone()));
        }
    });
}

/// Uploads files and sends each in `chat` until told to stop.
fn keep_uploading(api: ApiClient, who: Login, chat: String, acked: Arc<Mutex<Acked>>, stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let bytes = file(n, 50_000 + n * 1_000);
            let uploaded = api.upload(&who.token, &format!("notes-{n}.bin"), bytes.clone()).await;
            assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
            let id = uploaded.body["id"].as_str().unwrap().to_owned();
            acked.lock().unwrap().uploads.push((Instant::now(), id.clone(), who.token.clone(), bytes));
            let body = json!({ "chat_id": chat, "content_type": "document", "content": "", "attachment_ids": [id] });
            let sent = api.post("/api/messages", &who.token, body).await;
            assert_eq!(sent.status, 201, "{:?}", sent.body);
            let message = sent.body["id"].as_str().unwrap().to_owned();
            acked.lock().unwrap().messages.push((Instant::now(), message, chat.clone()));
        }
    });
}

/// Every message id of `chat`, oldest first, paging forward.
async fn message_ids(api: &ApiClient, reader: &Login, chat: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/api/messages?chat_id={chat}&after_seq={after}&limit=100");
        let page = api.get(&path, &reader.token).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let messages = page.body["messages"].as_array().unwrap().clone();
        if messages.is_empty() {
            return ids;
        }
        for message in &messages {
            ids.push(message["id"].as_str().unwrap().to_owned());
            after = after.max(message["seq"].as_i64().unwrap());
        }
    }
}

/// Copies a directory tree: the restore step of docs/operations.md.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_traffic_restores_every_acknowledged_message_login_and_file() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let asha = api.login("9876500201", "Asha").await;
    let bilal = api.login("9876500202", "Bilal").await;
    let chen = api.login("9876500203", "Chen").await;
    let dev = api.login("9876500204", "Dev").await;
    let first = api.direct_chat(&asha, &bilal.user_id()).await;
    let second = api.direct_chat(&chen, &dev.user_id()).await;

    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    keep_sending(server.client(), asha.clone(), first.clone(), acked.clone(), stop.clone());
    keep_sending(server.client(), dev.clone(), second.clone(), acked.clone(), stop.clone());
    keep_uploading(server.client(), bilal.clone(), first.clone(), acked.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("backup");
    let began = Instant::now();
    let out = backup_command(&server, &target).await;
    let ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("backup complete"), "{report}");

    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let during = acked.messages.iter().filter(|(at, ..)| *at > began && *at < ended).count();
    assert!(during > 0, "messages were acknowledged while the backup ran");
    let before: Vec<_> = acked.messages.iter().filter(|(at, ..)| *at < began).collect();
    let uploads_before: Vec<_> = acked.uploads.iter().filter(|(at, ..)| *at < began).collect();
    assert!(
        before.len() > 10 && uploads_before.len() > 2,
        "{} messages, {} uploads",
        before.len(),
        uploads_before.len()
    );

    // Restore: the backup's contents become the DATA_DIR of a new server.
    drop(server);
    let restored = work.path().join("restored");
    copy_tree(&target, &restored);
    let database_url = format!("sqlite://{}", restored.join("chitchat.db").display());
    let restored_dir = restored.to_str().unwrap().to_owned();
    let again = TestServer::start_on_database(support::BINARY, database_url, &[("DATA_DIR", &restored_dir)]).await;
    let api = again.client();

    for login in [&asha, &bilal, &chen, &dev] {
        let me = api.get("/api/users/me", &login.token).await;
        assert_eq!(me.status, 200, "the device is still logged in: {:?}", me.body);
        assert_eq!(me.body["user"]["id"], login.user["id"]);
    }
    let mut found = message_ids(&api, &asha, &first).await;
    found.extend(message_ids(&api, &chen, &second).await);
    for (_, id, chat) in &before {
        assert!(found.contains(id), "message {id} of chat {chat}, acknowledged before the backup, is restored");
    }
    for (_, id, token, bytes) in uploads_before {
        let response = api.get_raw(&format!("/api/attachments/{id}"), token, &[]).await;
        assert_eq!(response.status(), 200, "upload {id}");
        assert!(response.bytes().await.unwrap().to_vec() == *bytes, "upload {id}: the same bytes");
    }
    let restored_log = again.log_text();
    assert!(!restored_log.contains("generated a token signing secret"), "{restored_log}");
}

#[test]
fn a_backup_refuses_a_directory_in_use_and_postgres_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("something"), b"x").unwrap();
    let run = |database_url: &str| {
        std::process::Command::new(support::BINARY)
            .args(["backup", dir.path().to_str().unwrap()])
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let postgres = run("postgres://postgres@127.0.0.1:5432/anything");
    assert_eq!(postgres.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
    let sqlite = format!("sqlite://{}", dir.path().join("chitchat.db").display());
    let not_empty = run(&sqlite);
    assert_eq!(not_empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_empty.stderr).contains("empty"), "{:?}", not_empty);
}
