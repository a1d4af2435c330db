//! The traits adapters implement. Each method documents the errors an
//! implementation must return; anything else a backend reports becomes
//! `DomainError::Unavailable`.

use crate::attachment::{Attachment, BlobKey, ByteRange, ImageFacts};
use crate::auth::{OtpChallenge, OtpCode, Session, TokenClaims};
use crate::chat::{Chat, ChatSettings, GroupChange, GroupStep, Member};
use crate::contact::{ContactEntry, PendingContact};
use crate::error::DomainResult;
use crate::error_code::ErrorCode;
use crate::event::{ChatEvent, Delivery};
use crate::ids::MessageId;
use crate::ids::{AttachmentId, ChatId, SessionId, UserId};
use crate::message::{
    Appended, ClientMsgId, Emoji, LoggedUpdate, Message, MessageBody, MessageEdit, NewMessage, Page, SendOutcome,
};
use crate::receipt::{ReadPosition, Receipt, ReceiptKind};
use crate::user::{Phone, User};
use async_trait::async_trait;
use std::sync::Arc;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Stores `user` unless a user with the same phone exists; returns whichever is stored.
    async fn insert_or_get_by_phone(&self, user: &User) -> DomainResult<User>;
    async fn get(&self, id: UserId) -> DomainResult<Option<User>>;
    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>>;
    async fn get_by_phone(&self, phone: &Phone) -> DomainResult<Option<User>>;
    /// Changes name and/or status line; returns the user, None when unknown.
    async fn update_profile(
        &self,
        id: UserId,
        name: Option<String>,
        status: Option<String>,
    ) -> DomainResult<Option<User>>;
    /// Changes who may see the user's `last_seen`; returns the user, None when unknown.
    async fn set_last_seen_visibility(
        &self,
        id: UserId,
        visibility: crate::user::LastSeenVisibility,
    ) -> DomainResult<Option<User>>;
    /// Records when the user was last online.
    async fn touch_last_seen(&self, id: UserId, at: chrono::DateTime<chrono::Utc>) -> DomainResult<()>;
    /// Users whose name contains `query` (case-insensitive), excluding `exclude`,
    /// at most `limit`, ordered by name.
    async fn search(&self, query: &str, exclude: UserId, limit: i64) -> DomainResult<Vec<User>>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OtpRepo: Send + Sync {
    /// Stores the challenge, replacing the phone's pending one (and its count of
    /// tries) only when that one was created at or before `cutoff`; returns whether
    /// it was stored. One conditional statement: of any number of concurrent calls
    /// for one phone, on any instance, only one stores a challenge per cooldown.
    async fn put_unless_recent(
        &self,
        challenge: &OtpChallenge,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<bool>;
    async fn get(&self, phone: &Phone) -> DomainResult<Option<OtpChallenge>>;
    /// Counts one try against the phone's challenge unless `max_attempts` are
    /// already counted, and returns the challenge with this try counted; None when
    /// there is no challenge or its tries are used up. One conditional statement, run
    /// before the code is compared, so concurrent tries never compare more than
    /// `max_attempts` codes.
    async fn reserve_attempt(&self, phone: &Phone, max_attempts: i32) -> DomainResult<Option<OtpChallenge>>;
    /// Removes the challenge whose hash is `code_hash`, unless more than
    /// `max_attempts` tries were counted against it. Returns false when it was
    /// already gone (or locked), so that of two racing logins with one code only one
    /// succeeds.
    async fn consume(&self, phone: &Phone, code_hash: &str, max_attempts: i32) -> DomainResult<bool>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepo: Send + Sync {
    async fn create(&self, session: &Session) -> DomainResult<()>;
    async fn get(&self, id: SessionId) -> DomainResult<Option<Session>>;
    /// The user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn list_active(&self, user: UserId, now: chrono::DateTime<chrono::Utc>) -> DomainResult<Vec<Session>>;
    /// Marks the session revoked at `at`; revoking twice keeps the first time.
    async fn revoke(&self, id: SessionId, at: chrono::DateTime<chrono::Utc>) -> DomainResult<()>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatRepo: Send + Sync {
    /// Stores a direct chat with its members unless one exists for `direct_key`;
    /// returns whichever is stored (idempotent under concurrent calls).
    async fn create_direct(&self, chat: &Chat, members: &[Member], direct_key: &str) -> DomainResult<Chat>;
    async fn get(&self, id: ChatId) -> DomainResult<Option<Chat>>;
    /// The chats `user` is or was a member of, with their membership (active or
    /// former), most recently active first.
    async fn list_for_user(&self, user: UserId) -> DomainResult<Vec<(Chat, Member)>>;
    /// The chat's active members, longest-standing first (by `joined_at`, then user id).
    async fn members(&self, chat: ChatId) -> DomainResult<Vec<Member>>;
    /// The user's membership of the chat, active or former; None if they never belonged.
    async fn member(&self, chat: ChatId, user: UserId) -> DomainResult<Option<Member>>;
    /// The people `user` has exchanged messages with, once each: those who are,
    /// with `user`, active members of a chat in which each of the two has sent at
    /// least one message (system messages do not count, deleted ones do).
    async fn correspondents(&self, user: UserId) -> DomainResult<Vec<UserId>>;
    /// The people who are, with `user`, active members of at least one chat, once
    /// each, without `user`.
    async fn partners(&self, user: UserId) -> DomainResult<Vec<UserId>>;
    /// Stores a new group and the steps that set it up (its members and the
    /// `group_created` message) in one transaction. Returns each step's appended
    /// system message, in order.
    async fn create_group(&self, chat: &Chat, steps: &[GroupStep]) -> DomainResult<Vec<Appended>>;
    /// Applies a change to a group in one transaction, step by step: appends the
    /// step's system message exactly as `MessageRepo::append` does (next `seq` and
    /// `event_seq`), then applies its effects, a `Leave` recording that message's
    /// position, and adds one to the group's `group_version`. Returns each step's
    /// appended message, in order. Changes nothing and returns Err(Conflict
    /// `group_changed`) unless the chat exists with `group_version` equal to
    /// `change.expected_version`.
    async fn change_group(&self, change: &GroupChange) -> DomainResult<Vec<Appended>>;
}

/// The code of the conflict `ChatRepo::change_group` returns when the group changed
/// after the change was decided.
pub const GROUP_CHANGED: ErrorCode = ErrorCode::GroupChanged;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageRepo: Send + Sync {
    /// Stores the message with the chat's next `seq` in one transaction and returns
    /// it durable. When the sender used `client_msg_id` before, stores nothing and
    /// returns the first message with `created: false`. Err(`chat_not_found`), with
    /// nothing stored, when the sender is not an active member of the chat at that
    /// moment (say, removed while the message was on its way).
    async fn append(&self, message: &NewMessage) -> DomainResult<Appended>;
    /// Stores a message a person sends, with every check that decides whether it
    /// may be stored made in the same transaction, in this order: the sender must
    /// be an active member (`NotAMember`); in a direct chat, the other member must
    /// not block the sender (`Blocked`); a `client_msg_id` the sender used before
    /// returns the first message (`Duplicate`), also when that one was sent a
    /// moment earlier in the same batch. Otherwise stores it as `append` does,
    /// brings the chat back from the archive of the members who archived it
    /// without muting it (or whose mute ended by `created_at`), and returns it
    /// durable with the chat's active members (`Stored`). An implementation may
    /// store concurrent sends together (group commit) but returns only after the
    /// message's transaction has committed; an error means nothing was stored.
    async fn send(&self, message: &NewMessage) -> DomainResult<SendOutcome>;
    async fn get(&self, id: MessageId) -> DomainResult<Option<Message>>;
    async fn find_by_client_id(&self, sender: UserId, client_msg_id: &ClientMsgId) -> DomainResult<Option<Message>>;
    /// A page of the chat's history, newest first, only up to `page.max_seq` when set.
    /// With `page.viewer`, without the messages the viewer hid and with their own
    /// reaction on each message (`my_reaction`).
    async fn list(&self, chat: ChatId, page: Page) -> DomainResult<Vec<Message>>;
    /// The newest message of each chat given, if any.
    async fn last_messages(&self, chats: &[ChatId]) -> DomainResult<Vec<Message>>;
    /// The chat's logged events after `after` (an event_seq), oldest first, at most
    /// `limit`. Message events carry their message as it now is (edited, deleted),
    /// never an older version.
    async fn events_after(&self, chat: ChatId, after: i64, limit: i64) -> DomainResult<Vec<ChatEvent>>;
    /// The `event_seq` under which the chat's log recorded the message as sent, if
    /// it did. Meant for recent messages (a retried send): the log is searched from
    /// its newest event back.
    async fn sent_event_seq(&self, chat: ChatId, message: MessageId) -> DomainResult<Option<i64>>;

    // Every message returned by the methods above and below carries its reply
    // preview (`reply_to`) and reaction counts as they are when read.

    /// Replaces the text of `message` with `content` in one transaction: keeps the
    /// text it had in its edit history, sets `edited_at` to `at`, and logs a
    /// `message_update` (action `edited`) by `editor` with the chat's next
    /// `event_seq`. Returns the logged event. Err(Conflict `message_deleted`), with
    /// nothing changed, when the message was deleted meanwhile; Err(`chat_not_found`)
    /// when `editor` is no longer an active member of the chat.
    async fn edit(
        &self,
        message: &Message,
        editor: UserId,
        content: &MessageBody,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<ChatEvent>;
    /// Deletes `message` for everyone in one transaction: empties its content, sets
    /// `deleted_at`, removes its edit history and reactions, and logs a
    /// `message_update` (action `deleted`) by `actor`. Returns the logged event;
    /// None, with nothing logged, when it was deleted already. Err(`chat_not_found`)
    /// when `actor` is no longer an active member of the chat.
    async fn delete_for_everyone(
        &self,
        message: &Message,
        actor: UserId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Option<ChatEvent>>;
    /// Sets `user`'s one reaction to `message` (replacing any other) or, with None,
    /// removes it, and logs a `message_update` (action `reaction`) in the same
    /// transaction. Returns the logged event; None, with nothing logged, when
    /// nothing changed. Err(Conflict `message_deleted`) when setting a reaction on a
    /// message deleted meanwhile; Err(`chat_not_found`) when `user` is no longer an
    /// active member of the chat.
    async fn set_reaction(
        &self,
        message: &Message,
        user: UserId,
        emoji: Option<Emoji>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Option<ChatEvent>>;
    /// The earlier versions of a message, oldest first (empty once it is deleted).
    async fn edits(&self, message: MessageId) -> DomainResult<Vec<MessageEdit>>;
    /// The logged changes (`message_update` events) of these messages of `chat`,
    /// oldest first.
    async fn updates_of(&self, chat: ChatId, messages: &[MessageId]) -> DomainResult<Vec<LoggedUpdate>>;
    /// Hides `message` from `user` alone; true when it was not hidden yet.
    async fn hide(&self, user: UserId, message: &Message, at: chrono::DateTime<chrono::Utc>) -> DomainResult<bool>;
    /// True when `user` hid the message.
    async fn is_hidden(&self, user: UserId, message: MessageId) -> DomainResult<bool>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ContactRepo: Send + Sync {
    /// Saves or updates (alias) a contact; true when it was new.
    async fn put_contact(&self, entry: &ContactEntry) -> DomainResult<bool>;
    /// Removes a contact; true when there was one.
    async fn remove_contact(&self, owner: UserId, contact: UserId) -> DomainResult<bool>;
    /// The owner's contacts, in the order they were added.
    async fn contacts(&self, owner: UserId) -> DomainResult<Vec<ContactEntry>>;
    /// The users who have `contact` among their contacts.
    async fn saved_by(&self, contact: UserId) -> DomainResult<Vec<UserId>>;
    /// Saves or updates (alias) a number nobody uses yet; true when it was new.
    async fn put_pending(&self, entry: &PendingContact) -> DomainResult<bool>;
    /// The owner's saved numbers that nobody used when saved, in the order added.
    async fn pending(&self, owner: UserId) -> DomainResult<Vec<PendingContact>>;
    /// Removes a saved number; true when there was one.
    async fn remove_pending(&self, owner: UserId, phone: &Phone) -> DomainResult<bool>;
    /// `user` has the number `phone`: every pending entry for it becomes a contact
    /// of `user` (keeping alias and time; an existing contact is kept as it is), in
    /// one transaction. Idempotent.
    async fn claim_pending(&self, phone: &Phone, user: UserId) -> DomainResult<()>;
    /// Records that `blocker` blocks `blocked` (idempotent).
    async fn block(&self, blocker: UserId, blocked: UserId, at: chrono::DateTime<chrono::Utc>) -> DomainResult<()>;
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> DomainResult<()>;
    /// True when `blocker` blocks `blocked`.
    async fn is_blocked(&self, blocker: UserId, blocked: UserId) -> DomainResult<bool>;
    /// Those of `among` who block `blocked`, once each.
    async fn blockers_among(&self, blocked: UserId, among: &[UserId]) -> DomainResult<Vec<UserId>>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatSettingsRepo: Send + Sync {
    async fn put_settings(&self, chat: ChatId, user: UserId, settings: &ChatSettings) -> DomainResult<()>;
    /// The user's settings for those of `chats` that have any.
    async fn settings(&self, user: UserId, chats: &[ChatId]) -> DomainResult<Vec<(ChatId, ChatSettings)>>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReceiptRepo: Send + Sync {
    /// Moves `user`'s position in `chat` forward to `seq` (never back; at most the
    /// chat's newest message; `Read` moves the delivered position too). When it
    /// moved, logs a `status_update` event built by `event` from the new position,
    /// in the same transaction, and returns the logged event; None when nothing moved.
    async fn advance(
        &self,
        chat: ChatId,
        user: UserId,
        kind: ReceiptKind,
        seq: i64,
        at: chrono::DateTime<chrono::Utc>,
        members: &[UserId],
    ) -> DomainResult<Option<ChatEvent>>;
    /// Every member's position in the chat (members without one are absent).
    async fn positions(&self, chat: ChatId) -> DomainResult<Vec<ReadPosition>>;
    /// For each user, when they first received and first read the message at `seq`.
    async fn receipts(&self, chat: ChatId, seq: i64) -> DomainResult<Vec<Receipt>>;
}

/// Full-text search over messages.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageSearch: Send + Sync {
    /// Text messages matching `query` (whole or partial words, any script) in the
    /// chats `user` is an active member of (only `chat` when given), newest first.
    async fn search(
        &self,
        user: UserId,
        query: &crate::search::SearchQuery,
        chat: Option<ChatId>,
        limit: i64,
        offset: i64,
    ) -> DomainResult<Vec<Message>>;
}

/// Tells whether the store answers, for `/health`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    async fn ping(&self) -> bool;
}

/// Counts each user's connected devices, across instances when shared.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PresenceTracker: Send + Sync {
    /// A device of `user` connected; true when the user was offline until now.
    async fn connected(&self, user: UserId) -> DomainResult<bool>;
    /// A device of `user` left; true when it was the user's last one.
    async fn disconnected(&self, user: UserId) -> DomainResult<bool>;
    /// Which of `users` have a device connected.
    async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>>;
    /// Forgets the devices of instances that stopped without saying goodbye (a
    /// crash) and returns the users who are offline because of it. Called
    /// periodically; a single-instance tracker has nothing to expire.
    async fn expire_dead_instances(&self) -> DomainResult<Vec<UserId>> {
        Ok(Vec::new())
    }
}

/// Delivers a login code to a phone (SMS in production, the log in development).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OtpSender: Send + Sync {
    async fn send(&self, phone: &Phone, code: &OtpCode) -> DomainResult<()>;
}

/// Makes new login codes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait CodeGenerator: Send + Sync {
    fn generate(&self) -> OtpCode;
}

/// Issues and checks bearer tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    fn issue(&self, claims: &TokenClaims) -> DomainResult<String>;
    /// Err(`Unauthorized`) for a token that is malformed, forged or expired.
    fn verify(&self, token: &str) -> DomainResult<TokenClaims>;
}

/// Signs and checks download links (`attachment::LinkGrant::signed_text`) with a
/// key only the server knows.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait LinkSigner: Send + Sync {
    fn sign(&self, text: &str) -> String;
    /// True only for a signature `sign` made of exactly this text; compared in
    /// constant time.
    fn verify(&self, text: &str, signature: &str) -> bool;
}

/// A serialised frame shared by every device it is delivered to.
pub type Frame = Arc<str>;
/// A delivery shared by every device it goes to.
pub type SharedDelivery = Arc<Delivery>;

/// Live fan-out of events to the devices of their recipients.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Hands the delivery to every connected device of every recipient, on every instance.
    async fn publish(&self, recipients: &[UserId], delivery: Delivery) -> DomainResult<()>;
    /// Starts receiving the frames addressed to `user` on this device.
    fn subscribe(&self, user: UserId) -> Box<dyn Subscription>;
    /// Whether events reach the other instances, for `/health`.
    async fn relay_status(&self) -> RelayStatus;
}

/// An event on its way between instances: who gets it, and its frame, already serialised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RelayEnvelope {
    /// The instance that published it; an instance ignores its own envelopes,
    /// which it has already delivered locally.
    pub origin: uuid::Uuid,
    pub recipients: Vec<UserId>,
    pub delivery: Delivery,
}

