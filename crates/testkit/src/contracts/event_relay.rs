//! The event relay contract: every link between instances must pass all of these.
//! Each case gets two relays of one deployment, `a` and `b`, as two instances hold them.

use chitchat_domain::event::{Delivery, EventDelivery};
use chitchat_domain::ports::cluster::{EventRelay, RelayEnvelope, RelayItem, RelayStatus};
use chitchat_domain::{ChatId, UserId};
use std::sync::Arc;
use std::time::Duration;

/// Longer than any healthy delivery takes, short enough to fail fast.
const DELIVERY: Duration = Duration::from_secs(5);

/// An envelope carrying `frame` as a chat event.
pub fn envelope(frame: &str) -> RelayEnvelope {
    RelayEnvelope {
        origin: uuid::Uuid::new_v4(),
        recipients: vec![UserId::new(), UserId::new()],
        delivery: Delivery::Event(EventDelivery {
            room_id: ChatId::new(),
            event_seq: 1,
            frame: Arc::from(frame),
            message_stored_at: Some(1_700_000_000_000_000),
        }),
    }
}

/// The next envelope within `wait`, passing over gap reports.
pub async fn next_within<R: EventRelay>(relay: &R, wait: Duration) -> Option<RelayEnvelope> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, relay.next()).await.ok()? {
            RelayItem::Envelope(envelope) => return Some(envelope),
            RelayItem::Gap => continue,
        }
    }
}

async fn next<R: EventRelay>(relay: &R) -> RelayEnvelope {
    next_within(relay, DELIVERY).await.expect("the envelope arrives")
}

pub async fn relay_delivers_intact_to_every_instance<R: EventRelay>((a, b): (R, R)) {
    let sent = envelope(r#"{"type":"message","payload":{"content":"h\u00e9 \"quoted\" \\ 😀\n"}}"#);
    a.publish(&sent).await.unwrap();
    assert_eq!(next(&b).await, sent, "the other instance gets it unchanged");
    assert_eq!(next(&a).await, sent, "the publisher gets it too; the bus filters by origin");
    assert!(next_within(&b, Duration::from_millis(200)).await.is_none(), "exactly once");
}

pub async fn relay_keeps_publish_order<R: EventRelay>((a, b): (R, R)) {
    let sent: Vec<RelayEnvelope> = (1..=50).map(|n| envelope(&n.to_string())).collect();
    for e in &sent {
        a.publish(e).await.unwrap();
    }
    for e in &sent {
        assert_eq!(next(&b).await.delivery, e.delivery);
    }
}

pub async fn relay_keeps_deployments_apart<R: EventRelay>((a, b): (R, R), (other_a, other_b): (R, R)) {
    let theirs = envelope("theirs");
    let ours = envelope("ours");
    other_a.publish(&theirs).await.unwrap();
    a.publish(&ours).await.unwrap();
    assert_eq!(next(&b).await, ours, "only our deployment's envelopes arrive");
    assert_eq!(next(&other_b).await, theirs);
    assert!(next_within(&b, Duration::from_millis(300)).await.is_none());
    assert!(next_within(&other_b, Duration::from_millis(100)).await.is_none());
}

pub async fn relay_reports_connected_when_healthy<R: EventRelay>((a, b): (R, R)) {
    assert_eq!(a.status().await, RelayStatus::Connected);
    assert_eq!(b.status().await, RelayStatus::Connected);
    a.publish(&envelope("x")).await.unwrap();
    next(&b).await;
    assert_eq!(a.status().await, RelayStatus::Connected, "after a publish too");
}
