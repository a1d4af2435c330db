//! `Store`: the public face of the SQL store. Every port call runs as its own task
//! on the runtime that opened the store, so a caller that gives up (a client that
//! disconnects, a request whose other extractor failed) never cancels a query
//! half-way: a started write always finishes, and diesel-async's SQLite wrapper,
//! which must not be dropped mid-query on a single-threaded actix worker, never is.

use crate::error::StoreError;
use crate::pool::{Backend, PoolStatus, SqlStore, StoreConfig};
use async_trait::async_trait;
use chitchat_domain::attachment::Attachment;
use chitchat_domain::auth::{OtpChallenge, Session};
use chitchat_domain::chat::{Chat, ChatSettings, GroupChange, GroupStep, Member};
use chitchat_domain::contact::{ContactEntry, PendingContact};
use chitchat_domain::event::ChatEvent;
use chitchat_domain::message::{
    Appended, ClientMsgId, Emoji, LoggedUpdate, Message, MessageBody, MessageEdit, NewMessage, Page, SendOutcome,
};
use chitchat_domain::ports::{
    AttachmentRepo, ChatRepo, ChatSettingsRepo, ContactRepo, MessageRepo, MessageSearch, OtpRepo, ReceiptRepo,
    SessionRepo, StoreHealth, UserRepo,
};
use chitchat_domain::receipt::{ReadPosition, Receipt, ReceiptKind};
use chitchat_domain::search::SearchQuery;
use chitchat_domain::user::{Phone, User};
use chitchat_domain::{AttachmentId, ChatId, DomainError, DomainResult, MessageId, SessionId, UserId};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use tokio::runtime::Handle;

/// The SQL store (PostgreSQL or SQLite): implements every repository port.
#[derive(Clone)]
pub struct Store {
    inner: Arc<SqlStore>,
    runtime: Handle,
}

impl Store {
    /// Connects, applies pending migrations, and returns a ready store. Must be
    /// called on a multi-threaded tokio runtime, which then runs every query.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        let inner = SqlStore::connect(config).await?;
        Ok(Self { inner: Arc::new(inner), runtime: Handle::current() })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    pub fn pool_status(&self) -> PoolStatus {
        self.inner.pool_status()
    }

    /// Runs `work` to completion on the store's runtime, whatever happens to the caller.
    async fn detached<T, F, Fut>(&self, work: F) -> DomainResult<T>
    where
        F: FnOnce(Arc<SqlStore>) -> Fut,
        Fut: Future<Output = DomainResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.runtime.spawn(work(self.inner.clone())).await.map_err(DomainError::unavailable)?
    }
}

#[async_trait]
impl UserRepo for Store {
    async fn insert_or_get_by_phone(&self, user: &User) -> DomainResult<User> {
        let user = user.clone();
        self.detached(|s| async move { s.insert_or_get_by_phone(&user).await }).await
    }
    async fn get(&self, id: UserId) -> DomainResult<Option<User>> {
        self.detached(move |s| async move { UserRepo::get(&*s, id).await }).await
    }
    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let ids = ids.to_vec();
        self.detached(|s| async move { s.get_many(&ids).await }).await
    }
    async fn get_by_phone(&self, phone: &Phone) -> DomainResult<Option<User>> {
        let phone = phone.clone();
        self.detached(|s| async move { s.get_by_phone(&phone).await }).await
    }
    async fn update_profile(
        &self,
        id: UserId,
        name: Option<String>,
        status: Option<String>,
    ) -> DomainResult<Option<User>> {
        self.detached(move |s| async move { s.update_profile(id, name, status).await }).await
    }
    async fn set_last_seen_visibility(
        &self,
        id: UserId,
        visibility: chitchat_domain::user::LastSeenVisibility,
    ) -> DomainResult<Option<User>> {
        self.detached(move |s| async move { s.set_last_seen_visibility(id, visibility).await }).await
    }
    async fn touch_last_seen(&self, id: UserId, at: DateTime<Utc>) -> DomainResult<()> {
        self.detached(move |s| async move { s.touch_last_seen(id, at).await }).await
    }
    async fn search(&self, query: &str, exclude: UserId, limit: i64) -> DomainResult<Vec<User>> {
        let query = query.to_owned();
        self.detached(move |s| async move { UserRepo::search(&*s, &query, exclude, limit).await }).await
    }
}

