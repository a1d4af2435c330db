//! The calls of one instance, in memory.

use async_trait::async_trait;
use chitchat_domain::call::Call;
use chitchat_domain::ports::CallRegistry;
use chitchat_domain::{CallId, DomainResult, UserId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Default)]
struct Calls {
    by_id: HashMap<CallId, Call>,
    /// Who is engaged in which call.
    engaged: HashMap<UserId, CallId>,
}

impl Calls {
    /// Stores `call` and points its engaged people at it (and the others away from it).
    fn put(&mut self, call: &Call) {
        self.forget(call.id);
        for user in call.engaged() {
            self.engaged.insert(user, call.id);
        }
        self.by_id.insert(call.id, call.clone());
    }

    fn forget(&mut self, id: CallId) {
        self.engaged.retain(|_, call| *call != id);
    }
}

/// `CallRegistry` for one instance.
#[derive(Default)]
pub struct LocalCallRegistry {
    calls: Mutex<Calls>,
}

impl LocalCallRegistry {
    fn calls(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl CallRegistry for LocalCallRegistry {
    async fn get(&self, id: CallId) -> DomainResult<Option<Call>> {
        Ok(self.calls().by_id.get(&id).cloned())
    }

    async fn insert(&self, call: &Call) -> DomainResult<bool> {
        let mut calls = self.calls();
        if calls.by_id.contains_key(&call.id) || call.engaged().iter().any(|user| calls.engaged.contains_key(user)) {
            return Ok(false);
        }
        calls.put(call);
        Ok(true)
    }

    async fn replace(&self, expected: u64, call: &Call) -> DomainResult<bool> {
        let mut calls = self.calls();
        if calls.by_id.get(&call.id).map(|stored| stored.version) != Some(expected) {
            return Ok(false);
        }
        calls.put(call);
        Ok(true)
    }

    async fn remove(&self, id: CallId, expected: u64) -> DomainResult<bool> {
        let mut calls = self.calls();
        if calls.by_id.get(&id).map(|stored| stored.version) != Some(expected) {
            return Ok(false);
        }
        calls.by_id.remove(&id);
        calls.forget(id);
        Ok(true)
    }

    async fn active_call_of(&self, user: UserId) -> DomainResult<Option<CallId>> {
        Ok(self.calls().engaged.get(&user).copied())
    }

    async fn due(&self, now: DateTime<Utc>) -> DomainResult<Vec<Call>> {
        Ok(self
            .calls()
            .by_id
            .values()
            .filter(|call| call.next_deadline().is_some_and(|at| at <= now))
            .cloned()
            .collect())
    }
}
