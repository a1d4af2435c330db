//! Black-box: each caller gets RATE_LIMIT_BURST requests at once, then 429 with
//! Retry-After; other callers are not affected; with Redis the allowance is one for
//! all instances. CORS answers browsers.

use crate::support;
use chitchat_testkit::{TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Two instances on one Redis: requests spread over both count against one
/// allowance, so a caller cannot double it by being balanced across instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_allowance_holds_across_instances() {
    let env = [("RATE_LIMIT_REQUESTS_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "10")];
    let Some(cluster) = TestServer::start_cluster(support::BINARY, 2, &env).await else { return };
    let (a, b) = (cluster[0].client(), cluster[1].client());
    let asha = a.login("9876543210", "Asha").await;
    let mut allowed = 0;
    for request in 0..20 {
        let instance = if request % 2 == 0 { &a } else { &b };
        let reply = instance.get("/api/chats", &asha.token).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(reply.status, StatusCode::OK);
        allowed += 1;
    }
    assert_eq!(allowed, 10, "the burst is shared, not 10 per instance");
    let limited = b.get("/api/chats", &asha.token).await;
    assert_eq!((limited.status, limited.error_code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let limited = a.get("/api/chats", &asha.token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "on both instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_the_limit_waits_and_others_do_not() {
    let env = [("RATE_LIMIT_REQUESTS_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "8"), ("TRUSTED_PROXIES", "127.0.0.0/8")];
    let server = TestServer::start_with_env(support::BINARY, TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    // Logging in takes 2 anonymous requests from this address each: 4 of its 8.
    let (asha, ravi) = api.asha_and_ravi().await;

    for _ in 0..8 {
        assert_eq!(api.get("/api/chats", &asha.token).await.status, StatusCode::OK);
    }
    let limited = api.get("/api/chats", &asha.token).await;
    assert_eq!((limited.status, limited.error_code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let raw =
        reqwest::Client::new().get(format!("{}/api/chats", api.base)).bearer_auth(&asha.token).send().await.unwrap();
    let retry_after: u64 = raw.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");

    assert_eq!(api.get("/api/chats", &ravi.token).await.status, StatusCode::OK, "another user is not affected");
    // The address has 4 anonymous requests left, then it is limited too.
    for _ in 0..4 {
        let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543219"}))).await;
        assert_eq!(otp.status, StatusCode::ACCEPTED);
    }
    let otp = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543219"}))).await;
    assert_eq!(otp.status, StatusCode::TOO_MANY_REQUESTS);
    // Behind trusted proxies (a range here), each client has its own budget; a
    // chain of proxies in the range is looked through to the client.
    let behind_proxies = |forwarded: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/api/auth/otp", api.base))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"phone": "9876543219"}))
            .send()
    };
    assert_eq!(behind_proxies("203.0.113.9").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(behind_proxies("198.51.100.4, 127.0.0.7").await.unwrap().status(), StatusCode::ACCEPTED);
    let health = api.call(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "health checks are never limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_on_other_origins_are_answered_in_development() {
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite");
    let preflight = reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}/api/chats", server.base_url))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://localhost:5173");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_waits_before_another_code_is_sent() {
    let env = [("OTP_RESEND_COOLDOWN", "30s")];
    let server = TestServer::start_with_env(support::BINARY, TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let first = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543210"}))).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let again = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "+91 98765 43210"}))).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::TOO_MANY_REQUESTS, "code_recently_sent"));
    let other = api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": "9876543211"}))).await;
    assert_eq!(other.status, StatusCode::ACCEPTED, "other phones are not held up");
}