#[async_trait]
impl OtpRepo for Store {
    async fn put_unless_recent(&self, challenge: &OtpChallenge, cutoff: DateTime<Utc>) -> DomainResult<bool> {
        let challenge = challenge.clone();
        self.detached(move |s| async move { s.put_unless_recent(&challenge, cutoff).await }).await
    }
    async fn get(&self, phone: &Phone) -> DomainResult<Option<OtpChallenge>> {
        let phone = phone.clone();
        self.detached(|s| async move { OtpRepo::get(&*s, &phone).await }).await
    }
    async fn reserve_attempt(&self, phone: &Phone, max_attempts: i32) -> DomainResult<Option<OtpChallenge>> {
        let phone = phone.clone();
        self.detached(move |s| async move { s.reserve_attempt(&phone, max_attempts).await }).await
    }
    async fn consume(&self, phone: &Phone, code_hash: &str, max_attempts: i32) -> DomainResult<bool> {
        let (phone, code_hash) = (phone.clone(), code_hash.to_owned());
        self.detached(move |s| async move { s.consume(&phone, &code_hash, max_attempts).await }).await
    }
}

#[async_trait]
impl SessionRepo for Store {
    async fn create(&self, session: &Session) -> DomainResult<()> {
        let session = session.clone();
        self.detached(|s| async move { s.create(&session).await }).await
    }
    async fn get(&self, id: SessionId) -> DomainResult<Option<Session>> {
        self.detached(move |s| async move { SessionRepo::get(&*s, id).await }).await
    }
    async fn list_active(&self, user: UserId, now: DateTime<Utc>) -> DomainResult<Vec<Session>> {
        self.detached(move |s| async move { s.list_active(user, now).await }).await
    }
    async fn revoke(&self, id: SessionId, at: DateTime<Utc>) -> DomainResult<()> {
        self.detached(move |s| async move { s.revoke(id, at).await }).await
    }
}

#[async_trait]
impl ChatRepo for Store {
    async fn create_direct(&self, chat: &Chat, members: &[Member], direct_key: &str) -> DomainResult<Chat> {
        let (chat, members, key) = (chat.clone(), members.to_vec(), direct_key.to_owned());
        self.detached(|s| async move { s.create_direct(&chat, &members, &key).await }).await
    }
    async fn get(&self, id: ChatId) -> DomainResult<Option<Chat>> {
        self.detached(move |s| async move { ChatRepo::get(&*s, id).await }).await
    }
    async fn list_for_user(&self, user: UserId) -> DomainResult<Vec<(Chat, Member)>> {
        self.detached(move |s| async move { s.list_for_user(user).await }).await
    }
    async fn members(&self, chat: ChatId) -> DomainResult<Vec<Member>> {
        self.detached(move |s| async move { s.members(chat).await }).await
    }
    async fn member(&self, chat: ChatId, user: UserId) -> DomainResult<Option<Member>> {
        self.detached(move |s| async move { s.member(chat, user).await }).await
    }
    async fn correspondents(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.detached(move |s| async move { s.correspondents(user).await }).await
    }
    async fn partners(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        self.detached(move |s| async move { s.partners(user).await }).await
    }
    async fn create_group(&self, chat: &Chat, steps: &[GroupStep]) -> DomainResult<Vec<Appended>> {
        let (chat, steps) = (chat.clone(), steps.to_vec());
        self.detached(|s| async move { s.create_group(&chat, &steps).await }).await
    }
    async fn change_group(&self, change: &GroupChange) -> DomainResult<Vec<Appended>> {
        let change = change.clone();
        self.detached(|s| async move { s.change_group(&change).await }).await
    }
}

