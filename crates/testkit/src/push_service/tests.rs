//! Pushes built as an application server builds them (web-push-native encryption,
//! a VAPID token signed with jsonwebtoken), sent over HTTP to a running service.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, LOCATION, RETRY_AFTER};
use serde_json::json;
use web_push_native::{Auth, WebPushBuilder};

use super::{random_secret_key, Answer, BrowserSubscription, PushService};

const WAIT: Duration = Duration::from_secs(5);
const CONTACT: &str = "mailto:ops@example.com";

/// An application server's VAPID key pair.
struct VapidKey {
    signing: EncodingKey,
    public: String,
}

impl VapidKey {
    fn generate() -> VapidKey {
        let secret = random_secret_key();
        let der = secret.to_pkcs8_der().unwrap();
        VapidKey {
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            public: Base64UrlUnpadded::encode_string(secret.public_key().to_encoded_point(false).as_bytes()),
        }
    }

    /// `vapid t=..., k=...` for a token with these claims, carrying `k` as the key.
    fn authorization(&self, k: &str, aud: &str, exp: u64) -> String {
        let claims = json!({ "aud": aud, "exp": exp, "sub": CONTACT });
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing).unwrap();
        format!("vapid t={token}, k={k}")
    }

    /// The header a well-behaved application server sends to `service`.
    fn valid_authorization(&self, service: &PushService) -> String {
        self.authorization(&self.public, &service.origin, in_an_hour())
    }
}

fn in_an_hour() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 3600
}

