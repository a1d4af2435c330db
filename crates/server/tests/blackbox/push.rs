//! Black-box: Web Push through a real push service (RFC 8030) that checks every
//! push's VAPID signature against the server's key and decrypts it with the
//! subscription's private key, as a browser vendor's service and the browser do.

use chitchat_testkit::{Answer, BrowserSubscription, Login, PushService, TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    a_device_without_a_socket_is_pushed_and_one_with_a_socket_is_not,
    muted_chats_push_nothing_and_previews_can_be_turned_off,
    reactions_and_being_added_to_a_group_push_too,
    a_logged_out_device_is_pushed_nothing_more,
    gone_subscriptions_are_deleted_and_busy_push_services_are_tried_again,
    pushes_waiting_in_the_outbox_survive_a_restart,
    subscriptions_are_checked_and_belong_to_their_device,
);

/// Long enough for the planner and the sender to have acted on anything due.
const SETTLE: Duration = Duration::from_secs(2);
const ARRIVAL: Duration = Duration::from_secs(10);

/// A push service that only accepts pushes signed with this server's key.
async fn push_service_for(server: &TestServer, login: &Login) -> PushService {
    let key = server.client().get("/api/push/key", &login.token).await;
    assert_eq!(key.status, StatusCode::OK, "{:?}", key.body);
    let push = PushService::start().await;
    push.expect_vapid_key(key.body["public_key"].as_str().unwrap());
    push
}

/// `login`'s device subscribes as a browser does after `pushManager.subscribe`.
async fn subscribe(server: &TestServer, login: &Login, push: &PushService) -> BrowserSubscription {
    let subscription = push.subscribe();
    let reply = server.client().post("/api/push/subscriptions", &login.token, subscription.json()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    subscription
}

async fn a_device_without_a_socket_is_pushed_and_one_with_a_socket_is_not(server: TestServer) {
    let api = server.client();
    let (asha, ravi_phone, chat) = api.asha_and_ravi_in_a_chat().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let push = push_service_for(&server, &asha).await;
    let phone = subscribe(&server, &ravi_phone, &push).await;
    let laptop = subscribe(&server, &ravi_laptop, &push).await;
    let ashas = subscribe(&server, &asha, &push).await;
    let mut open = api.ws(&ravi_laptop.token).await;

    let long = "é".repeat(150);
    let sent = api.send_text(&asha, &chat, &long, None).await;
    assert_eq!(sent.status, StatusCode::CREATED);
    let seq = sent.body["seq"].as_i64().unwrap();

    let pushes = push.wait_for(&phone.endpoint, 1, ARRIVAL).await;
    assert_eq!(pushes.len(), 1, "the phone, with no socket, is pushed");
    let pushed = &pushes[0];
    assert_eq!(pushed.payload["kind"], "message");
    assert_eq!(pushed.payload["chat_id"], chat);
    assert_eq!(pushed.payload["seq"], seq);
    assert_eq!(pushed.payload["sender_name"], "Asha");
    assert_eq!(pushed.payload["chat_name"], "Asha", "a direct chat is named after the other person");
    let preview = pushed.payload["preview"].as_str().unwrap();
    assert_eq!(preview.chars().count(), 100, "previews are cut to 100 characters: {preview}");
    assert!(preview.starts_with("éééé"));
    assert_eq!(pushed.urgency.as_deref(), Some("high"));
    assert!(pushed.ttl > 0 && pushed.ttl <= 24 * 3600, "ttl {}", pushed.ttl);
    let topic = pushed.topic.clone().unwrap();
    assert!(topic.len() <= 32 && topic == chat.replace('-', ""), "one topic per chat: {topic}");
    assert!(pushed.subject.starts_with("mailto:") || pushed.subject.starts_with("https:"));

    open.next_of_type("message").await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&laptop.endpoint), 0, "the laptop has the message live and is not pushed");
    assert_eq!(push.attempts(&ashas.endpoint), 0, "a person's own send never pushes their own devices");
    assert!(push.refused().is_empty(), "{:?}", push.refused());
}

