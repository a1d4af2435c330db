//! Black-box: logging in reveals nothing it should not. Whether a phone number is
//! registered makes no difference to any answer before the right code is given, and
//! tokens never reach the server's log, even at its most verbose.

use crate::support;
use chitchat_testkit::client::Reply;
use chitchat_testkit::{ApiClient, TestBackend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_backends!(a_registered_phone_is_answered_like_any_other,);

/// What a caller can compare between two answers: status, error code and message,
/// and which fields the body has (values such as `expires_at` differ by the clock).
fn shape(reply: &Reply) -> (StatusCode, Value, Value, Vec<String>) {
    let fields = reply.body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    (reply.status, reply.body["code"].clone(), reply.body["message"].clone(), fields)
}

async fn request_code(api: &ApiClient, phone: &str) -> Reply {
    api.call(Method::POST, "/api/auth/otp", None, Some(json!({"phone": phone}))).await
}

async fn register(api: &ApiClient, phone: &str, code: &str) -> Reply {
    api.call(Method::POST, "/api/auth/register", None, Some(json!({"phone": phone, "name": "Someone", "code": code})))
        .await
}

async fn a_registered_phone_is_answered_like_any_other(server: TestServer) {
    let api = server.client();
    let registered = "9876543210";
    api.login(registered, "Asha").await;
    let unknown = "9876543211";

    // Before any code: the same refusal.
    assert_eq!(shape(&register(&api, registered, "000000").await), shape(&register(&api, unknown, "000000").await));
    // Asking for a code: the same acceptance.
    let (asked_registered, asked_unknown) = (request_code(&api, registered).await, request_code(&api, unknown).await);
    assert_eq!(asked_registered.status, StatusCode::ACCEPTED);
    assert_eq!(shape(&asked_registered), shape(&asked_unknown));
    // Asking again at once: the same cooldown.
    assert_eq!(shape(&request_code(&api, registered).await), shape(&request_code(&api, unknown).await));
    // Wrong codes, up to the lock and beyond: the same answers, try by try.
    for attempt in 1..=6 {
        let (wrong_registered, wrong_unknown) =
            (register(&api, registered, "000000").await, register(&api, unknown, "000000").await);
        assert!(wrong_registered.status.is_client_error(), "attempt {attempt}: {:?}", wrong_registered.body);
        assert_eq!(shape(&wrong_registered), shape(&wrong_unknown), "attempt {attempt}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_links_never_reach_the_log_even_at_trace_level() {
    let env = [("RUST_LOG", "trace")];
    let server = support::start(TestBackend::Sqlite, &env).await.expect("SQLite");
    let api = server.client();
    let (asha, ravi, chat) = api.asha_and_ravi_in_a_chat().await;
    api.send_text(&asha, &chat, "hello", None).await;

    // The token over REST, in the WebSocket URL, and after it was revoked.
    let mut ws = api.ws(&ravi.token).await;
    ws.send_message("m1", &chat, "over the socket", "c1").await;
    let logout = api.call(Method::POST, "/api/auth/logout", Some(&ravi.token), None).await;
    assert!(logout.status.is_success());
    assert_eq!(api.get("/api/users/me", &ravi.token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.ws_refusal(&format!("?token={}", ravi.token)).await, 401);
    // A forged token: a valid one with its signature changed.
    let forged = format!("{}x", asha.token);
    assert_eq!(api.get("/api/users/me", &forged).await.status, StatusCode::UNAUTHORIZED);

    // A signed attachment link, used with a range, and after being tampered with.
    let uploaded = api.upload(&asha.token, "plan.pdf", b"%PDF-1.4 plans".to_vec()).await;
    let file = uploaded.body["id"].as_str().unwrap().to_owned();
    let link = api.call(Method::POST, &format!("/api/attachments/{file}/link"), Some(&asha.token), None).await;
    let url = link.body["url"].as_str().unwrap().to_owned();
    assert_eq!(api.get_raw_as(&url, None, &[("range", "bytes=0-3")]).await.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(api.get_raw_as(&format!("{url}0"), None, &[]).await.status(), StatusCode::NOT_FOUND);
    let link_signature = url.rsplit("sig=").next().unwrap().to_owned();

    // A new device linked: its pairing code, its claim secret and the token it gets.
    let device_link =
        api.call(Method::POST, "/api/auth/links", None, Some(json!({"phone": asha.user["phone"]}))).await.body;
    let pairing_code = device_link["pairing_code"].as_str().unwrap().to_owned();
    let claim_secret = device_link["claim_secret"].as_str().unwrap().to_owned();
    let confirmed = api.post("/api/auth/links/confirm", &asha.token, json!({"pairing_code": pairing_code})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.body);
    let claim_path = format!("/api/auth/links/{}/claim", device_link["link_id"].as_str().unwrap());
    let claimed = api.call(Method::POST, &claim_path, None, Some(json!({"claim_secret": claim_secret}))).await;
    let linked_token = claimed.body["token"].as_str().unwrap().to_owned();

    let log = server.log_text();
    let traced = log.matches("TRACE").count();
    assert!(traced > 20, "the trace-level log was captured: {traced} lines at TRACE");
    for token in [&asha.token, &ravi.token, &forged, &linked_token] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token's signature is in the log");
    }
    assert!(!log.contains(&link_signature), "a link's signature is in the log");
    assert!(!log.contains(&pairing_code), "a pairing code is in the log");
    assert!(!log.contains(&claim_secret), "a claim secret is in the log");
}
