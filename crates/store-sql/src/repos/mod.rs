//! One file per repository port.

mod chats;
mod health;
mod messages;
mod otps;
mod sessions;
mod users;