/// Sends `payload` encrypted for `subscription`, with a TTL of 60 and extra headers.
async fn push(
    subscription: &BrowserSubscription,
    payload: &serde_json::Value,
    authorization: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let ua_public =
        p256::PublicKey::from_sec1_bytes(&Base64UrlUnpadded::decode_vec(&subscription.p256dh).unwrap()).unwrap();
    let auth: [u8; 16] = Base64UrlUnpadded::decode_vec(&subscription.auth).unwrap().try_into().unwrap();
    let built = WebPushBuilder::new(subscription.endpoint.parse().unwrap(), ua_public, Auth::from(auth))
        .with_valid_duration(Duration::from_secs(60))
        .build(payload.to_string())
        .unwrap();
    let mut headers = built.headers().clone();
    headers.remove(CONTENT_LENGTH);
    let mut request = reqwest::Client::new()
        .post(&subscription.endpoint)
        .headers(headers)
        .header(AUTHORIZATION, authorization)
        .body(built.into_body());
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn push_service_accepts_and_decrypts_a_valid_push() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    service.expect_vapid_key(&vapid.public);
    let subscription = service.subscribe();
    let payload = json!({ "kind": "message", "text": "hello" });

    let response = push(
        &subscription,
        &payload,
        &vapid.valid_authorization(&service),
        &[("Urgency", "high"), ("Topic", "chat-42")],
    )
    .await;

    assert_eq!(response.status(), 201);
    assert!(response.headers().get(LOCATION).is_some(), "a 201 names the message it created");
    let received = service.wait_for(&subscription.endpoint, 1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].payload, payload);
    assert_eq!(received[0].ttl, 60);
    assert_eq!(received[0].urgency.as_deref(), Some("high"));
    assert_eq!(received[0].topic.as_deref(), Some("chat-42"));
    assert_eq!(received[0].subject, CONTACT);
    assert_eq!(service.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn push_service_refuses_a_key_other_than_the_expected_one() {
    let service = PushService::start().await;
    service.expect_vapid_key(&VapidKey::generate().public);
    let intruder = VapidKey::generate();
    let subscription = service.subscribe();

    let response = push(&subscription, &json!({}), &intruder.valid_authorization(&service), &[]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(service.attempts(&subscription.endpoint), 1);
    assert!(service.received(&subscription.endpoint).is_empty());
    assert!(service.refused()[0].contains("not the expected"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_a_token_signed_by_another_key_than_k() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    service.expect_vapid_key(&vapid.public);
    let subscription = service.subscribe();
    let forged = VapidKey::generate().authorization(&vapid.public, &service.origin, in_an_hour());

    let response = push(&subscription, &json!({}), &forged, &[]).await;

    assert_eq!(response.status(), 401);
    assert!(service.received(&subscription.endpoint).is_empty());
    assert!(service.refused()[0].contains("InvalidSignature"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_an_audience_without_the_port() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    service.expect_vapid_key(&vapid.public);
    let subscription = service.subscribe();

    let authorization = vapid.authorization(&vapid.public, "http://127.0.0.1", in_an_hour());
    let response = push(&subscription, &json!({}), &authorization, &[]).await;

    assert_eq!(response.status(), 401);
    assert!(service.received(&subscription.endpoint).is_empty());
    assert!(service.refused()[0].contains("InvalidAudience"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_an_expired_token() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    service.expect_vapid_key(&vapid.public);
    let subscription = service.subscribe();

    let an_hour_ago = in_an_hour() - 2 * 3600;
    let response =
        push(&subscription, &json!({}), &vapid.authorization(&vapid.public, &service.origin, an_hour_ago), &[]).await;

    assert_eq!(response.status(), 401);
    assert!(service.received(&subscription.endpoint).is_empty());
    assert!(service.refused()[0].contains("ExpiredSignature"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_a_token_valid_for_more_than_a_day() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();

    let in_two_days = in_an_hour() + 47 * 3600;
    let response =
        push(&subscription, &json!({}), &vapid.authorization(&vapid.public, &service.origin, in_two_days), &[]).await;

    assert_eq!(response.status(), 401);
    assert!(service.refused()[0].contains("24 hours"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_a_push_without_ttl() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();

    let response = reqwest::Client::new()
        .post(&subscription.endpoint)
        .header(AUTHORIZATION, vapid.valid_authorization(&service))
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .body(vec![0u8; 100])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    assert!(service.refused()[0].contains("TTL"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_refuses_a_body_encrypted_for_another_subscription() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();
    let other = service.subscribe();
    let misaddressed = BrowserSubscription { endpoint: subscription.endpoint.clone(), ..other };

    let response = push(&misaddressed, &json!({}), &vapid.valid_authorization(&service), &[]).await;

    assert_eq!(response.status(), 400);
    assert!(service.received(&subscription.endpoint).is_empty());
    assert!(service.refused()[0].contains("does not decrypt"), "{:?}", service.refused());
}

#[tokio::test]
async fn push_service_answers_as_told_then_accepts_again() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    service.expect_vapid_key(&vapid.public);
    let subscription = service.subscribe();
    service.answer_next(&subscription.endpoint, &[Answer { status: 410, retry_after: None }]);

    let first = push(&subscription, &json!({ "n": 1 }), &vapid.valid_authorization(&service), &[]).await;
    let second = push(&subscription, &json!({ "n": 2 }), &vapid.valid_authorization(&service), &[]).await;

    assert_eq!(first.status(), 410);
    assert_eq!(second.status(), 201);
    let received = service.received(&subscription.endpoint);
    assert_eq!(received.iter().map(|push| push.payload.clone()).collect::<Vec<_>>(), vec![json!({ "n": 2 })]);
    assert_eq!(service.attempts(&subscription.endpoint), 2);
    assert!(service.refused().is_empty());
}

#[tokio::test]
async fn push_service_sends_retry_after_with_a_429() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();
    service.answer_next(&subscription.endpoint, &[Answer { status: 429, retry_after: Some(30) }]);

    let response = push(&subscription, &json!({}), &vapid.valid_authorization(&service), &[]).await;

    assert_eq!(response.status(), 429);
    assert_eq!(response.headers().get(RETRY_AFTER).unwrap(), "30");
    assert!(service.received(&subscription.endpoint).is_empty());
}

#[tokio::test]
async fn push_service_answers_404_for_an_unknown_endpoint_without_refusing() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();
    let unknown = BrowserSubscription { endpoint: format!("{}/push/unknown", service.origin), ..subscription };

    let response = push(&unknown, &json!({}), &vapid.valid_authorization(&service), &[]).await;

    assert_eq!(response.status(), 404);
    assert_eq!(service.attempts(&unknown.endpoint), 1);
    assert!(service.refused().is_empty());
}

#[tokio::test]
async fn push_service_waits_for_pushes_that_arrive_later() {
    let service = PushService::start().await;
    let vapid = VapidKey::generate();
    let subscription = service.subscribe();
    let authorization = vapid.valid_authorization(&service);
    let sender = {
        let subscription = subscription.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            push(&subscription, &json!({ "late": true }), &authorization, &[]).await.status()
        })
    };

    let received = service.wait_for(&subscription.endpoint, 1, WAIT).await;

    assert_eq!(received.len(), 1);
    assert_eq!(received[0].payload, json!({ "late": true }));
    assert_eq!(sender.await.unwrap(), 201);
}

#[test]
fn subscription_json_has_the_shape_of_a_browser_subscription() {
    let subscription = BrowserSubscription {
        endpoint: "http://127.0.0.1:1/push/a".into(),
        p256dh: "key".into(),
        auth: "secret".into(),
    };

    assert_eq!(
        subscription.json(),
        json!({
            "endpoint": "http://127.0.0.1:1/push/a",
            "expirationTime": null,
            "keys": { "p256dh": "key", "auth": "secret" },
        })
    );
}
