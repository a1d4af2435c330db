use async_trait::async_trait;
use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::{DomainResult, UserId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Counts connected devices per user in this process (a single instance).
#[derive(Default)]
pub struct LocalPresence {
    devices: Mutex<HashMap<UserId, usize>>,
}

impl LocalPresence {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, usize>> {
        // Each update is one insert or remove, so a poisoned map is still consistent.
        self.devices.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl PresenceTracker for LocalPresence {
    async fn connected(&self, user: UserId) -> DomainResult<bool> {
        let mut devices = self.lock();
        let count = devices.entry(user).or_insert(0);
        *count += 1;
        Ok(*count == 1)
    }

    async fn disconnected(&self, user: UserId) -> DomainResult<bool> {
        let mut devices = self.lock();
        match devices.get_mut(&user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                Ok(false)
            }
            Some(_) => {
                devices.remove(&user);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        let devices = self.lock();
        Ok(users.iter().filter(|u| devices.contains_key(u)).copied().collect())
    }
}
