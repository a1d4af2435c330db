//! Web Push: the subscriptions and the outbox (storage), the push services
//! (sending), and the hand-over from the send path to the push planner.

use crate::error::DomainResult;
use crate::event::ChatEvent;
use crate::ids::{SessionId, UserId};
use crate::push::{ClaimedPush, OutboxEntry, PushAnswer, PushKind, PushSubscription};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Subscriptions and the durable outbox of pushes waiting to be sent.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PushRepo: Send + Sync {
    /// Keeps the subscription; one with the same endpoint is replaced (the browser
    /// subscribed again, or another account logged in on it).
    async fn put_subscription(&self, subscription: &PushSubscription, at: DateTime<Utc>) -> DomainResult<()>;
    /// Removes the session's subscription with this endpoint, or all of the
    /// session's when None, with the pushes waiting for them.
    async fn delete_subscriptions(&self, session: SessionId, endpoint: Option<String>) -> DomainResult<u64>;
    /// Removes a subscription the push service said is gone, whoever holds it.
    async fn delete_endpoint(&self, endpoint: &str) -> DomainResult<()>;
    /// The subscriptions of `users` whose sessions are logged in at `now`.
    async fn subscriptions_of(&self, users: &[UserId], now: DateTime<Utc>) -> DomainResult<Vec<PushSubscription>>;
    async fn enqueue(&self, entries: &[OutboxEntry]) -> DomainResult<()>;
    /// Takes up to `limit` pushes due at `now` that no other instance holds, and
    /// holds them for `lease`: an instance that stops while sending leaves them
    /// to the others after that.
    async fn claim_due(&self, now: DateTime<Utc>, lease: Duration, limit: i64) -> DomainResult<Vec<ClaimedPush>>;
    /// Removes a push that was sent or given up.
    async fn complete(&self, id: i64) -> DomainResult<()>;
    /// Keeps a push for another try at `at`, after `attempts` tries.
    async fn retry_at(&self, id: i64, at: DateTime<Utc>, attempts: u32) -> DomainResult<()>;
}

/// The browsers' push services.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PushGateway: Send + Sync {
    /// Encrypts the push for its subscription, signs the request with the
    /// server's VAPID key and posts it with `ttl` seconds to live.
    async fn send(&self, push: &ClaimedPush, ttl: u64) -> PushAnswer;
}

/// One event to plan pushes for: its audience is known, the rest is read later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushJob {
    pub kind: PushKind,
    pub audience: Vec<UserId>,
    pub event: ChatEvent,
}

/// Hands events from the send path to the push planner without making a send
/// wait for it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PushQueue: Send + Sync {
    fn offer(&self, job: PushJob);
}

/// The queue of a server with push turned off.
pub struct PushOff;

impl PushQueue for PushOff {
    fn offer(&self, _job: PushJob) {}
}