/// What the relay hands back: an envelope, or word that some may have been lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayItem {
    Envelope(RelayEnvelope),
    /// Envelopes may have been lost (an outage or an overflow): local devices must
    /// catch up from the durable log.
    Gap,
}

/// Whether the link between instances works, for `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayStatus {
    /// A single instance: there is nothing to relay to.
    NotConfigured,
    Connected,
    Disconnected,
}

impl RelayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        }
    }
}

/// Carries events to the other instances of a deployment (Redis pub/sub). The
/// event bus delivers to local devices itself and hands every event to the relay
/// too; envelopes from other instances come back through `next`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventRelay: Send + Sync {
    /// Sends to every other instance. Errors when the relay is unreachable; the
    /// caller has already delivered locally, and devices elsewhere catch up by resuming.
    async fn publish(&self, envelope: &RelayEnvelope) -> DomainResult<()>;
    /// The next envelope published by any instance (possibly this one), or `Gap`
    /// after envelopes may have been lost. Waits while the relay is unreachable and
    /// resumes by itself when it returns, reporting a `Gap` then.
    async fn next(&self) -> RelayItem;
    async fn status(&self) -> RelayStatus;
}

/// One device's stream of frames. Dropping it unsubscribes.
#[async_trait]
pub trait Subscription: Send {
    /// The next delivery, or None when the bus dropped this device (queue overflow or shutdown).
    async fn next(&mut self) -> Option<SharedDelivery>;
}

