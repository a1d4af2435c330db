use deadpool_redis::redis::RedisError;
use std::time::Duration;
use thiserror::Error;

/// What can go wrong between the Redis adapters (relay, presence) and Redis.
#[derive(Debug, Error)]
pub enum RelayError {
    /// `REDIS_URL` could not be understood.
    #[error("invalid Redis URL: {0}")]
    InvalidUrl(#[source] RedisError),
    #[error("the relay channel name is empty")]
    EmptyChannel,
    #[error("the presence key prefix is empty")]
    EmptyPrefix,
    #[error("the presence TTL {ttl:?} is shorter than {min:?}")]
    TtlTooShort { ttl: Duration, min: Duration },
    #[error("could not build the Redis connection pool: {0}")]
    PoolSetup(#[from] deadpool_redis::BuildError),
    /// No pooled connection could be had (Redis refused, or the pool timed out).
    #[error("no Redis connection: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
    #[error("Redis command failed: {0}")]
    Redis(#[from] RedisError),
    #[error("Redis closed the connection")]
    ConnectionClosed,
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not encode the envelope: {0}")]
    Encode(#[from] serde_json::Error),
    /// At start-up: the server at `addr` did not answer, or refused the credentials.
    #[error("could not connect to Redis at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: Box<RelayError>,
    },
}
