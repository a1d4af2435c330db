//! What the push service knows and has seen: subscriptions, the expected VAPID key,
//! scripted answers and, per endpoint, attempts and accepted pushes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use web_push_native::Auth;

use super::{Answer, ReceivedPush};

/// State shared by the test's handle and the connections being served.
#[derive(Default)]
pub(super) struct Shared {
    registry: Mutex<Registry>,
    /// Woken on every accepted push, for `wait_for`.
    pub(super) accepted: Notify,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, Registry> {
        // A test that panicked while holding the lock leaves the data as usable as before.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The keys a browser keeps for one subscription, to decrypt what is pushed to it.
#[derive(Clone)]
pub(super) struct SubscriberKeys {
    pub(super) secret: p256::SecretKey,
    pub(super) auth: Auth,
}

#[derive(Default)]
pub(super) struct Registry {
    pub(super) vapid_key: Option<String>,
    /// By endpoint URL.
    pub(super) subscribers: HashMap<String, SubscriberKeys>,
    /// By endpoint URL, also for paths that are no subscription.
    pub(super) logs: HashMap<String, EndpointLog>,
    pub(super) refused: Vec<String>,
}

impl Registry {
    pub(super) fn log(&mut self, endpoint: &str) -> &mut EndpointLog {
        self.logs.entry(endpoint.to_owned()).or_default()
    }
}

#[derive(Default)]
pub(super) struct EndpointLog {
    pub(super) attempts: usize,
    pub(super) answers: VecDeque<Answer>,
    pub(super) received: Vec<ReceivedPush>,
}
