//! The calls going on, shared by the instances of a deployment in Redis.
//!
//! Keys (`P` is the prefix):
//! - `P:call:{id}`: a hash of the call's `v` (version) and `json`;
//! - `P:call_of:{user}`: the id of the call the user is engaged in;
//! - `P:calls_due`: a sorted set of call ids by their next deadline (Unix ms).
//!
//! Every change is one script that compares the stored version and writes the
//! call, its people's keys and its deadline together. Everything expires
//! `CALL_TTL` after the call's last change, so that nothing outlives a call
//! whose instances all stopped.

use crate::connection::{self, command, script, Connected};
use crate::{RedisRelayConfig, RelayError};
use async_trait::async_trait;
use chitchat_domain::call::Call;
use chitchat_domain::ports::CallRegistry;
use chitchat_domain::{CallId, DomainError, DomainResult, UserId};
use chrono::{DateTime, Utc};
use deadpool_redis::redis::{cmd, Script};
use deadpool_redis::Pool;
use std::time::Duration;

/// How long a call and its keys live after its last change.
const CALL_TTL: Duration = Duration::from_secs(24 * 3600);

/// Stores a call. KEYS: the call, the deadlines, then the keys of the engaged
/// people, then those of the others. ARGV: the expected version or `insert`,
/// the new version, the JSON, the TTL in ms, the call id, the deadline in ms or
/// '', how many people are engaged, the prefix of call keys.
const PUT: &str = r"
if ARGV[1] == 'insert' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  for i = 3, 2 + tonumber(ARGV[7]) do
    local other = redis.call('GET', KEYS[i])
    if other and other ~= ARGV[5] and redis.call('EXISTS', ARGV[8] .. other) == 1 then return 0 end
  end
elseif redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local engaged = tonumber(ARGV[7])
for i = 3, #KEYS do
  if i < 3 + engaged then
    redis.call('SET', KEYS[i], ARGV[5], 'PX', ARGV[4])
  elseif redis.call('GET', KEYS[i]) == ARGV[5] then
    redis.call('DEL', KEYS[i])
  end
end
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
end
return 1
";

/// Removes a call. KEYS: the call, the deadlines, then its people's keys. ARGV:
/// the expected version, the call id.
const REMOVE: &str = r"
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
for i = 3, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return 1
";

/// `CallRegistry` on Redis, shared by every instance with the same prefix.
pub struct RedisCallRegistry {
    pool: Pool,
    prefix: String,
    put: Script,
    remove: Script,
}

fn unavailable(what: &str, error: impl std::error::Error + Send + Sync + 'static) -> DomainError {
    DomainError::unavailable_at(format!("call registry {what}"), error)
}

impl RedisCallRegistry {
    /// Connects to the Redis of `config`, with keys under `prefix`. Fails with one
    /// clear error when Redis does not answer.
    pub async fn connect(config: &RedisRelayConfig, prefix: &str) -> Result<Self, RelayError> {
        if prefix.is_empty() {
            return Err(RelayError::EmptyPrefix);
        }
        let Connected { pool, .. } = connection::connect(config).await?;
        Ok(Self { pool, prefix: prefix.to_owned(), put: Script::new(PUT), remove: Script::new(REMOVE) })
    }

    fn call_key(&self, id: CallId) -> String {
        format!("{}:call:{id}", self.prefix)
    }

    fn user_key(&self, user: UserId) -> String {
        format!("{}:call_of:{user}", self.prefix)
    }

    fn due_key(&self) -> String {
        format!("{}:calls_due", self.prefix)
    }

