//! The sender against a real push service: it must accept our VAPID signature and
//! decrypt our encryption, and its answers must be read as RFC 8030 says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_domain::ports::PushGateway;
use chitchat_domain::push::{ClaimedPush, PushAnswer, PushSubscription, Urgency};
use chitchat_domain::{SessionId, UserId};
use chitchat_push_web::{VapidKey, WebPushSender};
use chitchat_testkit::{Answer, BrowserSubscription, PushService};
use std::sync::Arc;
use std::time::Duration;

fn claimed(subscription: &BrowserSubscription, payload: &str) -> ClaimedPush {
    let now = chrono::Utc::now();
    ClaimedPush {
        id: 1,
        subscription: PushSubscription {
            endpoint: subscription.endpoint.clone(),
            p256dh: subscription.p256dh.clone(),
            auth: subscription.auth.clone(),
            user_id: UserId::new(),
            session_id: SessionId::new(),
        },
        payload: payload.into(),
        urgency: Urgency::High,
        topic: Some("0193a1f27d0070008000000000000001".into()),
        created_at: now,
        expires_at: now + chrono::Duration::hours(1),
        attempts: 0,
    }
}

async fn sender_and_service() -> (WebPushSender, PushService) {
    let key = VapidKey::generate("mailto:ops@example.org").unwrap();
    let service = PushService::start().await;
    service.expect_vapid_key(key.public_base64url());
    (WebPushSender::new(Arc::new(key)).unwrap(), service)
}

#[tokio::test]
async fn a_push_is_signed_encrypted_and_taken() {
    let (sender, service) = sender_and_service().await;
    let browser = service.subscribe();
    let answer = sender.send(&claimed(&browser, r#"{"preview":"hello"}"#), 3600).await;
    assert_eq!(answer, PushAnswer::Accepted, "refused: {:?}", service.refused());
    let received = service.wait_for(&browser.endpoint, 1, Duration::from_secs(5)).await;
    assert_eq!(received[0].payload["preview"], "hello");
    assert_eq!((received[0].ttl, received[0].urgency.as_deref()), (3600, Some("high")));
    assert_eq!(received[0].topic.as_deref(), Some("0193a1f27d0070008000000000000001"));
    assert_eq!(received[0].subject, "mailto:ops@example.org");
}

#[tokio::test]
async fn the_push_services_answers_are_read_as_they_are_meant() {
    let (sender, service) = sender_and_service().await;
    let browser = service.subscribe();
    service.answer_next(
        &browser.endpoint,
        &[
            Answer { status: 410, retry_after: None },
            Answer { status: 429, retry_after: Some(30) },
            Answer { status: 503, retry_after: None },
            Answer { status: 413, retry_after: None },
        ],
    );
    let push = claimed(&browser, "{}");
    assert_eq!(sender.send(&push, 60).await, PushAnswer::Gone);
    assert_eq!(sender.send(&push, 60).await, PushAnswer::RetryLater { retry_after: Some(Duration::from_secs(30)) });
    assert_eq!(sender.send(&push, 60).await, PushAnswer::RetryLater { retry_after: None });
    assert_eq!(sender.send(&push, 60).await, PushAnswer::Refused { status: 413 });
    assert!(service.refused().is_empty(), "{:?}", service.refused());
}

#[tokio::test]
async fn a_subscription_with_unusable_keys_is_gone_and_an_unreachable_service_is_tried_later() {
    let (sender, service) = sender_and_service().await;
    let mut browser = service.subscribe();
    browser.p256dh = "AAAA".into();
    assert_eq!(sender.send(&claimed(&browser, "{}"), 60).await, PushAnswer::Gone);
    let mut nowhere = service.subscribe();
    nowhere.endpoint = "http://127.0.0.1:9/push/1".into();
    assert_eq!(sender.send(&claimed(&nowhere, "{}"), 60).await, PushAnswer::RetryLater { retry_after: None });
}
