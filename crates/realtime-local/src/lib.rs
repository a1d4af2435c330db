//! Single-instance adapters: an in-process event bus that fans frames out to the
//! devices connected to this process (the embedded default when `REDIS_URL` is unset).

mod bus;
mod presence;

pub use bus::{LocalBus, DEFAULT_DEVICE_QUEUE};
pub use presence::LocalPresence;
