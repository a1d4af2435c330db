//! What the instances of one deployment share beneath the services: the relay that
//! carries events between instances, the membership cache and the request counters
//! behind rate limits. Adapters implement and use these; services never call them
//! (the membership cache is read through `crate::membership`).

/// What `EventRelay::status` reports; the event bus passes it on to `/health`.
pub use super::delivery::RelayStatus;
use crate::chat::Member;
use crate::error::DomainResult;
use crate::event::Delivery;
use crate::ids::{ChatId, UserId};
use async_trait::async_trait;

/// An event on its way between instances: who gets it, and its frame, already serialised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RelayEnvelope {
    /// The instance that published it; an instance ignores its own envelopes,
    /// which it has already delivered locally.
    pub origin: uuid::Uuid,
    pub recipients: Vec<UserId>,
    pub delivery: Delivery,
}

/// What the relay hands back: an envelope, or word that some may have been lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayItem {
    Envelope(RelayEnvelope),
    /// Envelopes may have been lost (an outage or an overflow): local devices must
    /// catch up from the durable log.
    Gap,
}

/// Carries events to the other instances of a deployment (Redis pub/sub). The
/// event bus delivers to local devices itself and hands every event to the relay
/// too; envelopes from other instances come back through `next`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventRelay: Send + Sync {
    /// Sends to every other instance. Errors when the relay is unreachable; the
    /// caller has already delivered locally, and devices elsewhere catch up by resuming.
    async fn publish(&self, envelope: &RelayEnvelope) -> DomainResult<()>;
    /// The next envelope published by any instance (possibly this one), or `Gap`
    /// after envelopes may have been lost. Waits while the relay is unreachable and
    /// resumes by itself when it returns, reporting a `Gap` then.
    async fn next(&self) -> RelayItem;
    async fn status(&self) -> RelayStatus;
}

/// What a membership cache answers for a chat: its active members, or a ticket
/// with which to fill the entry once they have been read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLookup {
    Hit(Vec<Member>),
    Miss(CacheTicket),
}

/// The version of a chat's entry when a lookup missed: a fill with it is ignored
/// when the entry was invalidated in between, so that a reader that loaded the
/// members before a change cannot put them back after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTicket(pub u64);

/// Active members of chats kept out of the database, shared by every instance
/// that shares the cache. Errors only cost the cache: callers read the store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MembershipCache: Send + Sync {
    async fn lookup(&self, chat: ChatId) -> DomainResult<CacheLookup>;
    /// Stores `members` (active ones, in the store's order) for `chat`, unless the
    /// entry was invalidated after `ticket` was issued.
    async fn fill(&self, chat: ChatId, ticket: CacheTicket, members: &[Member]) -> DomainResult<()>;
    /// Drops the entry and makes every ticket issued before this call stale.
    async fn invalidate(&self, chat: ChatId) -> DomainResult<()>;
}

/// A request allowance: `per_minute` on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateQuota {
    /// The time one request uses up (GCRA's emission interval).
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60) / self.per_minute.max(1)
    }

    /// How far ahead of now a caller's allowance may be used (the burst beyond one).
    pub fn tolerance(&self) -> std::time::Duration {
        self.interval() * self.burst.max(1).saturating_sub(1)
    }
}

/// Request counters per caller (a user or an address), shared by the instances
/// that share the counter store, so that a limit holds however requests are
/// spread over instances.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RequestCounter: Send + Sync {
    /// Counts one request of `key` against `quota`: None when it is allowed,
    /// else how long the caller must wait (and the request is not counted).
    async fn take(&self, key: &str, quota: RateQuota) -> DomainResult<Option<std::time::Duration>>;
}
