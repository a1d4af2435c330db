//! Black-box: operators see metrics at /metrics and every request has an id.

use crate::support;
use chitchat_testkit::TestBackend;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_messages_and_sockets_and_requests_carry_ids() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    api.send_text(&asha, &chat, "counted", None).await;
    let mut asha_ws = api.ws(&asha.token).await;
    let mut ws = api.ws(&ravi.token).await;
    let ack = ws.send_message("m1", &chat, "counted too", "c1").await;
    assert_eq!(ack["type"], "ack");
    // Delivered live to Asha's device: counted, with how long it took.
    assert_eq!(asha_ws.next_of_type("message").await["payload"]["content"], "counted too");

    let http = reqwest::Client::new();
    let metrics = http.get(format!("{}/metrics", server.base_url)).send().await.unwrap().text().await.unwrap();
    for expected in [
        "chitchat_http_requests_total",
        "chitchat_http_request_duration_seconds_bucket",
        "chitchat_messages_sent_total{via=\"rest\"} 1",
        "chitchat_messages_sent_total{via=\"ws\"} 1",
        "chitchat_ws_connections 2",
        "chitchat_message_delivery_seconds_bucket",
        "route=\"/api/messages\"",
        "chitchat_db_pool_max_connections",
        "chitchat_redis_connected 0",
    ] {
        assert!(metrics.contains(expected), "missing {expected} in:\n{metrics}");
    }
    for counted in ["chitchat_messages_delivered_total", "chitchat_message_delivery_seconds_count"] {
        assert!(sample(&metrics, counted) >= 1.0, "{counted} counts the live delivery to Asha:\n{metrics}");
    }
    assert!(!metrics.contains(&chat), "no ids in metric labels");

    let echoed =
        http.get(format!("{}/health", server.base_url)).header("X-Request-Id", "trace-me-42").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
    let made_up = http.get(format!("{}/health", server.base_url)).send().await.unwrap();
    assert!(!made_up.headers()["x-request-id"].is_empty());
    assert!(made_up.headers().get("strict-transport-security").is_none(), "HSTS only in production");
    drop(ws);
    drop(asha_ws);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = http.get(format!("{}/metrics", server.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("chitchat_ws_connections 0"), "{after}");
}

/// The value of an unlabelled sample in Prometheus text.
fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{metrics}"))
}
