//! Presence across instances: who has a device connected on any instance sharing
//! one Redis, which sessions have a socket open, and who went offline because an
//! instance crashed.
//!
//! Keys (`P` is the prefix):
//! - `P:presence:user:{user}`: hash, instance id -> that instance's devices of the user.
//! - `P:presence:session:{session}`: hash, instance id -> that instance's sockets of
//!   the session (tabs of one browser share a session).
//! - `P:presence:instance:{id}`: the instance's liveness key, refreshed every third
//!   of the TTL; while it exists the instance's counts count.
//! - `P:presence:instance:{id}:users` and `…:sessions`: sets of the users and the
//!   sessions the instance counts sockets of, so that a dead instance's fields can be found.
//! - `P:presence:instances`: the registry of instances; removing an id from it
//!   (inside the sweep script) is what claims a dead instance, so it is cleaned once.
//!
//! Every change is one Lua script, so that instances racing on one user cannot both
//! (or neither) see them come online. Each instance also keeps its own counts in
//! memory: they are the truth about its devices, and it rewrites its share of Redis
//! from them whenever Redis may have missed an update (a failed or timed-out write,
//! a Redis restart, or having been taken for dead), so counts heal instead of drifting.

use crate::connection::{self, command, connect_failed, ping, script, Connected};
use crate::{RedisRelayConfig, RelayError};
use async_trait::async_trait;
use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::{DomainError, DomainResult, SessionId, UserId};
use deadpool_redis::redis::{cmd, Script, ScriptInvocation};
use deadpool_redis::Pool;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

/// The shortest TTL accepted: refreshes every third of it must still fit between
/// two expiries on a loaded machine.
const MIN_TTL: Duration = Duration::from_millis(300);
/// Refreshes between two rewrites of this instance's share, even when nothing
/// seemed lost: a safety net that bounds any drift to about ten TTLs.
const REBUILD_EVERY: u32 = 30;

/// Where presence lives in Redis and how quickly a crashed instance is noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisPresenceConfig {
    /// The connection settings (`url`, `password`, `db`); `channel` is not used.
    pub redis: RedisRelayConfig,
    /// How long an instance's devices count after its last refresh (about
    /// `WS_PONG_WAIT`); it refreshes every third of it.
    pub ttl: Duration,
    /// Prefix of every key; all instances of one deployment must share it.
    pub prefix: String,
}

impl RedisPresenceConfig {
    /// Presence on the Redis of `redis`, with the relay channel as key prefix.
    pub fn new(redis: RedisRelayConfig, ttl: Duration) -> Self {
        let prefix = redis.channel.clone();
        Self { redis, ttl, prefix }
    }
}

/// The `PresenceTracker` on Redis, for several instances. Dropping it stops the
/// refresh of its liveness key: its devices then stop counting after the TTL and
/// the next `expire_dead_instances` on any instance takes them offline.
pub struct RedisPresence {
    shared: Arc<Shared>,
    refresher: JoinHandle<()>,
}

/// Lua that the counting scripts share. `ARGV[1]` is the calling instance and
/// `ARGV[2]` the prefix of instance keys in every one of them.
const PRELUDE: &str = r"
local me, instance_prefix = ARGV[1], ARGV[2]
local alive = {}
-- Whether an instance's devices count: the caller's always, another's while its liveness key exists.
local function is_alive(id)
  if id == me then return true end
  local known = alive[id]
  if known == nil then
    known = redis.call('EXISTS', instance_prefix .. id) == 1
    alive[id] = known
  end
  return known
end
-- What a counting hash counts on live instances.
local function live_total(hash)
  local fields = redis.call('HGETALL', hash)
  local total = 0
  for i = 1, #fields, 2 do
    local count = tonumber(fields[i + 1]) or 0
    if count > 0 and is_alive(fields[i]) then total = total + count end
  end
  return total
end
";

/// KEYS: pairs of a counting hash and this instance's set of what it counts
/// (the user's, then the session's). ARGV[3], ARGV[4], …: the member of each set.
/// One flag per pair, 1 when nothing was counted there on a live instance before.
const CONNECTED: &str = r"
local firsts = {}
for pair = 1, #KEYS / 2 do
  local hash, own = KEYS[2 * pair - 1], KEYS[2 * pair]
  firsts[pair] = live_total(hash) == 0 and 1 or 0
  redis.call('HINCRBY', hash, me, 1)
  redis.call('SADD', own, ARGV[2 + pair])
end
return firsts
";

