//! The event bus contract: every fan-out adapter must pass all of these.

use chitchat_domain::event::{ChatEvent, Event, EventKind};
use chitchat_domain::message::{ContentType, Message, MessageStatus};
use chitchat_domain::ports::{EventBus, Subscription};
use chitchat_domain::{ChatId, MessageId, UserId};
use std::time::Duration;

fn event(recipients: Vec<UserId>, seq: i64) -> Event {
    let chat = ChatId::new();
    let sender = recipients.first().copied().unwrap_or_default();
    Event {
        event: ChatEvent {
            room_id: chat,
            event_seq: seq,
            actor: sender,
            kind: EventKind::Message(Message {
                id: MessageId::new(),
                chat_id: chat,
                sender_id: sender,
                content: format!("m{seq}"),
                content_type: ContentType::Text,
                seq,
                status: MessageStatus::Sent,
                client_msg_id: None,
                created_at: chrono::Utc::now(),
            }),
        },
        recipients,
    }
}

async fn next(sub: &mut Box<dyn Subscription>) -> Option<serde_json::Value> {
    let delivery = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.ok()??;
    let frame: serde_json::Value = serde_json::from_str(&delivery.frame).unwrap();
    assert_eq!(frame["event_seq"], delivery.event_seq, "the frame and its delivery agree");
    Some(frame)
}

async fn nothing_within(sub: &mut Box<dyn Subscription>, wait: Duration) -> bool {
    tokio::time::timeout(wait, sub.next()).await.is_err()
}

pub async fn bus_delivers_to_every_device_of_every_recipient<B: EventBus>(bus: B) {
    let (a, b) = (UserId::new(), UserId::new());
    let mut a1 = bus.subscribe(a);
    let mut a2 = bus.subscribe(a);
    let mut b1 = bus.subscribe(b);
    let e = event(vec![a, b], 1);
    bus.publish(&e).await.unwrap();
    for sub in [&mut a1, &mut a2, &mut b1] {
        let frame = next(sub).await.expect("every device gets the frame");
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["room_id"], e.event.room_id.to_string());
        assert_eq!(frame["payload"]["content"], "m1");
        assert!(nothing_within(sub, Duration::from_millis(100)).await, "exactly once");
    }
}

pub async fn bus_does_not_deliver_to_others<B: EventBus>(bus: B) {
    let (a, outsider) = (UserId::new(), UserId::new());
    let _a = bus.subscribe(a);
    let mut o = bus.subscribe(outsider);
    bus.publish(&event(vec![a], 1)).await.unwrap();
    assert!(nothing_within(&mut o, Duration::from_millis(300)).await);
}

pub async fn bus_keeps_publish_order<B: EventBus>(bus: B) {
    let a = UserId::new();
    let mut sub = bus.subscribe(a);
    for seq in 1..=50 {
        bus.publish(&event(vec![a], seq)).await.unwrap();
    }
    for seq in 1..=50 {
        assert_eq!(next(&mut sub).await.unwrap()["payload"]["seq"], seq);
    }
}

pub async fn bus_stops_delivering_after_unsubscribe<B: EventBus>(bus: B) {
    let a = UserId::new();
    let first = bus.subscribe(a);
    drop(first);
    let mut second = bus.subscribe(a);
    bus.publish(&event(vec![a], 1)).await.unwrap();
    assert_eq!(next(&mut second).await.unwrap()["payload"]["seq"], 1);
}
