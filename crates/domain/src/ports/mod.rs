//! The traits adapters implement, by what they are for. Services use the ports
//! re-exported here; `cluster` holds the contracts only adapters use.

mod calls;
pub mod cluster;
mod credentials;
mod delivery;
mod files;
mod moderation;
mod push;
mod storage;

pub use calls::*;
pub use credentials::*;
pub use delivery::*;
pub use files::*;
pub use moderation::*;
pub use push::*;
pub use storage::*;