/// Facts about uploaded files: who uploaded what, and which messages carry it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttachmentRepo: Send + Sync {
    /// Stores the facts about a finished upload (its bytes are already stored).
    async fn insert_attachment(&self, attachment: &Attachment) -> DomainResult<()>;
    async fn get_attachment(&self, id: AttachmentId) -> DomainResult<Option<Attachment>>;
    /// Those of `ids` that exist, in any order.
    async fn get_attachments(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>>;
    /// True when `user` may download it: its uploader, or a member of a chat with
    /// a message (not deleted for everyone) that carries it; a former member only
    /// when that message is not newer than their leaving, as with history.
    async fn can_read_attachment(&self, id: AttachmentId, user: UserId) -> DomainResult<bool>;
    /// Removes the facts about those of `ids` that no message carries (any
    /// more) and returns them, so that the caller removes their bytes. One still
    /// carried by a message, a forwarded copy say, stays.
    async fn remove_unreferenced(&self, ids: &[AttachmentId]) -> DomainResult<Vec<Attachment>>;
    /// Removes at most `limit` uploads made before `before` that no message
    /// carries (never sent, or whose messages were deleted) and returns them.
    async fn remove_orphans(&self, before: chrono::DateTime<chrono::Utc>, limit: i64) -> DomainResult<Vec<Attachment>>;
}

