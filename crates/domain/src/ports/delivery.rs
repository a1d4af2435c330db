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
    /// Starts receiving the frames addressed to `user` on this device.
    fn subscribe(&self, user: UserId) -> Box<dyn Subscription>;
    /// Whether events reach the other instances, for `/health`.
    async fn relay_status(&self) -> RelayStatus;
}

/// One device's stream of frames. Dropping it unsubscribes.
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery, or None when the bus dropped this device (queue overflow or shutdown).
    async fn next(&mut self) -> Option<SharedDelivery>;
}

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
