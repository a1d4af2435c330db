//! Single-instance adapters: an in-process event bus that fans frames out to the
//! devices connected to this process (the embedded default when `REDIS_URL` is unset).

mod bus;
mod heads;
mod membership;
mod presence;
mod rate;

pub use bus::{LocalBus, DEFAULT_DEVICE_QUEUE};
pub use membership::{LocalMembershipCache, DEFAULT_CACHED_CHATS};
pub use presence::LocalPresence;
pub use rate::LocalRequestCounter;
