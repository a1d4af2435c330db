//! Live delivery to devices: the event bus, each device's subscription, and presence.

use crate::error::DomainResult;
use crate::event::Delivery;
use crate::ids::{SessionId, UserId};
use async_trait::async_trait;
use std::sync::Arc;

/// Counts the connected devices (open sockets) of each user and of each session,
/// across instances when shared.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PresenceTracker: Send + Sync {
    /// A socket of `user` opened in `session`; true when the user was offline until now.
    async fn connected(&self, user: UserId, session: SessionId) -> DomainResult<bool>;
    /// A socket of `user` in `session` closed; true when it was the user's last one.
    async fn disconnected(&self, user: UserId, session: SessionId) -> DomainResult<bool>;
    /// Which of `users` have a device connected.
    async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>>;
    /// Which of `sessions` have a socket open on a live instance (tabs of one
    /// browser share a session, which stays connected until the last one closes).
    async fn connected_sessions(&self, sessions: &[SessionId]) -> DomainResult<Vec<SessionId>>;
    /// Forgets the devices of instances that stopped without saying goodbye (a
    /// crash) and returns the users who are offline because of it. Called
    /// periodically; a single-instance tracker has nothing to expire.
    async fn expire_dead_instances(&self) -> DomainResult<Vec<UserId>> {
        Ok(Vec::new())
    }
}

/// A serialised frame shared by every device it is delivered to.
pub type Frame = Arc<str>;

/// A delivery shared by every device it goes to.
pub type SharedDelivery = Arc<Delivery>;

/// Live fan-out of events to the devices of their recipients.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Hands the delivery to every connected device of every recipient, on every instance.
    async fn publish(&self, recipients: &[UserId], delivery: Delivery) -> DomainResult<()>;
    /// Starts handing the deliveries addressed to `user` to `device`, until the
    /// returned subscription is dropped or the device refuses one.
    fn subscribe(&self, user: UserId, device: Arc<dyn DeviceSink>) -> Box<dyn Subscription>;
    /// Whether events reach the other instances, for `/health`.
    async fn relay_status(&self) -> RelayStatus;
}

/// Where the bus puts one device's deliveries. Called by whoever publishes, so it
/// takes the delivery at once and never waits.
pub trait DeviceSink: Send + Sync {
    /// Takes a delivery; false when the device takes no more (it is gone, or too
    /// far behind), and the bus forgets it.
    fn take(&self, delivery: &SharedDelivery) -> bool;
}

/// One device's registration with the bus. Dropping it unsubscribes.
pub trait Subscription: Send {}

/// Whether the link between instances works, for `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayStatus {
    /// A single instance: there is nothing to relay to.
    NotConfigured,
    Connected,
    Disconnected,
}

impl RelayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        }
    }
}
