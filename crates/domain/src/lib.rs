//! ChitChat's core: entities, validated values, rules, events and the ports that
//! adapters implement. Nothing here performs I/O; services talk to the outside only
//! through the port traits in `ports`.

pub mod access;
pub mod attachment;
pub mod auth;
pub mod chat;
pub mod clock;
pub mod contact;
pub mod error;
pub mod error_code;
#[cfg(test)]
mod error_table;
pub mod event;
pub mod ice;
pub mod ids;
pub mod membership;
pub mod message;
pub mod moderation;
pub mod ports;
#[cfg(test)]
mod properties;
pub mod push;
pub mod receipt;
pub mod search;
pub mod services;
pub mod text;
pub mod user;

pub use error::{error_chain, Cause, DomainError, DomainResult};
pub use error_code::{ErrorCode, ErrorKind};
pub use ids::{AttachmentId, ChatId, LinkId, MessageId, ReportId, SessionId, UserId};
pub use services::Services;
