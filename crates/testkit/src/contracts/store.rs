//! The repository contract: every store adapter must pass all of these.

pub use super::store_attachments::*;
pub use super::store_chats::*;
pub use super::store_contacts::*;
pub use super::store_device_links::*;
pub use super::store_emails::*;
pub use super::store_group_commit::*;
pub use super::store_groups::*;
pub use super::store_message_actions::*;
pub use super::store_messages::*;
pub use super::store_moderation::*;
pub use super::store_push::*;
pub use super::store_receipts::*;
pub use super::store_search::*;
pub use super::store_users::*;

use chitchat_domain::chat::{new_direct, Chat, Member};
use chitchat_domain::ports::{
    AttachmentRepo, ChatRepo, ChatSettingsRepo, ContactRepo, DeviceLinkRepo, MessageRepo, MessageSearch,
    ModerationRepo, OtpRepo, PushRepo, ReceiptRepo, SessionRepo, StoreHealth, UserEmailRepo, UserRepo,
};
use chitchat_domain::user::{Phone, Region, User, UserName};
use chrono::{DateTime, SubsecRound, Utc};

/// Everything a SQL store implements.
pub trait Store:
    UserRepo
    + UserEmailRepo
    + AttachmentRepo
    + OtpRepo
    + SessionRepo
    + DeviceLinkRepo
    + ChatRepo
    + MessageRepo
    + ReceiptRepo
    + ContactRepo
    + ChatSettingsRepo
    + MessageSearch
    + PushRepo
    + ModerationRepo
    + StoreHealth
    + Send
    + Sync
    + 'static
{
}
impl<T> Store for T where
    T: UserRepo
        + UserEmailRepo
        + AttachmentRepo
        + OtpRepo
        + SessionRepo
        + DeviceLinkRepo
        + ChatRepo
        + MessageRepo
        + ReceiptRepo
        + ContactRepo
        + ChatSettingsRepo
        + MessageSearch
        + PushRepo
        + ModerationRepo
        + StoreHealth
        + Send
        + Sync
        + 'static
{
}

/// Now, at the microsecond precision every backend keeps.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub fn phone(n: u32) -> Phone {
    Phone::parse(&format!("+91987654{n:04}"), Region::default()).unwrap()
}

pub async fn user<S: Store>(store: &S, n: u32, name: &str) -> User {
    let user = User::new(phone(n), UserName::parse(name).unwrap(), now());
    store.insert_or_get_by_phone(&user).await.unwrap()
}

pub async fn direct<S: Store>(store: &S, a: &User, b: &User) -> (Chat, Vec<Member>) {
    let (chat, members) = new_direct(a.id, b.id, now()).unwrap();
    let key = chitchat_domain::chat::direct_key(a.id, b.id);
    let stored = store.create_direct(&chat, &members, &key).await.unwrap();
    (stored, members)
}

pub async fn health_ping_answers<S: Store>(store: S) {
    assert!(store.ping().await);
}
