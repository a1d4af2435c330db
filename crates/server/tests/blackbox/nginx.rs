//! Black-box: two instances behind nginx, proxying with the project's own rules
//! (deploy/nginx/chitchat-locations.conf): a chat runs through the load balancer,
//! WebSocket included, and carries on when one instance stops; `/metrics` is not
//! reachable through it.

use crate::support;
use chitchat_testkit::services::skip_or_fail;
use chitchat_testkit::{ApiClient, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// nginx on 127.0.0.1:`port` balancing `upstreams` with the deployment's proxy rules.
struct Nginx {
    _dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Nginx {
    async fn start(upstreams: &[&str]) -> Option<Self> {
        let locations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx/chitchat-locations.conf");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let servers: String =
            upstreams.iter().map(|u| format!("        server {u} max_fails=1 fail_timeout=30s;\n")).collect();
        let conf = format!(
            "user root;\nworker_processes 1;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\nevents {{ worker_connections 256; }}\n\
             http {{\n    access_log off;\n    client_body_temp_path {dir}/body;\n    proxy_temp_path {dir}/proxy;\n\
                 fastcgi_temp_path {dir}/fastcgi;\n    uwsgi_temp_path {dir}/uwsgi;\n    scgi_temp_path {dir}/scgi;\n\
                 upstream chitchat {{\n{servers}    }}\n\
                 map $http_upgrade $chitchat_connection {{ default upgrade; '' ''; }}\n\
                 limit_req_zone $binary_remote_addr zone=chitchat_login:1m rate=60r/m;\n\
                 server {{\n        listen 127.0.0.1:{port};\n        proxy_http_version 1.1;\n\
                     proxy_set_header Host $host;\n        proxy_set_header Connection \"\";\n\
                     include {locations};\n    }}\n}}\n",
            dir = dir.path().display(),
            locations = locations.display(),
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let spawned = Command::new("nginx")
            // One process: a killed master would leave its worker running, holding the port and
            // every descriptor the test inherited.
            .args([
                "-p",
                &dir.path().display().to_string(),
                "-c",
                "nginx.conf",
                "-g",
                "daemon off; master_process off;",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) => return skip_or_fail("nginx (Debian package nginx-light)", error),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            assert!(tokio::time::Instant::now() < deadline, "nginx did not start:\n{log}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Self { _dir: dir, child, port })
    }

    fn client(&self) -> ApiClient {
        ApiClient::new(&format!("http://127.0.0.1:{}", self.port), &format!("ws://127.0.0.1:{}", self.port))
    }
}

fn address(server: &TestServer) -> String {
    server.base_url.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_runs_through_nginx_and_survives_an_instance_stopping() {
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &[]).await else { return };
    let upstreams = [address(&servers[0]), address(&servers[1])];
    let Some(mut nginx) = Nginx::start(&[&upstreams[0], &upstreams[1]]).await else { return };
    let lb = nginx.client();

    // The metrics need no token: the instances serve them, the public side does not.
    let metrics = |base: String| async move { reqwest::get(format!("{base}/metrics")).await.unwrap().status() };
    assert_eq!(metrics(servers[0].base_url.clone()).await, StatusCode::OK);
    assert_eq!(
        metrics(format!("http://127.0.0.1:{}", nginx.port)).await,
        StatusCode::NOT_FOUND,
        "nginx hides /metrics"
    );
    // The web client reaches browsers compressed.
    let script = lb.get_raw_as("/app.js", None, &[("accept-encoding", "gzip")]).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));

    let asha = lb.login("9876543210", "Asha").await;
    let ravi = lb.login("9876543211", "Ravi").await;
    let chat = lb.direct_chat(&asha, &ravi.user_id()).await;
    let mut ravi_ws = lb.ws_resuming(&ravi.token).await;
    ravi_ws.send_json(json!({"id": "r", "type": "resume", "payload": {"chats": {chat.clone(): 0}}})).await;
    assert_eq!(ravi_ws.next_json().await["id"], "r", "the WebSocket upgrade passes the proxy");
    assert_eq!(lb.send_text(&asha, &chat, "one", None).await.status, StatusCode::CREATED);
    assert_eq!(ravi_ws.next_of_type("message").await["payload"]["content"], "one");

    // One instance stops; the other carries everyone on.
    servers[0].stop().await;
    for text in ["two", "three"] {
        let sent = lb.send_text(&asha, &chat, text, Some(text)).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    }
    let mut position = 1;
    let mut contents = Vec::new();
    // The socket may have been on the stopped instance: reconnect through nginx and resume.
    while contents.len() < 2 {
        match ravi_ws.next_json_within(Duration::from_secs(3)).await {
            Some(frame) if frame["type"] == "message" => {
                position = frame["event_seq"].as_i64().unwrap();
                contents.push(frame["payload"]["content"].as_str().unwrap().to_owned());
            }
            Some(_) => {}
            None => {
                ravi_ws = lb.ws_resuming(&ravi.token).await;
                ravi_ws
                    .send_json(json!({"id": "r", "type": "resume", "payload": {"chats": {chat.clone(): position}}}))
                    .await;
            }
        }
    }
    assert_eq!(contents, vec!["two", "three"], "nothing lost, nothing twice");
    let history = lb.get(&format!("/api/messages?chat_id={chat}"), &ravi.token).await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 3);
    let _ = nginx.child.kill().await;
}