// `MessageRepo::append` stores a `NewMessage`'s `attachments` with the message, in
// its transaction; an attachment that no longer exists fails the append with
// NotFound `attachment_not_found` and nothing is stored. Deleting a message for
// everyone drops what it carried (its `attachments` are empty from then on).

/// Where the bytes of uploaded files live: a directory, or S3-compatible storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts storing a new blob under `key`, written chunk by chunk. Nothing is
    /// readable under the key until `BlobWriter::finish`; an aborted or dropped
    /// writer leaves nothing behind.
    async fn put(&self, key: &BlobKey) -> DomainResult<Box<dyn BlobWriter>>;
    /// The blob's bytes, all of them or `range` (already within its size); None
    /// when there is no such blob.
    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> DomainResult<Option<Box<dyn BlobChunks>>>;
    /// The blob's size in bytes; None when there is no such blob.
    async fn size(&self, key: &BlobKey) -> DomainResult<Option<u64>>;
    /// Removes the blob; removing one that is not there is no error.
    async fn delete(&self, key: &BlobKey) -> DomainResult<()>;
}

/// A blob being written. Dropping it without `finish` discards what was written.
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> DomainResult<()>;
    /// Makes the blob readable under its key.
    async fn finish(self: Box<Self>) -> DomainResult<()>;
    /// Discards what was written.
    async fn abort(self: Box<Self>) -> DomainResult<()>;
}

