//! The membership cache of a single instance: in this process's memory.

use async_trait::async_trait;
use chitchat_domain::chat::Member;
use chitchat_domain::ports::cluster::{CacheLookup, CacheTicket, MembershipCache};
use chitchat_domain::{ChatId, DomainResult};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Chats kept at most; beyond, the cache starts again empty (cheap, and rare:
/// only the chats active at one time need to be here).
pub const DEFAULT_CACHED_CHATS: usize = 100_000;

/// One chat's entry: the version that invalidations bump, and the members when known.
struct Entry {
    version: u64,
    members: Option<Vec<Member>>,
}

struct Entries {
    by_chat: HashMap<ChatId, Entry>,
    /// The version of a chat without an entry. After a reset it is above every
    /// version handed out before, so that no older ticket matches a new entry.
    floor: u64,
}

impl Entries {
    /// The chat's entry, making room for it when the cache is full.
    fn entry(&mut self, chat: ChatId, capacity: usize) -> &mut Entry {
        if self.by_chat.len() >= capacity && !self.by_chat.contains_key(&chat) {
            self.floor = self.by_chat.values().map(|e| e.version).max().unwrap_or(self.floor) + 1;
            self.by_chat.clear();
        }
        let floor = self.floor;
        self.by_chat.entry(chat).or_insert(Entry { version: floor, members: None })
    }
}

/// `MembershipCache` in memory, for one instance (no `REDIS_URL`).
pub struct LocalMembershipCache {
    entries: Mutex<Entries>,
    capacity: usize,
}

impl LocalMembershipCache {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(Entries { by_chat: HashMap::new(), floor: 0 }), capacity: capacity.max(1) }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for LocalMembershipCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHED_CHATS)
    }
}

#[async_trait]
impl MembershipCache for LocalMembershipCache {
    async fn lookup(&self, chat: ChatId) -> DomainResult<CacheLookup> {
        let entries = self.entries();
        Ok(match entries.by_chat.get(&chat) {
            Some(Entry { members: Some(members), .. }) => CacheLookup::Hit(members.clone()),
            Some(entry) => CacheLookup::Miss(CacheTicket(entry.version)),
            None => CacheLookup::Miss(CacheTicket(entries.floor)),
        })
    }

    async fn fill(&self, chat: ChatId, ticket: CacheTicket, members: &[Member]) -> DomainResult<()> {
        let mut entries = self.entries();
        let entry = entries.entry(chat, self.capacity);
        if entry.version == ticket.0 {
            entry.members = Some(members.to_vec());
        }
        Ok(())
    }

    async fn invalidate(&self, chat: ChatId) -> DomainResult<()> {
        let mut entries = self.entries();
        let entry = entries.entry(chat, self.capacity);
        entry.version += 1;
        entry.members = None;
        Ok(())
    }
}
