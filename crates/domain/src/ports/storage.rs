//! What the services keep: people, sessions, chats, messages, contacts, settings,
//! receipts, search and the facts about uploads. Each method documents the errors
//! an implementation must return; anything else a backend reports becomes
//! `DomainError::Unavailable`.

use crate::attachment::Attachment;
use crate::auth::link::DeviceLink;
use crate::auth::{OtpChallenge, Session};
use crate::chat::{Chat, ChatSettings, GroupChange, GroupStep, Member};
use crate::contact::{ContactEntry, PendingContact};
use crate::error::DomainResult;
use crate::error_code::ErrorCode;
use crate::event::ChatEvent;
use crate::ids::{AttachmentId, ChatId, LinkId, MessageId, SessionId, UserId};
use crate::message::{
    Appended, ClientMsgId, Emoji, LoggedUpdate, Message, MessageBody, MessageEdit, NewMessage, Page, SendOutcome,
};
use crate::receipt::{ReadPosition, Receipt, ReceiptKind};
use crate::user::{EmailAddress, Phone, User, UserEmail};
use async_trait::async_trait;

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
    /// Whether the user's pushes show message text; returns the user, None when unknown.
    async fn set_notification_previews(&self, id: UserId, previews: bool) -> DomainResult<Option<User>>;
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

/// People's email addresses, at most one each, and their verification codes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserEmailRepo: Send + Sync {
    async fn email_of(&self, user: UserId) -> DomainResult<Option<UserEmail>>;
    /// Stores `email` as the user's address, replacing theirs (verified or not) and
    /// its count of tries.
    async fn put_email(&self, email: &UserEmail) -> DomainResult<()>;
    /// Counts one try against the user's pending verification code unless
    /// `max_attempts` are already counted, and returns the address with this try
    /// counted; None when no code is pending or its tries are used up. One
    /// conditional statement, run before the code is compared.
    async fn reserve_email_attempt(&self, user: UserId, max_attempts: i32) -> DomainResult<Option<UserEmail>>;
    /// Marks the address verified at `at` and forgets its code, if its pending code's
    /// hash is `code_hash` and no more than `max_attempts` tries were counted.
    /// Returns whether it did (false when the code was used or replaced meanwhile).
    async fn confirm_email(
        &self,
        user: UserId,
        code_hash: &str,
        max_attempts: i32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<bool>;
    /// Forgets the user's address; false when there was none.
    async fn delete_email(&self, user: UserId) -> DomainResult<bool>;
    /// The verified address of the user with this phone, if both exist.
    async fn verified_email_of_phone(&self, phone: &Phone) -> DomainResult<Option<EmailAddress>>;
}

/// Device links: a new device's request to log in as someone, confirmed by one of
/// that person's logged-in devices. Whether a link may still be confirmed or
/// claimed is decided by single conditional statements, so that of concurrent
/// calls on any number of instances exactly one wins.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeviceLinkRepo: Send + Sync {
    /// Stores a new link unless another stored link has its `code_hash`; returns
    /// whether it was stored.
    async fn insert(&self, link: &DeviceLink) -> DomainResult<bool>;
    async fn get(&self, id: LinkId) -> DomainResult<Option<DeviceLink>>;
    async fn find_by_code(&self, code_hash: &str) -> DomainResult<Option<DeviceLink>>;
    /// In one transaction: marks the link confirmed by `session.user_id` with
    /// `session`, unless it is confirmed already or expired at `now`, and only then
    /// creates `session`. Returns whether it did.
    async fn confirm(&self, id: LinkId, session: &Session, now: chrono::DateTime<chrono::Utc>) -> DomainResult<bool>;
    /// Marks a confirmed link claimed at `now` unless it was claimed before;
    /// returns whether this call did.
    async fn claim(&self, id: LinkId, now: chrono::DateTime<chrono::Utc>) -> DomainResult<bool>;
    /// Removes the links that expired before `before`; returns how many.
    async fn remove_expired(&self, before: chrono::DateTime<chrono::Utc>) -> DomainResult<u64>;
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
    /// `send` for each of `messages`, which one device sent one after the other:
    /// stored in this order (each with the checks of `send`, also against the
    /// messages before it), and answered each on its own, in order. An
    /// implementation may store them in one batch.
    async fn send_all(&self, messages: &[NewMessage]) -> Vec<DomainResult<SendOutcome>>;
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
    /// `delete_for_everyone` on a server admin's decision: the same change and
    /// logged event (by `moderator`), without asking that the moderator be a
    /// member of the chat.
    async fn delete_by_moderator(
        &self,
        message: &Message,
        moderator: UserId,
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
    /// Indexes up to `max` of the messages stored, edited or deleted since they were
    /// last indexed, in one transaction, and returns how many it took. A send does
    /// not index its message: `search` finds it once this has run after the send.
    async fn index_pending(&self, max: i64) -> DomainResult<usize>;
}

/// Tells whether the store answers, for `/health`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    async fn ping(&self) -> bool;
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
