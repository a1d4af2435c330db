use async_trait::async_trait;
use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::{DomainResult, SessionId, UserId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

/// Counts open sockets per user and per session in this process (a single instance).
#[derive(Default)]
pub struct LocalPresence {
    sockets: Mutex<Sockets>,
}

#[derive(Default)]
struct Sockets {
    users: HashMap<UserId, usize>,
    sessions: HashMap<SessionId, usize>,
}

impl LocalPresence {
    fn lock(&self) -> MutexGuard<'_, Sockets> {
        // Each update is a few inserts or removes, none of which can panic midway,
        // so a poisoned map is still consistent.
        self.sockets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Counts one more; true when it is the first.
fn add<K: Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) -> bool {
    let count = counts.entry(key).or_insert(0);
    *count += 1;
    *count == 1
}

/// Counts one fewer; true when that was the last (false when there was none).
fn remove<K: Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) -> bool {
    match counts.get_mut(key) {
        Some(count) if *count > 1 => {
            *count -= 1;
            false
        }
        Some(_) => {
            counts.remove(key);
            true
        }
        None => false,
    }
}

#[async_trait]
impl PresenceTracker for LocalPresence {
    async fn connected(&self, user: UserId, session: SessionId) -> DomainResult<bool> {
        let mut sockets = self.lock();
        add(&mut sockets.sessions, session);
        Ok(add(&mut sockets.users, user))
    }

    async fn disconnected(&self, user: UserId, session: SessionId) -> DomainResult<bool> {
        let mut sockets = self.lock();
        remove(&mut sockets.sessions, &session);
        Ok(remove(&mut sockets.users, &user))
    }

    async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        let sockets = self.lock();
        Ok(users.iter().filter(|u| sockets.users.contains_key(u)).copied().collect())
    }

    async fn connected_sessions(&self, sessions: &[SessionId]) -> DomainResult<Vec<SessionId>> {
        let sockets = self.lock();
        Ok(sessions.iter().filter(|s| sockets.sessions.contains_key(s)).copied().collect())
    }
}