/// KEYS and ARGV as for `CONNECTED`. One flag per pair, 1 when nothing is left
/// counted there on a live instance.
const DISCONNECTED: &str = r"
local lasts = {}
for pair = 1, #KEYS / 2 do
  local hash, own = KEYS[2 * pair - 1], KEYS[2 * pair]
  local count = tonumber(redis.call('HGET', hash, me) or '0') or 0
  if count > 1 then
    redis.call('HINCRBY', hash, me, -1)
  else
    redis.call('HDEL', hash, me)
    redis.call('SREM', own, ARGV[2 + pair])
  end
  lasts[pair] = live_total(hash) == 0 and 1 or 0
end
return lasts
";

/// KEYS: counting hashes (of users, or of sessions). One flag per key, 1 when
/// something is counted there on a live instance.
const ANY_LIVE: &str = r"
local flags = {}
for i, hash in ipairs(KEYS) do
  if live_total(hash) > 0 then flags[i] = 1 else flags[i] = 0 end
end
return flags
";

/// KEYS: the registry. ARGV[3]: prefix of user hashes, ARGV[4]: of session hashes.
/// Claims every dead instance (removes it from the registry), deletes its fields,
/// and returns the claimed instances and the users left with no device. A user is
/// returned by the sweep of the last instance that counted for them (live or not
/// yet claimed), so once.
const SWEEP: &str = r"
local registry, user_prefix, session_prefix = KEYS[1], ARGV[3], ARGV[4]
local function pending_total(hash)
  local fields = redis.call('HGETALL', hash)
  local total = 0
  for i = 1, #fields, 2 do
    local id, count = fields[i], tonumber(fields[i + 1]) or 0
    if count > 0 and (is_alive(id) or redis.call('SISMEMBER', registry, id) == 1) then
      total = total + count
    end
  end
  return total
end
local claimed, gone, seen = {}, {}, {}
for _, id in ipairs(redis.call('SMEMBERS', registry)) do
  if not is_alive(id) and redis.call('SREM', registry, id) == 1 then
    claimed[#claimed + 1] = id
    local users_key = instance_prefix .. id .. ':users'
    for _, user in ipairs(redis.call('SMEMBERS', users_key)) do
      local hash = user_prefix .. user
      local had = tonumber(redis.call('HGET', hash, id) or '0') or 0
      redis.call('HDEL', hash, id)
      if had > 0 and not seen[user] and pending_total(hash) == 0 then
        seen[user] = true
        gone[#gone + 1] = user
      end
    end
    redis.call('DEL', users_key)
    local sessions_key = instance_prefix .. id .. ':sessions'
    for _, session in ipairs(redis.call('SMEMBERS', sessions_key)) do
      redis.call('HDEL', session_prefix .. session, id)
    end
    redis.call('DEL', sessions_key)
  end
end
return {claimed, gone}
";

/// KEYS: registry, own liveness key, then this instance's sets (users, sessions).
/// ARGV[1]: this instance, ARGV[2]: TTL in ms, then for each set in turn the prefix
/// of its counting hashes, the number of entries and that many member/count pairs.
/// Replaces this instance's share with the given counts and marks it alive.
const REBUILD: &str = r"
local me = ARGV[1]
local at = 3
for k = 3, #KEYS do
  local own, hash_prefix, entries = KEYS[k], ARGV[at], tonumber(ARGV[at + 1])
  local wanted = {}
  for i = at + 2, at + 2 * entries, 2 do wanted[ARGV[i]] = ARGV[i + 1] end
  for _, member in ipairs(redis.call('SMEMBERS', own)) do
    if wanted[member] == nil then redis.call('HDEL', hash_prefix .. member, me) end
  end
  redis.call('DEL', own)
  for member, count in pairs(wanted) do
    redis.call('HSET', hash_prefix .. member, me, count)
    redis.call('SADD', own, member)
  end
  at = at + 2 + 2 * entries
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[1], me)
return 1
";

struct Scripts {
    connected: Script,
    disconnected: Script,
    any_live: Script,
    sweep: Script,
    rebuild: Script,
}

impl Scripts {
    fn new() -> Self {
        let counting = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            connected: counting(CONNECTED),
            disconnected: counting(DISCONNECTED),
            any_live: counting(ANY_LIVE),
            sweep: counting(SWEEP),
            rebuild: Script::new(REBUILD),
        }
    }
}

/// The key names of one deployment and instance.
struct Keys {
    registry: String,
    /// Liveness keys are this followed by the instance id.
    instance_prefix: String,
    /// User hashes are this followed by the user id.
    user_prefix: String,
    /// Session hashes are this followed by the session id.
    session_prefix: String,
    liveness: String,
    users: String,
    sessions: String,
}