#[async_trait]
impl MessageRepo for Store {
    async fn append(&self, message: &NewMessage) -> DomainResult<Appended> {
        let message = message.clone();
        self.detached(|s| async move { s.append(&message).await }).await
    }
    async fn send(&self, message: &NewMessage) -> DomainResult<SendOutcome> {
        let message = message.clone();
        self.detached(|s| async move { MessageRepo::send(&*s, &message).await }).await
    }
    async fn get(&self, id: MessageId) -> DomainResult<Option<Message>> {
        self.detached(move |s| async move { MessageRepo::get(&*s, id).await }).await
    }
    async fn find_by_client_id(&self, sender: UserId, client_msg_id: &ClientMsgId) -> DomainResult<Option<Message>> {
        let key = client_msg_id.clone();
        self.detached(move |s| async move { s.find_by_client_id(sender, &key).await }).await
    }
    async fn list(&self, chat: ChatId, page: Page) -> DomainResult<Vec<Message>> {
        self.detached(move |s| async move { s.list(chat, page).await }).await
    }
    async fn last_messages(&self, chats: &[ChatId]) -> DomainResult<Vec<Message>> {
        let chats = chats.to_vec();
        self.detached(|s| async move { s.last_messages(&chats).await }).await
    }
    async fn events_after(&self, chat: ChatId, after: i64, limit: i64) -> DomainResult<Vec<ChatEvent>> {
        self.detached(move |s| async move { s.events_after(chat, after, limit).await }).await
    }
    async fn sent_event_seq(&self, chat: ChatId, message: MessageId) -> DomainResult<Option<i64>> {
        self.detached(move |s| async move { s.sent_event_seq(chat, message).await }).await
    }
    async fn edit(
        &self,
        message: &Message,
        editor: UserId,
        content: &MessageBody,
        at: DateTime<Utc>,
    ) -> DomainResult<ChatEvent> {
        let (message, content) = (message.clone(), content.clone());
        self.detached(move |s| async move { s.edit(&message, editor, &content, at).await }).await
    }
    async fn delete_for_everyone(
        &self,
        message: &Message,
        actor: UserId,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ChatEvent>> {
        let message = message.clone();
        self.detached(move |s| async move { s.delete_for_everyone(&message, actor, at).await }).await
    }
    async fn set_reaction(
        &self,
        message: &Message,
        user: UserId,
        emoji: Option<Emoji>,
        at: DateTime<Utc>,
    ) -> DomainResult<Option<ChatEvent>> {
        let message = message.clone();
        self.detached(move |s| async move { s.set_reaction(&message, user, emoji, at).await }).await
    }
    async fn edits(&self, message: MessageId) -> DomainResult<Vec<MessageEdit>> {
        self.detached(move |s| async move { s.edits(message).await }).await
    }
    async fn updates_of(&self, chat: ChatId, messages: &[MessageId]) -> DomainResult<Vec<LoggedUpdate>> {
        let messages = messages.to_vec();
        self.detached(move |s| async move { s.updates_of(chat, &messages).await }).await
    }
    async fn hide(&self, user: UserId, message: &Message, at: DateTime<Utc>) -> DomainResult<bool> {
        let message = message.clone();
        self.detached(move |s| async move { s.hide(user, &message, at).await }).await
    }
    async fn is_hidden(&self, user: UserId, message: MessageId) -> DomainResult<bool> {
        self.detached(move |s| async move { s.is_hidden(user, message).await }).await
    }
}

#[async_trait]
impl ReceiptRepo for Store {
    async fn advance(
        &self,
        chat: ChatId,
        user: UserId,
        kind: ReceiptKind,
        seq: i64,
        at: DateTime<Utc>,
        members: &[UserId],
    ) -> DomainResult<Option<ChatEvent>> {
        let members = members.to_vec();
        self.detached(move |s| async move { s.advance(chat, user, kind, seq, at, &members).await }).await
    }
    async fn positions(&self, chat: ChatId) -> DomainResult<Vec<ReadPosition>> {
        self.detached(move |s| async move { s.positions(chat).await }).await
    }
    async fn receipts(&self, chat: ChatId, seq: i64) -> DomainResult<Vec<Receipt>> {
        self.detached(move |s| async move { s.receipts(chat, seq).await }).await
    }
}

#[async_trait]
impl ContactRepo for Store {
    async fn put_contact(&self, entry: &ContactEntry) -> DomainResult<bool> {
        let entry = entry.clone();
        self.detached(|s| async move { s.put_contact(&entry).await }).await
    }
    async fn remove_contact(&self, owner: UserId, contact: UserId) -> DomainResult<bool> {
        self.detached(move |s| async move { s.remove_contact(owner, contact).await }).await
    }
    async fn contacts(&self, owner: UserId) -> DomainResult<Vec<ContactEntry>> {
        self.detached(move |s| async move { s.contacts(owner).await }).await
    }
    async fn saved_by(&self, contact: UserId) -> DomainResult<Vec<UserId>> {
        self.detached(move |s| async move { s.saved_by(contact).await }).await
    }
    async fn put_pending(&self, entry: &PendingContact) -> DomainResult<bool> {
        let entry = entry.clone();
        self.detached(|s| async move { s.put_pending(&entry).await }).await
    }
    async fn pending(&self, owner: UserId) -> DomainResult<Vec<PendingContact>> {
        self.detached(move |s| async move { s.pending(owner).await }).await
    }
    async fn remove_pending(&self, owner: UserId, phone: &Phone) -> DomainResult<bool> {
        let phone = phone.clone();
        self.detached(move |s| async move { s.remove_pending(owner, &phone).await }).await
    }
    async fn claim_pending(&self, phone: &Phone, user: UserId) -> DomainResult<()> {
        let phone = phone.clone();
        self.detached(move |s| async move { s.claim_pending(&phone, user).await }).await
    }
    async fn block(&self, blocker: UserId, blocked: UserId, at: DateTime<Utc>) -> DomainResult<()> {
        self.detached(move |s| async move { s.block(blocker, blocked, at).await }).await
    }
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> DomainResult<()> {
        self.detached(move |s| async move { s.unblock(blocker, blocked).await }).await
    }
    async fn is_blocked(&self, blocker: UserId, blocked: UserId) -> DomainResult<bool> {
        self.detached(move |s| async move { s.is_blocked(blocker, blocked).await }).await
    }
    async fn blockers_among(&self, blocked: UserId, among: &[UserId]) -> DomainResult<Vec<UserId>> {
        let among = among.to_vec();
        self.detached(move |s| async move { s.blockers_among(blocked, &among).await }).await
    }
}

#[async_trait]
impl ChatSettingsRepo for Store {
    async fn put_settings(&self, chat: ChatId, user: UserId, settings: &ChatSettings) -> DomainResult<()> {
        let settings = *settings;
        self.detached(move |s| async move { s.put_settings(chat, user, &settings).await }).await
    }
    async fn settings(&self, user: UserId, chats: &[ChatId]) -> DomainResult<Vec<(ChatId, ChatSettings)>> {
        let chats = chats.to_vec();
        self.detached(move |s| async move { s.settings(user, &chats).await }).await
    }
}

#[async_trait]
impl MessageSearch for Store {
    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        chat: Option<ChatId>,
        limit: i64,
        offset: i64,
    ) -> DomainResult<Vec<Message>> {
        let query = query.clone();
        self.detached(move |s| async move { MessageSearch::search(&*s, user, &query, chat, limit, offset).await }).await
    }
}

