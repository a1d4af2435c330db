//! What the Redis adapters share: a pool built from [`RedisRelayConfig`]'s
//! connection settings, checked at start-up, and commands bounded by one timeout.

use crate::{RedisRelayConfig, RelayError};
use deadpool_redis::redis::{cmd, Cmd, ConnectionInfo, FromRedisValue, ScriptInvocation};
use deadpool_redis::{Manager, Pool, Runtime};
use std::future::Future;
use std::time::Duration;

/// How long one command (or script, or taking a pooled connection) may take in all.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Pooled connections per adapter; each is multiplexed, so a few suffice.
const POOL_SIZE: usize = 8;

/// A pool whose server answered at start-up.
pub(crate) struct Connected {
    pub(crate) pool: Pool,
    pub(crate) info: ConnectionInfo,
    /// `host:port`, for logs and errors (never the credentials).
    pub(crate) addr: String,
}

/// Builds the pool for `config` (its URL, password and db) and checks that the
/// server answers, so that a wrong `REDIS_URL` fails start-up with one clear error.
pub(crate) async fn connect(config: &RedisRelayConfig) -> Result<Connected, RelayError> {
    let info = config.connection_info()?;
    let addr = info.addr().to_string();
    let manager = Manager::new(info.clone()).map_err(RelayError::InvalidUrl)?;
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(COMMAND_TIMEOUT))
        .create_timeout(Some(COMMAND_TIMEOUT))
        .recycle_timeout(Some(COMMAND_TIMEOUT))
        .build()?;
    ping(&pool).await.map_err(|source| connect_failed(&addr, source))?;
    Ok(Connected { pool, info, addr })
}

/// The start-up error for a server at `addr` that did not answer.
pub(crate) fn connect_failed(addr: &str, source: RelayError) -> RelayError {
    RelayError::Connect { addr: addr.to_owned(), source: Box::new(source) }
}

/// Waits for `attempt` at most `COMMAND_TIMEOUT`.
pub(crate) async fn bounded<T>(attempt: impl Future<Output = Result<T, RelayError>>) -> Result<T, RelayError> {
    tokio::time::timeout(COMMAND_TIMEOUT, attempt).await.map_err(|_| RelayError::Timeout(COMMAND_TIMEOUT))?
}

/// Runs one command on a pooled connection, waiting at most `COMMAND_TIMEOUT` in all.
pub(crate) async fn command<T: FromRedisValue>(pool: &Pool, command: &Cmd) -> Result<T, RelayError> {
    bounded(async {
        let mut connection = pool.get().await?;
        Ok(command.query_async::<T>(&mut connection).await?)
    })
    .await
}

/// Runs a Lua script on a pooled connection (by its hash, loading it first when
/// the server does not know it, as after a restart), within `COMMAND_TIMEOUT`.
pub(crate) async fn script<T: FromRedisValue>(pool: &Pool, invocation: &ScriptInvocation<'_>) -> Result<T, RelayError> {
    bounded(async {
        let mut connection = pool.get().await?;
        Ok(invocation.invoke_async::<T>(&mut connection).await?)
    })
    .await
}

pub(crate) async fn ping(pool: &Pool) -> Result<(), RelayError> {
    command::<String>(pool, &cmd("PING")).await.map(drop)
}