impl Keys {
    fn new(prefix: &str, instance: &str) -> Self {
        let instance_prefix = format!("{prefix}:presence:instance:");
        Self {
            registry: format!("{prefix}:presence:instances"),
            liveness: format!("{instance_prefix}{instance}"),
            users: format!("{instance_prefix}{instance}:users"),
            sessions: format!("{instance_prefix}{instance}:sessions"),
            user_prefix: format!("{prefix}:presence:user:"),
            session_prefix: format!("{prefix}:presence:session:"),
            instance_prefix,
        }
    }

    fn user(&self, user: UserId) -> String {
        format!("{}{user}", self.user_prefix)
    }

    fn session(&self, session: SessionId) -> String {
        format!("{}{session}", self.session_prefix)
    }
}

/// One instance's open sockets, per user and per session.
#[derive(Default)]
struct Sockets {
    users: HashMap<UserId, u32>,
    sessions: HashMap<SessionId, u32>,
}

/// Counts one more.
fn add<K: Hash + Eq>(counts: &mut HashMap<K, u32>, key: K) {
    *counts.entry(key).or_insert(0) += 1;
}

/// Counts one fewer; false when there was none.
fn remove<K: Hash + Eq>(counts: &mut HashMap<K, u32>, key: &K) -> bool {
    match counts.get_mut(key) {
        Some(count) if *count > 1 => *count -= 1,
        Some(_) => {
            counts.remove(key);
        }
        None => return false,
    }
    true
}

/// The arguments that rewrite one of this instance's sets: the prefix of its
/// hashes, the number of entries, then member/count pairs.
fn share_args<K: ToString>(invocation: &mut ScriptInvocation<'_>, hash_prefix: &str, counts: &HashMap<K, u32>) {
    invocation.arg(hash_prefix).arg(counts.len());
    for (member, count) in counts {
        invocation.arg(member.to_string()).arg(*count);
    }
}

/// What the tracker and its refresher task share.
struct Shared {
    pool: Pool,
    addr: String,
    instance: String,
    ttl_ms: u64,
    keys: Keys,
    scripts: Scripts,
    /// This instance's open sockets: the truth its share of Redis is rebuilt from.
    sockets: Mutex<Sockets>,
    /// Held shared by each update (memory, then Redis) and exclusively by a rebuild,
    /// so that no rebuild lands between the two halves of an update.
    updates: RwLock<()>,
    /// An update may have missed Redis: rebuild at the next refresh.
    stale: AtomicBool,
    /// The last command reached Redis; failures are warned about once per outage.
    reachable: AtomicBool,
}

impl Shared {
    fn sockets(&self) -> MutexGuard<'_, Sockets> {
        // Each change is a few inserts or removes, none of which can panic midway,
        // so a poisoned map is still consistent.
        self.sockets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn add_socket(&self, user: UserId, session: SessionId) {
        let mut sockets = self.sockets();
        add(&mut sockets.users, user);
        add(&mut sockets.sessions, session);
    }

    /// False when this instance had no socket of `user`.
    fn remove_socket(&self, user: UserId, session: SessionId) -> bool {
        let mut sockets = self.sockets();
        remove(&mut sockets.sessions, &session);
        remove(&mut sockets.users, &user)
    }

