//! Adapters on Redis, for deployments of several instances. Today: the relay that
//! carries events between instances over Redis pub/sub ([`RedisRelay`], the
//! `EventRelay` port), so that a device on one instance gets what was sent on another.

mod config;
mod connection;
mod error;
mod relay;
mod subscriber;

pub use config::{RedisRelayConfig, DEFAULT_CHANNEL};
pub use error::RelayError;
pub use relay::RedisRelay;
