use async_trait::async_trait;
use chitchat_domain::event::Delivery;
use chitchat_domain::ports::cluster::{EventRelay, RelayEnvelope, RelayItem, RelayStatus};
use chitchat_domain::ports::{DeviceSink, EventBus, SharedDelivery, Subscription};
use chitchat_domain::{DomainResult, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::heads::Heads;

/// How often this instance tells the others where the logs of the chats it
/// published to lately stand (see `heads`).
pub const HEAD_INTERVAL: Duration = Duration::from_secs(1);

type Registry = HashMap<UserId, Vec<Device>>;

struct Device {
    id: u64,
    sink: Arc<dyn DeviceSink>,
}

/// Fans events out to the devices subscribed in this process. Each event is
/// serialised once; every device's sink takes the same shared bytes without
/// waiting, so one slow device never holds up the others (a sink refuses what it
/// has no room for, and the device is dropped). With a relay (Redis), events also
/// travel to and arrive from the other instances.
#[derive(Clone)]
pub struct LocalBus {
    registry: Arc<Mutex<Registry>>,
    next_device: Arc<AtomicU64>,
    relay: Option<Arc<dyn EventRelay>>,
    /// With a relay: the chats this instance published to lately, to announce.
    heads: Arc<Mutex<Heads>>,
    instance: uuid::Uuid,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the map half-updated in a way
    // that matters (every update is a single push, retain or insert), so keep going.
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LocalBus {
    pub fn new() -> Self {
        Self {
            registry: Arc::default(),
            next_device: Arc::default(),
            relay: None,
            heads: Arc::default(),
            instance: uuid::Uuid::new_v4(),
        }
    }

    /// A bus that also exchanges events with other instances through `relay`.
    /// Spawns the task that delivers other instances' events here, and the one
    /// that announces where the chats this instance published to stand, so it
    /// must be called inside a tokio runtime.
    pub fn with_relay(relay: Arc<dyn EventRelay>) -> Self {
        Self::with_relay_every(relay, HEAD_INTERVAL)
    }

    /// `with_relay`, announcing chats' positions every `head_interval`.
    pub fn with_relay_every(relay: Arc<dyn EventRelay>, head_interval: Duration) -> Self {
        let mut bus = Self::new();
        bus.relay = Some(relay.clone());
        tokio::spawn(bus.clone().announce_heads(relay.clone(), head_interval));
        let local = bus.clone();
        tokio::spawn(async move {
            loop {
                match relay.next().await {
                    RelayItem::Envelope(envelope) if envelope.origin != local.instance => {
                        local.deliver(&envelope.recipients, &Arc::new(envelope.delivery));
                    }
                    RelayItem::Envelope(_) => {}
                    RelayItem::Gap => {
                        tracing::warn!("events from other instances may have been lost; devices catch up from the log");
                        local.deliver_to_all(&Arc::new(Delivery::CatchUp));
                    }
                }
            }
        });
        bus
    }

    /// Every `interval`, tells the other instances how far the logs of the chats
    /// this instance published to lately reach, so that their devices notice a
    /// live event that never arrived (a failed `PUBLISH`, a dropped subscriber).
    async fn announce_heads(self, relay: Arc<dyn EventRelay>, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let due = lock(&self.heads).due();
            for head in due {
                let envelope = RelayEnvelope {
                    origin: self.instance,
                    recipients: head.recipients.to_vec(),
                    delivery: Delivery::Head { room_id: head.chat, event_seq: head.event_seq },
                };
                match relay.publish(&envelope).await {
                    Ok(()) => lock(&self.heads).announced(head.chat, head.event_seq),
                    // Said again at the next tick; the relay logs its outage.
                    Err(error) => {
                        tracing::debug!(chat_id = %head.chat, event_seq = head.event_seq, %error, "could not announce a chat's position");
                        break;
                    }
                }
            }
        }
    }

    /// Devices currently subscribed, across all users.
    pub fn device_count(&self) -> usize {
        lock(&self.registry).values().map(Vec::len).sum()
    }

    /// Delivers to every device connected here.
    pub fn deliver_to_all(&self, delivery: &SharedDelivery) {
        let users: Vec<UserId> = lock(&self.registry).keys().copied().collect();
        self.deliver(&users, delivery);
    }

    /// Delivers an already-serialised event to every device of `recipients`.
    pub fn deliver(&self, recipients: &[UserId], delivery: &SharedDelivery) {
        let mut registry = lock(&self.registry);
        for user in recipients {
            let Some(devices) = registry.get_mut(user) else {
                continue;
            };
            // A device that refuses is gone, or too far behind: its socket closes
            // and the client resumes from the log when it reconnects.
            devices.retain(|device| device.sink.take(delivery));
            if devices.is_empty() {
                registry.remove(user);
            }
        }
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, recipients: &[UserId], delivery: Delivery) -> DomainResult<()> {
        let delivery = Arc::new(delivery);
        self.deliver(recipients, &delivery);
        if let Some(relay) = &self.relay {
            if let Delivery::Event(event) = &*delivery {
                // Before the publish: should it fail, the announcement still goes out.
                lock(&self.heads).record(event.room_id, event.event_seq, recipients);
            }
            let envelope = RelayEnvelope {
                origin: self.instance,
                recipients: recipients.to_vec(),
                delivery: Delivery::clone(&delivery),
            };
            // Local devices have it; should this fail, devices elsewhere learn of the
            // event from the announcement of its chat's position (`announce_heads`).
            relay.publish(&envelope).await?;
        }
        Ok(())
    }

    async fn relay_status(&self) -> RelayStatus {
        match &self.relay {
            Some(relay) => relay.status().await,
            None => RelayStatus::NotConfigured,
        }
    }

    fn subscribe(&self, user: UserId, sink: Arc<dyn DeviceSink>) -> Box<dyn Subscription> {
        let id = self.next_device.fetch_add(1, Ordering::Relaxed);
        // Most people have one device connected: room for one, grown when another comes.
        lock(&self.registry).entry(user).or_insert_with(|| Vec::with_capacity(1)).push(Device { id, sink });
        Box::new(LocalSubscription { user, id, registry: self.registry.clone() })
    }
}

struct LocalSubscription {
    user: UserId,
    id: u64,
    registry: Arc<Mutex<Registry>>,
}

impl Subscription for LocalSubscription {}

impl Drop for LocalSubscription {
    fn drop(&mut self) {
        let mut registry = lock(&self.registry);
        if let Some(devices) = registry.get_mut(&self.user) {
            devices.retain(|d| d.id != self.id);
            if devices.is_empty() {
                registry.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chitchat_domain::event::EventDelivery;

    /// A device with room for `room` deliveries.
    struct Counted {
        room: usize,
        taken: Mutex<Vec<SharedDelivery>>,
    }

    impl DeviceSink for Counted {
        fn take(&self, delivery: &SharedDelivery) -> bool {
            let mut taken = lock(&self.taken);
            taken.push(delivery.clone());
            taken.len() <= self.room
        }
    }

    fn device(room: usize) -> Arc<Counted> {
        Arc::new(Counted { room, taken: Mutex::default() })
    }

    #[tokio::test]
    async fn a_device_that_refuses_a_delivery_is_dropped_and_the_others_still_receive() {
        let bus = LocalBus::new();
        let user = UserId::new();
        let (slow, fast) = (device(2), device(usize::MAX));
        let _slow = bus.subscribe(user, slow.clone());
        let _fast = bus.subscribe(user, fast.clone());
        let frame: SharedDelivery = Arc::new(Delivery::Event(EventDelivery {
            room_id: chitchat_domain::ChatId::new(),
            event_seq: 1,
            frame: Arc::from("{}"),
            message_stored_at: None,
        }));
        for _ in 0..4 {
            bus.deliver(&[user], &frame);
        }
        assert_eq!(bus.device_count(), 1, "the slow device was dropped");
        assert_eq!(lock(&fast.taken).len(), 4);
        assert_eq!(lock(&slow.taken).len(), 3, "offered nothing after it refused");
    }

    /// A relay whose first `fail` publishes fail, as during a Redis outage.
    struct FlakyRelay {
        fail: std::sync::atomic::AtomicUsize,
        published: Mutex<Vec<Delivery>>,
    }

    #[async_trait]
    impl EventRelay for FlakyRelay {
        async fn publish(&self, envelope: &RelayEnvelope) -> DomainResult<()> {
            if self.fail.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                return Err(chitchat_domain::DomainError::unavailable("relay down"));
            }
            lock(&self.published).push(envelope.delivery.clone());
            Ok(())
        }
        async fn next(&self) -> RelayItem {
            std::future::pending().await
        }
        async fn status(&self) -> RelayStatus {
            RelayStatus::Connected
        }
    }

    #[tokio::test]
    async fn an_event_whose_publish_failed_reaches_the_other_instances_as_its_chats_position() {
        let relay = Arc::new(FlakyRelay { fail: 3.into(), published: Mutex::default() });
        let bus = LocalBus::with_relay_every(relay.clone(), Duration::from_millis(20));
        let (chat, user) = (chitchat_domain::ChatId::new(), UserId::new());
        let event = |event_seq| {
            Delivery::Event(EventDelivery { room_id: chat, event_seq, frame: Arc::from("{}"), message_stored_at: None })
        };
        // The relay is down: the event does not get through, and neither do the
        // first announcements.
        assert!(bus.publish(&[user], event(7)).await.is_err());
        let head = Delivery::Head { room_id: chat, event_seq: 7 };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while lock(&relay.published).iter().filter(|d| **d == head).count() < 2 {
            assert!(tokio::time::Instant::now() < deadline, "announced: {:?}", lock(&relay.published));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(lock(&relay.published).len(), 2, "said twice once through, then no more");
    }

    #[tokio::test]
    async fn dropping_a_subscription_unregisters_the_device() {
        let bus = LocalBus::default();
        let sub = bus.subscribe(UserId::new(), device(1));
        assert_eq!(bus.device_count(), 1);
        drop(sub);
        assert_eq!(bus.device_count(), 0);
    }
}