#[async_trait]
impl StoreHealth for Store {
    async fn ping(&self) -> bool {
        self.detached(|s| async move { Ok(s.ping().await) }).await.unwrap_or(false)
    }
}

#[async_trait]
impl AttachmentRepo for Store {
    async fn insert_attachment(&self, attachment: &Attachment) -> DomainResult<()> {
        let attachment = attachment.clone();
        self.detached(|s| async move { s.insert_attachment(&attachment).await }).await
    }
    async fn get_attachment(&self, id: AttachmentId) -> DomainResult<Option<Attachment>> {
        self.detached(move |s| async move { s.get_attachment(id).await }).await
    }
    async fn get_attachments(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>> {
        let ids = ids.to_vec();
        self.detached(|s| async move { s.get_attachments(&ids).await }).await
    }
    async fn can_read_attachment(&self, id: AttachmentId, user: UserId) -> DomainResult<bool> {
        self.detached(move |s| async move { s.can_read_attachment(id, user).await }).await
    }
    async fn remove_unreferenced(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>> {
        let ids = ids.to_vec();
        self.detached(|s| async move { s.remove_unreferenced(&ids).await }).await
    }
    async fn remove_orphans(&self, before: DateTime<Utc>, limit: i64) -> DomainResult<Vec<Attachment>> {
        self.detached(move |s| async move { s.remove_orphans(before, limit).await }).await
    }
}
