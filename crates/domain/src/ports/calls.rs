//! The calls going on, shared by every instance of a deployment.

use crate::call::Call;
use crate::error::DomainResult;
use crate::ids::{CallId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Live calls, shared by the instances that share the registry. Changes are
/// compare-and-swap on `Call::version`, so that of two instances deciding on one
/// version of a call only one stores its decision; the other reads and decides
/// again. Alongside each call the registry keeps who is in it (`Call::engaged`)
/// and when its next deadline falls (`Call::next_deadline`).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallRegistry: Send + Sync {
    async fn get(&self, id: CallId) -> DomainResult<Option<Call>>;
    /// Stores a new call unless someone engaged in it is already engaged in
    /// another live call; returns whether it did.
    async fn insert(&self, call: &Call) -> DomainResult<bool>;
    /// Stores `call` (whose version is one more) in place of the stored version
    /// `expected`; false, with nothing changed, when the stored call is another
    /// version or gone.
    async fn replace(&self, expected: u64, call: &Call) -> DomainResult<bool>;
    /// Removes the call (it ended) if it is still at version `expected`; returns
    /// whether it did, so that exactly one remover writes its record.
    async fn remove(&self, id: CallId, expected: u64) -> DomainResult<bool>;
    /// The live call `user` is engaged in (joined, or dropped and may come back).
    async fn active_call_of(&self, user: UserId) -> DomainResult<Option<CallId>>;
    /// The calls whose next deadline is at or before `now`.
    async fn due(&self, now: DateTime<Utc>) -> DomainResult<Vec<Call>>;
}