    /// A counting script's invocation, with the arguments every one of them takes.
    fn counting<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(&self.instance).arg(&self.keys.instance_prefix);
        invocation
    }

    /// Runs `change` (`CONNECTED` or `DISCONNECTED`) on the user's and the session's
    /// counts and returns its flag for the user. One that fails leaves Redis
    /// uncertain, so the next refresh rewrites this instance's share.
    async fn update(
        &self,
        what: &'static str,
        change: &Script,
        user: UserId,
        session: SessionId,
    ) -> DomainResult<bool> {
        let mut invocation = self.counting(change);
        invocation.key(self.keys.user(user)).key(&self.keys.users);
        invocation.key(self.keys.session(session)).key(&self.keys.sessions);
        invocation.arg(user.to_string()).arg(session.to_string());
        let result = script::<Vec<i64>>(&self.pool, &invocation).await;
        if result.is_err() {
            self.stale.store(true, Ordering::Relaxed);
        }
        self.settle(what, result).map(|flags| flags.first() == Some(&1))
    }

    /// Which of `keys` (counting hashes) count something on a live instance.
    async fn any_live(&self, what: &'static str, keys: impl Iterator<Item = String>) -> DomainResult<Vec<bool>> {
        let mut invocation = self.counting(&self.scripts.any_live);
        for key in keys {
            invocation.key(key);
        }
        let flags: Vec<i64> = self.settle(what, script(&self.pool, &invocation).await)?;
        Ok(flags.into_iter().map(|flag| flag == 1).collect())
    }

    /// Logs the outcome (a warning once per outage) and maps errors for the domain.
    fn settle<T>(&self, what: &'static str, result: Result<T, RelayError>) -> DomainResult<T> {
        match result {
            Ok(value) => {
                if !self.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!(redis.addr = %self.addr, instance = %self.instance, "presence reaches Redis again");
                }
                Ok(value)
            }
            Err(error) => {
                if self.reachable.swap(false, Ordering::Relaxed) {
                    tracing::warn!(redis.addr = %self.addr, instance = %self.instance, op = what, %error, "presence failed");
                } else {
                    tracing::debug!(redis.addr = %self.addr, instance = %self.instance, op = what, %error, "presence failed");
                }
                Err(DomainError::unavailable_at(format!("presence {what}"), error))
            }
        }
    }

    /// Keeps this instance alive in Redis; rewrites its share when it may be wrong
    /// there (`force`, a failed update, or a liveness key that has vanished).
    /// Returns whether it rewrote.
    async fn refresh(&self, force: bool) -> Result<bool, RelayError> {
        if self.stale.load(Ordering::Relaxed) {
            // Cheap and lock-free: no rebuild (which holds up updates) while Redis is away.
            ping(&self.pool).await?;
        } else if !force {
            let liveness = cmd("SET").arg(&self.keys.liveness).arg(1).arg("PX").arg(self.ttl_ms).arg("XX").clone();
            if command::<Option<String>>(&self.pool, &liveness).await?.is_some() {
                return Ok(false);
            }
            tracing::info!(instance = %self.instance, "presence liveness key was gone (Redis restarted, or this instance was taken for dead); rewriting its devices");
        }
        self.rebuild().await.map(|()| true)
    }

    /// Replaces this instance's share of Redis with its counts in memory.
    async fn rebuild(&self) -> Result<(), RelayError> {
        let _exclusive = self.updates.write().await;
        // No update runs now, so none can fail unseen between here and the script.
        self.stale.store(false, Ordering::Relaxed);
        let mut invocation = self.scripts.rebuild.key(&self.keys.registry);
        invocation.key(&self.keys.liveness).key(&self.keys.users).key(&self.keys.sessions);
        invocation.arg(&self.instance).arg(self.ttl_ms);
        {
            let sockets = self.sockets();
            share_args(&mut invocation, &self.keys.user_prefix, &sockets.users);
            share_args(&mut invocation, &self.keys.session_prefix, &sockets.sessions);
        }
        let result = script::<i64>(&self.pool, &invocation).await.map(drop);
        if result.is_err() {
            self.stale.store(true, Ordering::Relaxed);
        }
        result
    }
}

/// The refresher task: every third of the TTL, until the tracker is dropped.
async fn refresh_forever(shared: Arc<Shared>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate, and `connect` has just registered
    let mut since_rebuild: u32 = 0;
    loop {
        ticks.tick().await;
        since_rebuild += 1;
        let result = shared.refresh(since_rebuild >= REBUILD_EVERY).await;
        if let Ok(true) = result {
            since_rebuild = 0;
        }
        let _ = shared.settle("refresh", result);
    }
}

impl RedisPresence {
    /// Connects, registers this instance under a new random id and starts
    /// refreshing its liveness. Fails with one clear error when the settings are
    /// wrong or Redis does not answer. Must be called inside a tokio runtime.
    pub async fn connect(config: RedisPresenceConfig) -> Result<RedisPresence, RelayError> {
        if config.prefix.is_empty() {
            return Err(RelayError::EmptyPrefix);
        }
        if config.ttl < MIN_TTL {
            return Err(RelayError::TtlTooShort { ttl: config.ttl, min: MIN_TTL });
        }
        let Connected { pool, addr, .. } = connection::connect(&config.redis).await?;
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let shared = Arc::new(Shared {
            pool,
            addr,
            ttl_ms: u64::try_from(config.ttl.as_millis()).unwrap_or(u64::MAX),
            keys: Keys::new(&config.prefix, &instance),
            instance,
            scripts: Scripts::new(),
            sockets: Mutex::default(),
            updates: RwLock::new(()),
            stale: AtomicBool::new(false),
            reachable: AtomicBool::new(true),
        });
        shared.rebuild().await.map_err(|source| connect_failed(&shared.addr, source))?;
        let refresher = tokio::spawn(refresh_forever(shared.clone(), config.ttl / 3));
        tracing::info!(
            redis.addr = %shared.addr, instance = %shared.instance, prefix = %config.prefix, ttl = ?config.ttl,
            "presence tracker connected to Redis"
        );
        Ok(RedisPresence { shared, refresher })
    }

