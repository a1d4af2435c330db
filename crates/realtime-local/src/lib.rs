//! Single-instance adapters: an in-process event bus that fans frames out to the
//! devices connected to this process (the embedded default when `REDIS_URL` is unset),
//! and the calls, presence, member lists and request counters of one process.

mod bus;
mod calls;
mod heads;
mod membership;
mod presence;
mod rate;

pub use bus::LocalBus;
pub use calls::LocalCallRegistry;
pub use membership::{LocalMembershipCache, DEFAULT_CACHED_CHATS};
pub use presence::LocalPresence;
pub use rate::LocalRequestCounter;