/// A blob being read, chunk by chunk.
#[async_trait]
pub trait BlobChunks: Send {
    /// The next chunk, or None at the end.
    async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>>;
}

/// Recognises files by their bytes and makes thumbnails of images.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MediaInspector: Send + Sync {
    /// The media type of a file whose first bytes (`SNIFF_BYTES`, or all of a
    /// shorter file) are `head`: found in the bytes, never from a name;
    /// `application/octet-stream` when unknown.
    fn sniff(&self, head: &[u8]) -> String;
    /// The size of an image and a thumbnail (at most `THUMBNAIL_MAX_SIDE` on its
    /// longer side, aspect kept), decoding within memory limits. With only the
    /// start of the file (`complete` false), the size when its header tells it.
    /// None when it cannot be read as an image. `Busy` when decoding it now would
    /// take the server over its memory budget for decoding.
    async fn inspect_image(&self, bytes: Vec<u8>, complete: bool) -> DomainResult<Option<ImageFacts>>;
}

/// What a membership cache answers for a chat: its active members, or a ticket
/// with which to fill the entry once they have been read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLookup {
    Hit(Vec<Member>),
    Miss(CacheTicket),
}

/// The version of a chat's entry when a lookup missed: a fill with it is ignored
/// when the entry was invalidated in between, so that a reader that loaded the
/// members before a change cannot put them back after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheTicket(pub u64);