    /// This instance's random id, as its keys and the logs name it.
    pub fn instance_id(&self) -> &str {
        &self.shared.instance
    }
}

#[async_trait]
impl PresenceTracker for RedisPresence {
    /// Err(`Unavailable`) when Redis cannot be reached; the socket still counts
    /// here and reaches Redis with the next refresh after it is back.
    async fn connected(&self, user: UserId, session: SessionId) -> DomainResult<bool> {
        let shared = &self.shared;
        let _update = shared.updates.read().await;
        shared.add_socket(user, session);
        shared.update("connected", &shared.scripts.connected, user, session).await
    }

    /// False, without asking Redis, when this instance had no socket of `user`.
    /// Err(`Unavailable`) when Redis cannot be reached, as for `connected`.
    async fn disconnected(&self, user: UserId, session: SessionId) -> DomainResult<bool> {
        let shared = &self.shared;
        let _update = shared.updates.read().await;
        if !shared.remove_socket(user, session) {
            return Ok(false);
        }
        shared.update("disconnected", &shared.scripts.disconnected, user, session).await
    }

    async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let shared = &self.shared;
        let flags = shared.any_live("online", users.iter().map(|user| shared.keys.user(*user))).await?;
        Ok(users.iter().zip(flags).filter(|(_, live)| *live).map(|(user, _)| *user).collect())
    }

    async fn connected_sessions(&self, sessions: &[SessionId]) -> DomainResult<Vec<SessionId>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let shared = &self.shared;
        let keys = sessions.iter().map(|session| shared.keys.session(*session));
        let flags = shared.any_live("connected_sessions", keys).await?;
        Ok(sessions.iter().zip(flags).filter(|(_, live)| *live).map(|(session, _)| *session).collect())
    }

    async fn expire_dead_instances(&self) -> DomainResult<Vec<UserId>> {
        let shared = &self.shared;
        let mut invocation = shared.counting(&shared.scripts.sweep);
        invocation.key(&shared.keys.registry).arg(&shared.keys.user_prefix).arg(&shared.keys.session_prefix);
        let (claimed, gone): (Vec<String>, Vec<String>) =
            shared.settle("expire", script(&shared.pool, &invocation).await)?;
        let users: Vec<UserId> = gone
            .iter()
            .filter_map(|user| match user.parse() {
                Ok(user) => Some(user),
                Err(error) => {
                    tracing::warn!(%user, %error, "presence entry is not a user id; ignored");
                    None
                }
            })
            .collect();
        if !claimed.is_empty() {
            tracing::info!(
                instance = %shared.instance, dead = ?claimed, offline = users.len(),
                "presence expired the devices of dead instances"
            );
        }
        Ok(users)
    }
}

impl Drop for RedisPresence {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_under_the_prefix() {
        let keys = Keys::new("chitchat:events", "i1");
        assert_eq!(keys.registry, "chitchat:events:presence:instances");
        assert_eq!(keys.liveness, "chitchat:events:presence:instance:i1");
        assert_eq!(keys.users, "chitchat:events:presence:instance:i1:users");
        assert_eq!(keys.sessions, "chitchat:events:presence:instance:i1:sessions");
        let user = UserId::new();
        assert_eq!(keys.user(user), format!("chitchat:events:presence:user:{user}"));
        let session = SessionId::new();
        assert_eq!(keys.session(session), format!("chitchat:events:presence:session:{session}"));
    }

    #[test]
    fn the_prefix_defaults_to_the_relay_channel() {
        let config = RedisPresenceConfig::new(RedisRelayConfig::new("redis://h"), Duration::from_secs(60));
        assert_eq!(config.prefix, crate::DEFAULT_CHANNEL);
    }

    #[tokio::test]
    async fn settings_are_checked_before_connecting() {
        let redis = RedisRelayConfig::new("redis://127.0.0.1:1");
        let short = RedisPresenceConfig::new(redis.clone(), Duration::from_millis(10));
        assert!(matches!(RedisPresence::connect(short).await, Err(RelayError::TtlTooShort { .. })));
        let unnamed = RedisPresenceConfig { prefix: String::new(), ..RedisPresenceConfig::new(redis, MIN_TTL) };
        assert!(matches!(RedisPresence::connect(unnamed).await, Err(RelayError::EmptyPrefix)));
    }
}
