//! Black-box: on SIGTERM the server tells every socket to reconnect elsewhere,
//! finishes what it was doing and exits; nothing acknowledged is lost.

use chitchat_testkit::{SocketEnd, TestServer};
use reqwest::StatusCode;
use std::time::Duration;

/// "Service restart": reconnect (to another instance) and resume.
const CLOSE_RESTART: u16 = 1012;

on_both_backends!(sigterm_closes_sockets_with_restart_and_loses_nothing,);

async fn sigterm_closes_sockets_with_restart_and_loses_nothing(mut server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let mut ravi_ws = api.ws(&ravi.token).await;
    let mut acked = Vec::new();
    for i in 0..20 {
        let reply = api.send_text(&asha, &chat, &format!("m{i}"), Some(&format!("c{i}"))).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        acked.push(reply.body["id"].clone());
    }

    let terminating = tokio::spawn(async move {
        let status = server.terminate(Duration::from_secs(15)).await;
        (server, status)
    });
    assert_eq!(ravi_ws.wait_for_end(Duration::from_secs(10)).await, SocketEnd::Closed(Some(CLOSE_RESTART)));
    let (mut server, status) = terminating.await.unwrap();
    assert!(status.expect("exits within the shutdown timeout").success(), "a clean exit");

    server.start_again().await;
    let api = server.client();
    let history = api.get(&format!("/api/messages?chat_id={chat}&limit=100"), &ravi.token).await;
    let mut stored: Vec<_> = history.body["messages"].as_array().unwrap().iter().map(|m| m["id"].clone()).collect();
    stored.reverse();
    assert_eq!(stored, acked, "every acknowledged message survived the restart");
}
