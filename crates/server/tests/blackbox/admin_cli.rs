//! Black-box: `chitchat admin ...` against the database of running servers.

use crate::support;
use chitchat_testkit::{SocketEnd, TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// Runs `chitchat admin ARGS` with `server`'s deployment settings; (exit ok, stdout, stderr).
fn admin(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(support::BINARY)
        .arg("admin")
        .args(args)
        .env_clear()
        .envs(server.command_env())
        .current_dir(server.data_dir())
        .output()
        .expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn admin_ok(server: &TestServer, args: &[&str]) -> String {
    let (ok, stdout, stderr) = admin(server, args);
    assert!(ok, "admin {args:?} failed: {stderr}");
    stdout
}

async fn try_login(api: &chitchat_testkit::ApiClient, phone: &str) -> (StatusCode, serde_json::Value) {
    let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({ "phone": phone }))).await;
    assert_eq!(otp.status, StatusCode::ACCEPTED, "asking for a code answers as usual: {:?}", otp.body);
    let reply =
        api.call(Method::POST, "/api/auth/register", None, Some(json!({ "phone": phone, "code": "123456" }))).await;
    (reply.status, reply.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_disable_closes_sockets_on_every_instance_refuses_login_and_enable_lets_them_in() {
    let Some(servers) = support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let ravi_phone = a.login("9876543211", "Ravi").await;
    let ravi_laptop = b.login("9876543211", "Ravi").await;
    let asha = a.login("9876543210", "Asha").await;
    let mut on_a = a.ws(&ravi_phone.token).await;
    let mut on_b = b.ws(&ravi_laptop.token).await;

    let out = admin_ok(&servers[0], &["users", "disable", "98765 43211"]);
    assert!(out.contains("disabled +919876543211") && out.contains("2 sessions ended"), "{out}");
    for ws in [&mut on_a, &mut on_b] {
        let (frames, end) = ws.frames_until_end(Duration::from_secs(5)).await;
        assert!(frames.iter().any(|f| f["type"] == "session_revoked"), "{frames:?}");
        assert!(matches!(end, SocketEnd::Closed(_) | SocketEnd::Dropped), "the socket ends at once: {end:?}");
    }
    let me = a.call(Method::GET, "/api/users/me", Some(&ravi_phone.token), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let (status, body) = try_login(&b, "9876543211").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "account_disabled");
    let asha_me = a.call(Method::GET, "/api/users/me", Some(&asha.token), None).await;
    assert_eq!(asha_me.status, StatusCode::OK, "nobody else is touched");

    let out = admin_ok(&servers[1], &["users", "enable", "+919876543211"]);
    assert!(out.contains("enabled +919876543211"), "{out}");
    let (status, body) = try_login(&a, "9876543211").await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let shown = admin_ok(&servers[0], &["users", "show", "9876543211"]);
    assert!(shown.contains("disabled:    no") && shown.contains("sessions:    1"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_cli_disable_closes_the_socket_at_its_next_ping() {
    let env = [("WS_PING_PERIOD", "1s"), ("WS_PONG_WAIT", "5s")];
    let Some(server) = support::start(TestBackend::Sqlite, &env).await else { return };
    let api = server.client();
    let ravi = api.login("9876543211", "Ravi").await;
    let asha = api.login("9876543210", "Asha").await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut asha_ws = api.ws(&asha.token).await;
    admin_ok(&server, &["users", "disable", "9876543211"]);
    let (frames, end) = ravi_ws.frames_until_end(Duration::from_secs(5)).await;
    assert!(frames.iter().any(|f| f["type"] == "session_revoked"), "{frames:?}");
    assert!(matches!(end, SocketEnd::Closed(_) | SocketEnd::Dropped), "{end:?}");
    assert_eq!(asha_ws.wait_for_end(Duration::from_secs(3)).await, SocketEnd::StillOpen, "others stay connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_revoked_one_or_all() {
    let Some(server) = support::start(TestBackend::Sqlite, &[]).await else { return };
    let api = server.client();
    let phone = api.login("9876543210", "Asha").await;
    let laptop = api.login("9876543210", "Asha").await;
    let listed = admin_ok(&server, &["sessions", "list", "9876543210"]);
    let ids: Vec<&str> = listed.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids.len(), 2, "{listed}");
    // Newest first: the laptop's session.
    let out = admin_ok(&server, &["sessions", "revoke", ids[0]]);
    assert!(out.contains("ended"), "{out}");
    assert_eq!(
        api.call(Method::GET, "/api/users/me", Some(&laptop.token), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(api.call(Method::GET, "/api/users/me", Some(&phone.token), None).await.status, StatusCode::OK);
    let (ok, _, stderr) = admin(&server, &["sessions", "revoke", ids[0]]);
    assert!(!ok && stderr.contains("session"), "an ended session cannot be revoked again: {stderr}");
    let out = admin_ok(&server, &["sessions", "revoke", "--all", "9876543210"]);
    assert!(out.contains("1 sessions"), "{out}");
    assert_eq!(api.call(Method::GET, "/api/users/me", Some(&phone.token), None).await.status, StatusCode::UNAUTHORIZED);
    let (ok, _, stderr) = admin(&server, &["users", "show", "9876549999"]);
    assert!(!ok && stderr.contains("no such user"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_the_json_and_the_uploaded_files_bytes() {
    let Some(server) = support::start(TestBackend::Sqlite, &[]).await else { return };
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    api.send_text(&ravi, &chat, "hello from Ravi", None).await;
    api.send_text(&asha, &chat, "hello from Asha", None).await;
    let bytes = b"%PDF-1.4 the contract of Asha".to_vec();
    let uploaded = api.upload(&asha.token, "contract.pdf", bytes.clone()).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{:?}", uploaded.body);
    let file_id = uploaded.body["id"].as_str().unwrap().to_owned();

    let path = server.data_dir().join("asha.tar");
    let out = admin_ok(&server, &["export", "9876543210", "-o", path.to_str().unwrap()]);
    assert!(out.contains("1 files"), "{out}");
    let mut archive = tar::Archive::new(std::fs::File::open(&path).unwrap());
    let mut json = None;
    let mut file = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        if name == "data.json" {
            json = Some(serde_json::from_slice::<serde_json::Value>(&content).unwrap());
        } else if name == format!("files/{file_id}") {
            file = Some(content);
        }
    }
    let json = json.expect("data.json");
    assert_eq!(file.as_deref(), Some(bytes.as_slice()), "the file's bytes");
    assert_eq!(json["profile"]["phone"], "+919876543210");
    let messages: Vec<&str> =
        json["chats"][0]["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(messages, ["hello from Ravi", "hello from Asha"], "the messages the person can see, oldest first");
    assert_eq!(json["files"][0]["id"], file_id.as_str());
    assert_eq!(json["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_users_messages_and_storage() {
    let Some(server) = support::start(TestBackend::Sqlite, &[]).await else { return };
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    for n in 0..3 {
        api.send_text(&asha, &chat, &format!("m{n}"), None).await;
    }
    api.send_text(&ravi, &chat, "back", None).await;
    api.upload(&asha.token, "note.txt", b"twelve bytes".to_vec()).await;
    admin_ok(&server, &["users", "disable", "9876543211"]);
    let out = admin_ok(&server, &["stats"]);
    assert!(out.contains("users:              2 (1 disabled)"), "{out}");
    assert!(out.contains("attachments:        1 files, 12 bytes"), "{out}");
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(out.contains(&format!("  {today}  4")), "{out}");
    assert_eq!(out.matches("\n  20").count(), 7, "seven days: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_frees_the_number_and_keeps_its_messages_for_others() {
    let Some(server) = support::start(TestBackend::Sqlite, &[]).await else { return };
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    api.send_text(&ravi, &chat, "hi Asha", None).await;
    let out = admin_ok(&server, &["users", "delete", "9876543211"]);
    assert!(out.contains("deleted the account"), "{out}");
    assert_eq!(api.call(Method::GET, "/api/users/me", Some(&ravi.token), None).await.status, StatusCode::UNAUTHORIZED);
    let history = api.get(&format!("/api/messages?chat_id={chat}"), &asha.token).await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.body.to_string().contains("hi Asha"), "{:?}", history.body);
    let fresh = api.login("9876543211", "New Ravi").await;
    assert_ne!(fresh.user_id(), ravi.user_id(), "the number makes a new account");
}