    /// Stores `call` if the stored version is `expected` (None: if there is no
    /// such call yet and none of its engaged people is in another).
    async fn put(&self, expected: Option<u64>, call: &Call) -> DomainResult<bool> {
        let json = serde_json::to_string(call).map_err(|e| unavailable("write", e))?;
        let engaged = call.engaged();
        let others = call.user_ids().into_iter().filter(|user| !engaged.contains(user));
        let deadline = call.next_deadline().map(|at| at.timestamp_millis().to_string()).unwrap_or_default();
        let mut invocation = self.put.key(self.call_key(call.id));
        invocation.key(self.due_key());
        for user in engaged.iter().copied().chain(others) {
            invocation.key(self.user_key(user));
        }
        invocation
            .arg(expected.map_or_else(|| "insert".to_owned(), |v| v.to_string()))
            .arg(call.version)
            .arg(json)
            .arg(ttl_ms())
            .arg(call.id.to_string())
            .arg(deadline)
            .arg(engaged.len())
            .arg(format!("{}:call:", self.prefix));
        let stored: i64 = script(&self.pool, &invocation).await.map_err(|e| unavailable("write", e))?;
        Ok(stored == 1)
    }

    async fn read(&self, id: CallId) -> DomainResult<Option<Call>> {
        let json: Option<String> = command(&self.pool, cmd("HGET").arg(self.call_key(id)).arg("json"))
            .await
            .map_err(|e| unavailable("read", e))?;
        // A call this version cannot read is as good as gone.
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }
}

fn ttl_ms() -> u64 {
    u64::try_from(CALL_TTL.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl CallRegistry for RedisCallRegistry {
    async fn get(&self, id: CallId) -> DomainResult<Option<Call>> {
        self.read(id).await
    }

    async fn insert(&self, call: &Call) -> DomainResult<bool> {
        self.put(None, call).await
    }

    async fn replace(&self, expected: u64, call: &Call) -> DomainResult<bool> {
        self.put(Some(expected), call).await
    }

    async fn remove(&self, id: CallId, expected: u64) -> DomainResult<bool> {
        let Some(call) = self.read(id).await?.filter(|call| call.version == expected) else { return Ok(false) };
        let mut invocation = self.remove.key(self.call_key(id));
        invocation.key(self.due_key());
        for user in call.user_ids() {
            invocation.key(self.user_key(user));
        }
        invocation.arg(expected).arg(id.to_string());
        let removed: i64 = script(&self.pool, &invocation).await.map_err(|e| unavailable("remove", e))?;
        Ok(removed == 1)
    }

    async fn active_call_of(&self, user: UserId) -> DomainResult<Option<CallId>> {
        let id: Option<String> =
            command(&self.pool, cmd("GET").arg(self.user_key(user))).await.map_err(|e| unavailable("read", e))?;
        let Some(id) = id.and_then(|id| id.parse::<CallId>().ok()) else { return Ok(None) };
        let live: bool =
            command(&self.pool, cmd("EXISTS").arg(self.call_key(id))).await.map_err(|e| unavailable("read", e))?;
        Ok(live.then_some(id))
    }

    async fn due(&self, now: DateTime<Utc>) -> DomainResult<Vec<Call>> {
        let ids: Vec<String> =
            command(&self.pool, cmd("ZRANGEBYSCORE").arg(self.due_key()).arg("-inf").arg(now.timestamp_millis()))
                .await
                .map_err(|e| unavailable("read deadlines", e))?;
        let mut calls = Vec::with_capacity(ids.len());
        for raw in ids {
            match raw.parse::<CallId>() {
                Ok(id) => match self.read(id).await? {
                    Some(call) => calls.push(call),
                    // Expired with its keys: its deadline goes too.
                    None => self.forget_deadline(&raw).await?,
                },
                Err(_) => self.forget_deadline(&raw).await?,
            }
        }
        Ok(calls)
    }
}

impl RedisCallRegistry {
    async fn forget_deadline(&self, raw: &str) -> DomainResult<()> {
        command::<i64>(&self.pool, cmd("ZREM").arg(self.due_key()).arg(raw))
            .await
            .map(drop)
            .map_err(|e| unavailable("forget a deadline", e))
    }
}