async fn muted_chats_push_nothing_and_previews_can_be_turned_off(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let push = push_service_for(&server, &ravi).await;
    let device = subscribe(&server, &ravi, &push).await;
    let settings = format!("/api/chats/{chat}/settings");

    let until = (chrono::Utc::now() + chrono::Duration::hours(8)).to_rfc3339();
    let muted = api.call(Method::PUT, &settings, Some(&ravi.token), Some(json!({"muted_until": until}))).await;
    assert_eq!(muted.status, StatusCode::OK);
    api.send_text(&asha, &chat, "while muted", None).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&device.endpoint), 0, "a muted chat pushes nothing");

    // Archived but not muted: pushed.
    let archived = json!({"muted_until": null, "archived": true});
    assert_eq!(api.call(Method::PUT, &settings, Some(&ravi.token), Some(archived)).await.status, StatusCode::OK);
    api.send_text(&asha, &chat, "dinner at eight", None).await;
    let pushes = push.wait_for(&device.endpoint, 1, ARRIVAL).await;
    assert_eq!(pushes.len(), 1, "an archived, unmuted chat pushes");
    assert_eq!(pushes[0].payload["preview"], "dinner at eight");

    let off = api
        .call(Method::PATCH, "/api/users/me", Some(&ravi.token), Some(json!({"notifications": {"previews": false}})))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(off.body["notifications"]["previews"], false);
    assert_eq!(api.get("/api/users/me", &ravi.token).await.body["notifications"]["previews"], false);
    api.send_text(&asha, &chat, "the secret is 1234", None).await;
    let pushes = push.wait_for(&device.endpoint, 2, ARRIVAL).await;
    assert_eq!(pushes.len(), 2);
    assert_eq!(pushes[1].payload["preview"], "New message");
    assert!(!pushes[1].payload.to_string().contains("1234"), "no text of the message: {}", pushes[1].payload);
}

async fn reactions_and_being_added_to_a_group_push_too(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let push = push_service_for(&server, &asha).await;
    let ashas = subscribe(&server, &asha, &push).await;
    let ravis = subscribe(&server, &ravi, &push).await;

    let sent = api.send_text(&asha, &chat, "we won", None).await;
    let message = sent.body["id"].as_str().unwrap();
    push.wait_for(&ravis.endpoint, 1, ARRIVAL).await;
    let reacted = api
        .call(
            Method::PUT,
            &format!("/api/messages/{message}/reactions"),
            Some(&ravi.token),
            Some(json!({"emoji": "🎉"})),
        )
        .await;
    assert!(reacted.status.is_success(), "{:?}", reacted.body);
    let pushes = push.wait_for(&ashas.endpoint, 1, ARRIVAL).await;
    assert_eq!(pushes.len(), 1, "Asha is pushed about the reaction to her message");
    assert_eq!(pushes[0].payload["kind"], "reaction");
    assert_eq!(pushes[0].payload["sender_name"], "Ravi");
    assert!(pushes[0].payload["preview"].as_str().unwrap().contains("🎉"));

    let group = api.create_group(&asha, "Cricket", &[&ravi]).await;
    let pushes = push.wait_for(&ravis.endpoint, 2, ARRIVAL).await;
    assert_eq!(pushes.len(), 2, "Ravi is pushed about being added");
    assert_eq!(pushes[1].payload["kind"], "added_to_group");
    assert_eq!(pushes[1].payload["chat_id"], group["id"]);
    assert_eq!(pushes[1].payload["chat_name"], "Cricket");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.received(&ashas.endpoint).len(), 1, "Asha is not pushed about her own group");
}

