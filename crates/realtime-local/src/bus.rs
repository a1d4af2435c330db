use async_trait::async_trait;
use chitchat_domain::event::Delivery;
use chitchat_domain::ports::{
    EventBus, EventRelay, RelayEnvelope, RelayItem, RelayStatus, SharedDelivery, Subscription,
};
use chitchat_domain::{DomainResult, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Frames a device may have waiting before it counts as too slow and is dropped.
pub const DEFAULT_DEVICE_QUEUE: usize = 1024;

type Registry = HashMap<UserId, Vec<Device>>;

struct Device {
    id: u64,
    tx: mpsc::Sender<SharedDelivery>,
}

/// Fans events out to the devices subscribed in this process. Each event is
/// serialised once; every device gets the same shared bytes through its own
/// bounded queue, so one slow device never holds up the others. With a relay
/// (Redis), events also travel to and arrive from the other instances.
#[derive(Clone)]
pub struct LocalBus {
    registry: Arc<Mutex<Registry>>,
    next_device: Arc<AtomicU64>,
    queue_len: usize,
    relay: Option<Arc<dyn EventRelay>>,
    instance: uuid::Uuid,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new(DEFAULT_DEVICE_QUEUE)
    }
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // A panic while holding the lock cannot leave the map half-updated in a way
    // that matters (every update is a single push or retain), so keep going.
    registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LocalBus {
    pub fn new(queue_len: usize) -> Self {
        Self {
            registry: Arc::default(),
            next_device: Arc::default(),
            queue_len: queue_len.max(1),
            relay: None,
            instance: uuid::Uuid::new_v4(),
        }
    }

    /// A bus that also exchanges events with other instances through `relay`.
    /// Spawns the task that delivers other instances' events here, so it must be
    /// called inside a tokio runtime.
    pub fn with_relay(queue_len: usize, relay: Arc<dyn EventRelay>) -> Self {
        let mut bus = Self::new(queue_len);
        bus.relay = Some(relay.clone());
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
            devices.retain(|device| match device.tx.try_send(delivery.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // Dropping the sender ends the device's stream; the gateway closes
                    // the socket and the client catches up from history on reconnect.
                    tracing::warn!(user = %user, device = device.id, "device queue full; disconnecting slow device");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
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
            let envelope = RelayEnvelope {
                origin: self.instance,
                recipients: recipients.to_vec(),
                delivery: Delivery::clone(&delivery),
            };
            // Local devices have it; devices on other instances catch up when they resume.
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

    fn subscribe(&self, user: UserId) -> Box<dyn Subscription> {
        let (tx, rx) = mpsc::channel(self.queue_len);
        let id = self.next_device.fetch_add(1, Ordering::Relaxed);
        lock(&self.registry).entry(user).or_default().push(Device { id, tx });
        Box::new(LocalSubscription { rx, user, id, registry: self.registry.clone() })
    }
}

struct LocalSubscription {
    rx: mpsc::Receiver<SharedDelivery>,
    user: UserId,
    id: u64,
    registry: Arc<Mutex<Registry>>,
}

#[async_trait]
impl Subscription for LocalSubscription {
    async fn next(&mut self) -> Option<SharedDelivery> {
        self.rx.recv().await
    }
}

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

    #[tokio::test]
    async fn a_device_that_falls_behind_is_dropped_and_the_others_still_receive() {
        let bus = LocalBus::new(2);
        let user = UserId::new();
        let mut slow = bus.subscribe(user);
        let mut fast = bus.subscribe(user);
        let frame: SharedDelivery = Arc::new(Delivery::Event(EventDelivery {
            room_id: chitchat_domain::ChatId::new(),
            event_seq: 1,
            frame: Arc::from("{}"),
            message_stored_at: None,
        }));
        for _ in 0..2 {
            bus.deliver(&[user], &frame);
            assert!(fast.next().await.is_some());
        }
        // The slow device has two frames queued; the third overflows it.
        bus.deliver(&[user], &frame);
        assert!(fast.next().await.is_some());
        assert_eq!(bus.device_count(), 1, "the slow device was dropped");
        assert!(slow.next().await.is_some());
        assert!(slow.next().await.is_some());
        assert!(slow.next().await.is_none(), "its stream ends after what was queued");
    }

    #[tokio::test]
    async fn dropping_a_subscription_unregisters_the_device() {
        let bus = LocalBus::default();
        let sub = bus.subscribe(UserId::new());
        assert_eq!(bus.device_count(), 1);
        drop(sub);
        assert_eq!(bus.device_count(), 0);
    }
}