/// Active members of chats kept out of the database, shared by every instance
/// that shares the cache. Errors only cost the cache: callers read the store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MembershipCache: Send + Sync {
    async fn lookup(&self, chat: ChatId) -> DomainResult<CacheLookup>;
    /// Stores `members` (active ones, in the store's order) for `chat`, unless the
    /// entry was invalidated after `ticket` was issued.
    async fn fill(&self, chat: ChatId, ticket: CacheTicket, members: &[Member]) -> DomainResult<()>;
    /// Drops the entry and makes every ticket issued before this call stale.
    async fn invalidate(&self, chat: ChatId) -> DomainResult<()>;
}

/// A request allowance: `per_minute` on average, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateQuota {
    /// The time one request uses up (GCRA's emission interval).
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60) / self.per_minute.max(1)
    }

    /// How far ahead of now a caller's allowance may be used (the burst beyond one).
    pub fn tolerance(&self) -> std::time::Duration {
        self.interval() * self.burst.max(1).saturating_sub(1)
    }
}

/// Request counters per caller (a user or an address), shared by the instances
/// that share the counter store, so that a limit holds however requests are
/// spread over instances.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RequestCounter: Send + Sync {
    /// Counts one request of `key` against `quota`: None when it is allowed,
    /// else how long the caller must wait (and the request is not counted).
    async fn take(&self, key: &str, quota: RateQuota) -> DomainResult<Option<std::time::Duration>>;
}