async fn a_logged_out_device_is_pushed_nothing_more(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let ravi_laptop = api.login("9876543211", "Ravi").await;
    let push = push_service_for(&server, &ravi).await;
    let phone = subscribe(&server, &ravi, &push).await;
    let laptop = subscribe(&server, &ravi_laptop, &push).await;

    assert_eq!(
        api.call(Method::POST, "/api/auth/logout", Some(&ravi.token), None).await.status,
        StatusCode::NO_CONTENT
    );
    let sessions = api.get("/api/auth/sessions", &ravi_laptop.token).await;
    let laptop_session = sessions.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_owned();
    // The laptop is revoked from another of Ravi's devices.
    let third = api.login("9876543211", "Ravi").await;
    let revoked =
        api.call(Method::DELETE, &format!("/api/auth/sessions/{laptop_session}"), Some(&third.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);

    api.send_text(&asha, &chat, "anyone there?", None).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&phone.endpoint), 0, "a logged-out device is not pushed");
    assert_eq!(push.attempts(&laptop.endpoint), 0, "a revoked device is not pushed");
}

async fn gone_subscriptions_are_deleted_and_busy_push_services_are_tried_again(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let push = push_service_for(&server, &ravi).await;
    let busy = subscribe(&server, &ravi, &push).await;
    let ravi_old_browser = api.login("9876543211", "Ravi").await;
    let gone = subscribe(&server, &ravi_old_browser, &push).await;
    push.answer_next(&busy.endpoint, &[Answer { status: 429, retry_after: Some(1) }]);
    push.answer_next(&gone.endpoint, &[Answer { status: 410, retry_after: None }]);

    api.send_text(&asha, &chat, "first", None).await;
    let pushes = push.wait_for(&busy.endpoint, 1, ARRIVAL).await;
    assert_eq!(pushes.len(), 1, "429 is tried again after Retry-After");
    assert_eq!(push.attempts(&busy.endpoint), 2);
    assert_eq!(push.attempts(&gone.endpoint), 1);

    api.send_text(&asha, &chat, "second", None).await;
    push.wait_for(&busy.endpoint, 2, ARRIVAL).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&gone.endpoint), 1, "after 410 the subscription is gone: no second try");

    let metrics = api.get_raw_as("/metrics", None, &[]).await.text().await.unwrap();
    let count = |name: &str| -> f64 {
        metrics
            .lines()
            .filter(|line| line.starts_with(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(count("chitchat_push_sent_total") >= 2.0, "{metrics}");
    assert!(count("chitchat_push_failed_total") >= 1.0, "the 429 counts as failed for now: {metrics}");
    assert!(count("chitchat_push_dropped_total") >= 1.0, "the 410 drops its push: {metrics}");
}

async fn pushes_waiting_in_the_outbox_survive_a_restart(mut server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let push = push_service_for(&server, &ravi).await;
    let device = subscribe(&server, &ravi, &push).await;
    // The push service is down for a moment: the push waits in the outbox.
    push.answer_next(&device.endpoint, &[Answer { status: 503, retry_after: Some(3) }]);
    api.send_text(&asha, &chat, "still there after a restart?", None).await;
    let deadline = tokio::time::Instant::now() + ARRIVAL;
    while push.attempts(&device.endpoint) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(push.attempts(&device.endpoint), 1);
    let key_before = server.client().get("/api/push/key", &ravi.token).await.body;
    server.restart().await;
    let key_after = server.client().get("/api/push/key", &ravi.token).await.body;
    assert_eq!(key_before, key_after, "the development key is kept in DATA_DIR: subscriptions outlive a restart");

    let pushes = push.wait_for(&device.endpoint, 1, ARRIVAL).await;
    assert_eq!(pushes.len(), 1, "the push waiting in the outbox is sent after the restart");
    assert_eq!(pushes[0].payload["preview"], "still there after a restart?");
}

async fn subscriptions_are_checked_and_belong_to_their_device(server: TestServer) {
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    let push = push_service_for(&server, &ravi).await;
    let device = subscribe(&server, &ravi, &push).await;

    let mut broken = device.json();
    broken["keys"]["p256dh"] = json!("AAAA");
    let refused = api.post("/api/push/subscriptions", &ravi.token, broken).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "invalid_push_subscription");
    let not_url = api
        .post(
            "/api/push/subscriptions",
            &ravi.token,
            json!({"endpoint": "javascript:alert(1)", "keys": device.json()["keys"]}),
        )
        .await;
    assert_eq!(not_url.error_code(), "invalid_push_subscription");
    let missing = api.post("/api/push/subscriptions", &ravi.token, json!({"endpoint": device.endpoint})).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", missing.body);
    assert_eq!(missing.error_code(), "invalid_body");

    // Someone else cannot unsubscribe Ravi's device.
    let other = api
        .call(Method::DELETE, "/api/push/subscriptions", Some(&asha.token), Some(json!({"endpoint": device.endpoint})))
        .await;
    assert_eq!(other.status, StatusCode::NO_CONTENT);
    api.send_text(&asha, &chat, "one", None).await;
    assert_eq!(push.wait_for(&device.endpoint, 1, ARRIVAL).await.len(), 1);

    let mine = api
        .call(Method::DELETE, "/api/push/subscriptions", Some(&ravi.token), Some(json!({"endpoint": device.endpoint})))
        .await;
    assert_eq!(mine.status, StatusCode::NO_CONTENT);
    api.send_text(&asha, &chat, "two", None).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&device.endpoint), 1, "unsubscribed: pushed no more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_send_each_push_once() {
    let Some(servers) = crate::support::start_cluster(2).await else { return };
    let (a, b) = (servers[0].client(), servers[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let ravi = b.login("9876543211", "Ravi").await;
    let chat = a.direct_chat(&asha, &ravi.user_id()).await;
    let push = push_service_for(&servers[1], &ravi).await;
    let device = subscribe(&servers[0], &ravi, &push).await;

    let sends = 20;
    for i in 0..sends {
        let api = if i % 2 == 0 { &a } else { &b };
        let sent = api.send_text(&asha, &chat, &format!("message {i}"), None).await;
        assert_eq!(sent.status, StatusCode::CREATED);
    }
    let pushes = push.wait_for(&device.endpoint, sends, ARRIVAL).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(push.attempts(&device.endpoint), sends, "each push is sent by one instance only");
    let mut previews: Vec<String> =
        pushes.iter().map(|p| p.payload["preview"].as_str().unwrap_or_default().to_owned()).collect();
    previews.sort();
    previews.dedup();
    assert_eq!(previews.len(), sends, "one push per message");
    assert!(push.refused().is_empty(), "{:?}", push.refused());
}

/// Production settings but push's, as an operator starts it.
const PRODUCTION: [(&str, &str); 4] = [
    ("ENV", "production"),
    ("JWT_SECRET", "a-production-secret-of-more-than-32-characters"),
    ("OTP_FIXED_CODE", ""),
    // Production needs a way to deliver codes; none is sent in these tests.
    ("OTP_WEBHOOK_URL", "http://127.0.0.1:9/sms"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_a_vapid_key_runs_with_push_off_and_says_so_once() {
    let server = crate::support::start(TestBackend::Sqlite, &PRODUCTION).await.expect("SQLite");
    let health = server.client().call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "the server runs");
    let log = server.log_text();
    assert_eq!(log.matches("push notifications are off").count(), 1, "{log}");
    assert!(log.contains("VAPID_PRIVATE_KEY"), "the log says what turns push on: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_vapid_key_stops_start_up_with_the_variable_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(crate::support::BINARY)
        .env_clear()
        .envs(PRODUCTION)
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "off")
        .env("DATA_DIR", dir.path())
        .env("VAPID_PRIVATE_KEY", "not-a-key")
        .env("VAPID_SUBJECT", "mailto:ops@example.org")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output).await.expect("start-up stops").unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("VAPID_PRIVATE_KEY"), "{stderr}");
}
