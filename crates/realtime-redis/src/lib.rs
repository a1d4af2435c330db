//! Adapters on Redis, for deployments of several instances: the relay that
//! carries events between instances over Redis pub/sub ([`RedisRelay`], the
//! `EventRelay` port), so that a device on one instance gets what was sent on
//! another; and presence shared by the instances ([`RedisPresence`], the
//! `PresenceTracker` port), which also notices instances that crashed.

mod calls;
mod config;
mod connection;
mod error;
mod membership;
mod presence;
mod rate;
mod relay;
mod subscriber;

pub use calls::RedisCallRegistry;
pub use config::{RedisRelayConfig, DEFAULT_CHANNEL};
pub use error::RelayError;
pub use membership::{RedisMembershipCache, DEFAULT_MEMBERS_TTL};
pub use presence::{RedisPresence, RedisPresenceConfig};
pub use rate::RedisRequestCounter;
pub use relay::RedisRelay;
