//! One file per repository port.

mod chats;
mod contacts;
mod health;
mod messages;
mod otps;
mod receipts;
mod sessions;
mod users;
