//! The event bus contract: every fan-out adapter must pass all of these.

use chitchat_domain::event::{ChatEvent, Delivery, EventKind};
use chitchat_domain::message::{ContentType, Message, MessageStatus};
use chitchat_domain::ports::{DeviceSink, EventBus, SharedDelivery, Subscription};
use chitchat_domain::{ChatId, MessageId, UserId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A device that takes everything, for the test to read in order.
struct Channel(mpsc::UnboundedSender<SharedDelivery>);

impl DeviceSink for Channel {
    fn take(&self, delivery: &SharedDelivery) -> bool {
        self.0.send(delivery.clone()).is_ok()
    }
}

/// A device subscribed to `bus`, and what it has been handed.
struct Device {
    _subscription: Box<dyn Subscription>,
    taken: mpsc::UnboundedReceiver<SharedDelivery>,
}

impl Device {
    fn of<B: EventBus>(bus: &B, user: UserId) -> Self {
        let (tx, taken) = mpsc::unbounded_channel();
        Self { _subscription: bus.subscribe(user, Arc::new(Channel(tx))), taken }
    }

    async fn next(&mut self) -> Option<SharedDelivery> {
        self.taken.recv().await
    }
}

fn event(recipients: Vec<UserId>, seq: i64) -> (Vec<UserId>, Delivery) {
    let chat = ChatId::new();
    let sender = recipients.first().copied().unwrap_or_default();
    let event = ChatEvent {
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
            system: None,
            reply_to: None,
            forwarded: false,
            edited_at: None,
            deleted_at: None,
            reactions: Default::default(),
            my_reaction: None,
            attachments: Vec::new(),
        }),
    };
    (recipients, Delivery::Event(event.to_delivery()))
}

async fn next(sub: &mut Device) -> Option<serde_json::Value> {
    let delivery = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.ok()??;
    match delivery.as_ref() {
        Delivery::Event(e) => {
            let frame: serde_json::Value = serde_json::from_str(&e.frame).unwrap();
            assert_eq!(frame["event_seq"], e.event_seq, "the frame and its delivery agree");
            Some(frame)
        }
        other => Some(serde_json::to_value(other).unwrap()),
    }
}

async fn nothing_within(sub: &mut Device, wait: Duration) -> bool {
    tokio::time::timeout(wait, sub.next()).await.is_err()
}

pub async fn bus_delivers_to_every_device_of_every_recipient<B: EventBus>(bus: B) {
    let (a, b) = (UserId::new(), UserId::new());
    let mut a1 = Device::of(&bus, a);
    let mut a2 = Device::of(&bus, a);
    let mut b1 = Device::of(&bus, b);
    let (to, delivery) = event(vec![a, b], 1);
    let room_id = match &delivery {
        Delivery::Event(e) => e.room_id,
        _ => unreachable!("event() makes chat events"),
    };
    bus.publish(&to, delivery).await.unwrap();
    for sub in [&mut a1, &mut a2, &mut b1] {
        let frame = next(sub).await.expect("every device gets the frame");
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["room_id"], room_id.to_string());
        assert_eq!(frame["payload"]["content"], "m1");
        assert!(nothing_within(sub, Duration::from_millis(100)).await, "exactly once");
    }
}

pub async fn bus_does_not_deliver_to_others<B: EventBus>(bus: B) {
    let (a, outsider) = (UserId::new(), UserId::new());
    let _a = Device::of(&bus, a);
    let mut o = Device::of(&bus, outsider);
    let (to, d) = event(vec![a], 1);
    bus.publish(&to, d).await.unwrap();
    assert!(nothing_within(&mut o, Duration::from_millis(300)).await);
}

pub async fn bus_keeps_publish_order<B: EventBus>(bus: B) {
    let a = UserId::new();
    let mut sub = Device::of(&bus, a);
    for seq in 1..=50 {
        let (to, d) = event(vec![a], seq);
        bus.publish(&to, d).await.unwrap();
    }
    for seq in 1..=50 {
        assert_eq!(next(&mut sub).await.unwrap()["payload"]["seq"], seq);
    }
}

pub async fn bus_carries_session_revocations_to_the_users_devices<B: EventBus>(bus: B) {
    let a = UserId::new();
    let mut device = Device::of(&bus, a);
    let session_id = chitchat_domain::SessionId::new();
    bus.publish(&[a], Delivery::SessionRevoked { session_id }).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), device.next()).await.unwrap().unwrap();
    assert_eq!(*got, Delivery::SessionRevoked { session_id });
}

pub async fn bus_stops_delivering_after_unsubscribe<B: EventBus>(bus: B) {
    let a = UserId::new();
    let Device { _subscription: first, taken: mut first_taken } = Device::of(&bus, a);
    drop(first);
    let mut second = Device::of(&bus, a);
    let (to, d) = event(vec![a], 1);
    bus.publish(&to, d).await.unwrap();
    assert_eq!(next(&mut second).await.unwrap()["payload"]["seq"], 1);
    assert!(first_taken.try_recv().is_err(), "nothing for the device that unsubscribed");
}
