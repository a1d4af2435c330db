//! One file per repository port, and the steps they share inside transactions.

mod attachments;
mod chat_log;
mod chat_settings;
mod chats;
mod contacts;
mod device_links;
mod emails;
mod groups;
mod health;
pub(crate) mod hydrate;
mod message_actions;
mod messages;
mod moderation;
mod otps;
mod push;
mod receipts;
mod search;
mod search_index;
mod sessions;
mod users;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
