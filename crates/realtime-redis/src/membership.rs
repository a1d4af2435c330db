//! The membership cache shared by the instances of a deployment, in Redis.
//!
//! Keys (`P` is the prefix):
//! - `P:members:{chat}`: the chat's active members as JSON, expiring after the TTL;
//! - `P:members:{chat}:v`: the entry's version, bumped by every invalidation.
//!
//! A lookup that misses hands out the version it saw; a fill stores only while
//! the version is unchanged (one script), so that a reader that loaded members
//! before a change cannot put them back after it. An invalidation that cannot
//! reach Redis is retried every second until it lands, and entries expire after
//! the TTL in any case, which bounds how long an instance cut off from Redis can
//! leave another instance with members that changed.

use crate::connection::{self, command, script, Connected};
use crate::{RedisRelayConfig, RelayError};
use async_trait::async_trait;
use chitchat_domain::chat::Member;
use chitchat_domain::ports::cluster::{CacheLookup, CacheTicket, MembershipCache};
use chitchat_domain::{ChatId, DomainError, DomainResult};
use deadpool_redis::redis::{cmd, Script};
use deadpool_redis::Pool;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a cached member list lives without being invalidated.
pub const DEFAULT_MEMBERS_TTL: Duration = Duration::from_secs(30);
/// How long a version outlives its entry (it must outlast any fill in flight).
const VERSION_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often invalidations that failed are tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// KEYS: entry, version. ARGV: expected version, members JSON, TTL in ms.
const FILL: &str = r"
local current = redis.call('GET', KEYS[2]) or '0'
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// KEYS: entry, version. ARGV: version TTL in ms.
const INVALIDATE: &str = r"
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1
";

struct Shared {
    pool: Pool,
    prefix: String,
    ttl_ms: u64,
    fill: Script,
    invalidate: Script,
    /// Chats whose invalidation has not reached Redis yet.
    pending: Mutex<HashSet<ChatId>>,
}

/// `MembershipCache` on Redis, shared by every instance with the same prefix.
pub struct RedisMembershipCache {
    shared: Arc<Shared>,
    retrier: JoinHandle<()>,
}

impl RedisMembershipCache {
    /// Connects to the Redis of `config` (keys under `prefix`, entries living
    /// `ttl`). Fails with one clear error when Redis does not answer.
    pub async fn connect(config: &RedisRelayConfig, prefix: &str, ttl: Duration) -> Result<Self, RelayError> {
        if prefix.is_empty() {
            return Err(RelayError::EmptyPrefix);
        }
        let Connected { pool, .. } = connection::connect(config).await?;
        let shared = Arc::new(Shared {
            pool,
            prefix: prefix.to_owned(),
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
            fill: Script::new(FILL),
            invalidate: Script::new(INVALIDATE),
            pending: Mutex::default(),
        });
        let retrier = tokio::spawn(retry_forever(Arc::downgrade(&shared)));
        Ok(Self { shared, retrier })
    }
}

impl Drop for RedisMembershipCache {
    fn drop(&mut self) {
        self.retrier.abort();
    }
}

impl Shared {
    fn keys(&self, chat: ChatId) -> (String, String) {
        let entry = format!("{}:members:{chat}", self.prefix);
        let version = format!("{entry}:v");
        (entry, version)
    }

    async fn invalidate(&self, chat: ChatId) -> Result<(), RelayError> {
        let (entry, version) = self.keys(chat);
        let ttl = u64::try_from(VERSION_TTL.as_millis()).unwrap_or(u64::MAX);
        script::<i64>(&self.pool, self.invalidate.key(&entry).key(&version).arg(ttl)).await.map(drop)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<ChatId>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unavailable(what: &str, error: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::unavailable_at(format!("membership cache {what}"), error)
}

/// Tries failed invalidations again until each lands; stops with the cache.
async fn retry_forever(shared: std::sync::Weak<Shared>) {
    let mut tick = tokio::time::interval(RETRY_EVERY);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else { return };
        let chats: Vec<ChatId> = shared.pending().iter().copied().collect();
        for chat in chats {
            if shared.invalidate(chat).await.is_err() {
                break;
            }
            shared.pending().remove(&chat);
            tracing::info!(chat_id = %chat, "cached members invalidated after Redis came back");
        }
    }
}

#[async_trait]
impl MembershipCache for RedisMembershipCache {
    async fn lookup(&self, chat: ChatId) -> DomainResult<CacheLookup> {
        let (entry, version) = self.shared.keys(chat);
        let (members, seen): (Option<String>, Option<u64>) =
            command(&self.shared.pool, cmd("MGET").arg(&entry).arg(&version))
                .await
                .map_err(|e| unavailable("lookup", e))?;
        match members.map(|json| serde_json::from_str::<Vec<Member>>(&json)) {
            Some(Ok(members)) => Ok(CacheLookup::Hit(members)),
            // An entry this version cannot read is as good as none.
            Some(Err(_)) | None => Ok(CacheLookup::Miss(CacheTicket(seen.unwrap_or(0)))),
        }
    }

    async fn fill(&self, chat: ChatId, ticket: CacheTicket, members: &[Member]) -> DomainResult<()> {
        let (entry, version) = self.shared.keys(chat);
        let json = serde_json::to_string(members).map_err(|e| unavailable("fill", e))?;
        let mut invocation = self.shared.fill.key(&entry);
        invocation.key(&version).arg(ticket.0).arg(json).arg(self.shared.ttl_ms);
        script::<i64>(&self.shared.pool, &invocation).await.map(drop).map_err(|e| unavailable("fill", e))
    }

    async fn invalidate(&self, chat: ChatId) -> DomainResult<()> {
        match self.shared.invalidate(chat).await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.shared.pending().insert(chat);
                Err(unavailable("invalidate (will retry)", error))
            }
        }
    }
}
