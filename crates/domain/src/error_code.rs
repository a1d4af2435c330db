//! The one list of machine-readable error codes clients switch on, in JSON error
//! bodies and WebSocket `error` frames, with the class of failure each is given
//! for and when. The error tables of `docs/api.md` are rendered from this list
//! (`error_table.rs`).

use serde::{Serialize, Serializer};
use std::fmt;

/// The class of a failure. Each class is answered with one HTTP status, named in
/// [`ErrorKind::http_status`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The request cannot be read at all (bad JSON, query string or multipart).
    BadRequest,
    /// Missing, bad, expired or revoked credentials, or a wrong one-time code.
    Unauthorized,
    /// The caller is known but may not do this.
    Forbidden,
    /// The thing does not exist, or the caller may not know that it does.
    NotFound,
    /// The request body did not arrive in time.
    Timeout,
    /// The request conflicts with the current state.
    Conflict,
    /// The thing existed but is over for good.
    Gone,
    /// Input larger than a limit.
    TooLarge,
    /// A body of a type the endpoint does not read.
    UnsupportedMediaType,
    /// A byte range outside the file.
    RangeNotSatisfiable,
    /// Input that is well-formed but breaks a rule (empty content, bad phone).
    Invalid,
    /// Too many attempts or requests; try again later.
    TooManyRequests,
    /// Something failed inside the server; the detail is for logs only.
    Internal,
    /// The server is at a limit it keeps to protect itself; the same request may
    /// succeed in a moment.
    Busy,
}

impl ErrorKind {
    /// The HTTP status of an answer of this kind.
    pub const fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Timeout => 408,
            Self::Conflict => 409,
            Self::Gone => 410,
            Self::TooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RangeNotSatisfiable => 416,
            Self::Invalid => 422,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::Busy => 503,
        }
    }
}

/// One way a code reaches a client, as the API documentation states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorUse {
    /// An HTTP answer (and a WebSocket `error` frame, for commands the socket also
    /// takes) of this kind, and when it is given.
    Http(ErrorKind, &'static str),
    /// Only on the WebSocket: the frame type it arrives in, and when.
    Frame(&'static str, &'static str),
}

use ErrorKind::*;
use ErrorUse::{Frame, Http};

macro_rules! error_codes {
    ($($variant:ident = $code:literal => [$($usage:expr),* $(,)?]),* $(,)?) => {
        /// A machine-readable error code. Serializes as its snake_case string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $(#[doc = concat!("`", $code, "`")] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order the documentation lists them.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The string clients see.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// How this code reaches clients; empty for a code no client is sent.
            pub const fn uses(self) -> &'static [ErrorUse] {
                match self {
                    $(Self::$variant => &[$($usage),*],)*
                }
            }
        }
    };
}

error_codes! {
    InvalidJson = "invalid_json" => [
        Http(BadRequest, "The body is not valid JSON."),
    ],
    InvalidBody = "invalid_body" => [
        Http(BadRequest, "The request body could not be read (the upload broke off)."),
        Http(Invalid, "The body is JSON but a required field is missing or a field has the wrong type (for example a `muted_until` that is not an RFC 3339 time)."),
    ],
    InvalidQuery = "invalid_query" => [
        Http(BadRequest, "The query string cannot be read (for example `offset=abc`, `archived=maybe`, or no `chat_id` for history)."),
        Http(Invalid, "Search: `q` is missing, blank or too long (64 characters for users, 100 for messages), or a message search contains control characters."),
    ],
    InvalidMultipart = "invalid_multipart" => [
        Http(BadRequest, "`POST /api/attachments`: the body is not readable `multipart/form-data`."),
    ],
    MissingToken = "missing_token" => [
        Http(Unauthorized, "No `Authorization: Bearer` header."),
    ],
    InvalidToken = "invalid_token" => [
        Http(Unauthorized, "The token is malformed, forged, expired, or its session was revoked."),
    ],
    InvalidCode = "invalid_code" => [
        Http(Unauthorized, "Login: the code is wrong, was already used, or no code was requested for this phone."),
        Http(Invalid, "Login: the code is not exactly six digits. `POST /api/users/me/email/verify`: the code is not six digits, or is wrong."),
    ],
    CodeExpired = "code_expired" => [
        Http(Unauthorized, "Login: the code is older than 5 minutes (15 for a code from `chitchat admin login-code`)."),
        Http(Invalid, "`POST /api/users/me/email/verify`: the code is older than 15 minutes; give the address again for a new one."),
    ],
    AccountDisabled = "account_disabled" => [
        Http(Forbidden, "Login (`POST /api/auth/register`): the account was disabled by the server's operators. Asking for a code is answered as usual."),
    ],
    AdminOnly = "admin_only" => [
        Http(Forbidden, "Any `/api/admin/...` endpoint called by someone who is not one of the server's admins (`ADMIN_PHONES`)."),
    ],
    NotAdmin = "not_admin" => [
        Http(Forbidden, "A group member tried something only the group's admins may do."),
    ],
    EditWindowPassed = "edit_window_passed" => [
        Http(Forbidden, "Editing a message more than `MESSAGE_EDIT_WINDOW` (15 minutes by default) after it was sent."),
    ],
    DeleteWindowPassed = "delete_window_passed" => [
        Http(Forbidden, "Deleting one's own message for everyone more than `MESSAGE_DELETE_WINDOW` (48 hours by default) after it was sent (group admins have no limit)."),
    ],
    Blocked = "blocked" => [
        Http(Forbidden, "In a direct chat, the other person blocked the caller: opening the chat (`POST /api/chats`), sending, replying, editing, reacting and forwarding into it are refused. On the WebSocket, `call_invite` in a direct chat where either person blocks the other."),
    ],
    LinkExpired = "link_expired" => [
        Http(Forbidden, "`GET /api/attachments/{id}` (or its thumbnail) through a signed link whose `exp` has passed: ask `POST /api/attachments/{id}/link` for a fresh one."),
        Http(Gone, "Linking a device: the pairing code is older than 2 minutes (lookup, confirm, and claims of a link nobody confirmed in time), or a confirmed link was not claimed within 2 minutes of its confirmation; the new device asks `POST /api/auth/links` for a fresh code."),
    ],
    LinkWrongAccount = "link_wrong_account" => [
        Http(Forbidden, "`POST /api/auth/links/lookup` and `/confirm`: the new device asked to log in as another phone number than the caller's. Says nothing about that number."),
    ],
    NotSender = "not_sender" => [
        Http(Forbidden, "Editing someone else's message, or deleting it for everyone without being an admin of the group; `GET /api/messages/{id}/receipts` by a member who did not send the message."),
    ],
    ChatNotFound = "chat_not_found" => [
        Http(NotFound, "The chat does not exist, its id is malformed, or the caller is not a member (these look the same on purpose). Former members of a group get it too for anything but reading."),
    ],
    MessageNotFound = "message_not_found" => [
        Http(NotFound, "The message does not exist, its id is malformed, the caller cannot read it (not a member of its chat; a former member, for messages after their leaving), or the caller deleted it for themself. Former members also get it for any change to a message (edit, delete for everyone, reactions) and for receipts."),
    ],
    UserNotFound = "user_not_found" => [
        Http(NotFound, "A user named in the request does not exist (or its id is malformed)."),
    ],
    ContactNotFound = "contact_not_found" => [
        Http(NotFound, "`DELETE /api/contacts/{user_id}` or `DELETE /api/contacts?phone=`: not in the caller's contacts."),
    ],
    LinkNotFound = "link_not_found" => [
        Http(NotFound, "Linking a device: no link has this pairing code (lookup, confirm), or no link has this id and claim secret (claim)."),
    ],
    SessionNotFound = "session_not_found" => [
        Http(NotFound, "`DELETE /api/auth/sessions/{id}`: no active session of the caller has this id (it belongs to someone else, has already ended, or the id is malformed)."),
    ],
    MemberNotFound = "member_not_found" => [
        Http(NotFound, "The user in the path is not an active member of the group (or the id is malformed)."),
    ],
    AttachmentNotFound = "attachment_not_found" => [
        Http(NotFound, "`GET /api/attachments/{id}` (and its thumbnail) and `POST /api/attachments/{id}/link`: no such attachment, a malformed id, or one the caller may not read (these look the same on purpose); also a signed link that is malformed, tampered with, or whose user may no longer read the file."),
    ],
    ReportNotFound = "report_not_found" => [
        Http(NotFound, "`POST /api/admin/reports/{id}/actions`: no such report (or a malformed id)."),
    ],
    ThumbnailNotFound = "thumbnail_not_found" => [
        Http(NotFound, "`GET /api/attachments/{id}/thumbnail` for an attachment that has no thumbnail."),
    ],
    NotFound = "not_found" => [
        Http(NotFound, "No such endpoint or file."),
    ],
    BodyTimeout = "body_timeout" => [
        Http(Timeout, "The request body stalled for `BODY_READ_TIMEOUT` (10 s) or was not complete within `BODY_DEADLINE` (30 s; `UPLOAD_BODY_DEADLINE`, 15 min, for uploads). The server closes the connection after this answer."),
    ],
    MessageDeleted = "message_deleted" => [
        Http(Conflict, "Editing, reacting to or forwarding a message that was deleted for everyone."),
    ],
    ClientMsgIdReused = "client_msg_id_reused" => [
        Http(Conflict, "The sender already used this `client_msg_id` for a message in another chat."),
    ],
    LinkUsed = "link_used" => [
        Http(Conflict, "`POST /api/auth/links/lookup` and `/confirm`: the pairing code was already confirmed (by this or another device)."),
        Http(Gone, "`POST /api/auth/links/{link_id}/claim`: the link's session was already handed out; a link logs in one device once."),
    ],
    LastAdmin = "last_admin" => [
        Http(Conflict, "The group's only admin cannot be demoted; make another member admin first (or leave, which promotes someone)."),
    ],
    GroupChanged = "group_changed" => [
        Http(Conflict, "The group was changed by several admins at the very same moment and the server gave up retrying; send the request again."),
    ],
    ReportClosed = "report_closed" => [
        Http(Conflict, "`POST /api/admin/reports/{id}/actions` on a report another admin already closed."),
    ],
    ContentTooLarge = "content_too_large" => [
        Http(TooLarge, "Message content is over 64 KiB."),
    ],
    PayloadTooLarge = "payload_too_large" => [
        Http(TooLarge, "The request body is over 256 KiB. The server reads an oversized body to its end (up to 16 MiB) before answering, so the client receives this answer rather than a reset connection."),
    ],
    UploadTooLarge = "upload_too_large" => [
        Http(TooLarge, "`POST /api/attachments`: the file is over `MAX_UPLOAD_SIZE`."),
    ],
    UnsupportedMediaType = "unsupported_media_type" => [
        Http(UnsupportedMediaType, "A JSON body was sent without `Content-Type: application/json`."),
    ],
    RangeNotSatisfiable = "range_not_satisfiable" => [
        Http(RangeNotSatisfiable, "`GET /api/attachments/{id}`: the `Range` starts past the end of the file; `Content-Range` says its size."),
    ],
    InvalidReport = "invalid_report" => [
        Http(Invalid, "`POST /api/reports`: not exactly one of `message_id` and `user_id`, or a `reason` that is blank, over 500 characters or has control characters."),
    ],
    InvalidPhone = "invalid_phone" => [
        Http(Invalid, "Not a valid phone number."),
    ],
    InvalidEmail = "invalid_email" => [
        Http(Invalid, "`PUT /api/users/me/email`: not a bare email address with a domain such as `name@example.org` (at most 254 characters)."),
    ],
    EmailNotPending = "email_not_pending" => [
        Http(Conflict, "`POST /api/users/me/email/verify`: no address waits for verification (none was given, or it is verified already)."),
    ],
    EmailUnavailable = "email_unavailable" => [
        Http(Forbidden, "`PUT /api/users/me/email`: this server sends no email (no `SMTP_URL`)."),
    ],
    PhoneNotMobile = "phone_not_mobile" => [
        Http(Invalid, "A valid number that cannot receive text messages (a landline, for example)."),
    ],
    InvalidPairingCode = "invalid_pairing_code" => [
        Http(Invalid, "Linking a device: the pairing code is not 8 characters of `23456789ABCDEFGHJKLMNPQRSTUVWXYZ` (case, spaces and dashes aside)."),
    ],
    InvalidName = "invalid_name" => [
        Http(Invalid, "Name blank, longer than 64 characters or containing control characters."),
    ],
    InvalidStatusLine = "invalid_status_line" => [
        Http(Invalid, "Profile status longer than 140 characters or containing control characters."),
    ],
    InvalidPrivacy = "invalid_privacy" => [
        Http(Invalid, "`PATCH /api/users/me`: `privacy.last_seen` is not `\"everyone\"`, `\"contacts\"` or `\"nobody\"`."),
    ],
    InvalidContact = "invalid_contact" => [
        Http(Invalid, "`POST /api/contacts`: not exactly one of `user_id` and `phone`, or the caller themself."),
    ],
    InvalidAlias = "invalid_alias" => [
        Http(Invalid, "A contact alias longer than 64 characters or containing control characters."),
    ],
    InvalidBlock = "invalid_block" => [
        Http(Invalid, "The caller tried to block themself."),
    ],
    EmptyContent = "empty_content" => [
        Http(Invalid, "Message content is empty or only white space."),
    ],
    InvalidContent = "invalid_content" => [
        Http(Invalid, "Message content contains a NUL character."),
    ],
    UnsupportedContentType = "unsupported_content_type" => [
        Http(Invalid, "`content_type` is not `\"text\"`, `\"image\"`, `\"video\"`, `\"audio\"` or `\"document\"` (`\"system\"` messages are written by the server only)."),
    ],
    AttachmentsRequired = "attachments_required" => [
        Http(Invalid, "An `image`, `video`, `audio` or `document` message without `attachment_ids`."),
    ],
    AttachmentsNotAllowed = "attachments_not_allowed" => [
        Http(Invalid, "A `text` message with `attachment_ids`."),
    ],
    TooManyAttachments = "too_many_attachments" => [
        Http(Invalid, "More than 10 `attachment_ids` in one message."),
    ],
    AttachmentKindMismatch = "attachment_kind_mismatch" => [
        Http(Invalid, "An attachment whose `kind` is not the message's `content_type` (a PDF sent as `image`)."),
    ],
    MissingFile = "missing_file" => [
        Http(Invalid, "`POST /api/attachments` without a `file` field."),
    ],
    EmptyFile = "empty_file" => [
        Http(Invalid, "`POST /api/attachments` with an empty file."),
    ],
    InvalidClientMsgId = "invalid_client_msg_id" => [
        Http(Invalid, "`client_msg_id` is empty, longer than 128 characters, or contains control characters."),
    ],
    InvalidReply = "invalid_reply" => [
        Http(Invalid, "`reply_to_id` does not name a message of the same chat (another chat's, an unknown or malformed id, a system message, or a message deleted for everyone)."),
    ],
    NotEditable = "not_editable" => [
        Http(Invalid, "Editing a system message or a forwarded copy."),
    ],
    SystemMessage = "system_message" => [
        Http(Invalid, "Deleting for everyone, reacting to or forwarding a system message."),
    ],
    InvalidEmoji = "invalid_emoji" => [
        Http(Invalid, "A reaction that is not 1 to 8 characters (Unicode scalar values), or contains ASCII letters or digits, white space or control characters."),
    ],
    InvalidDeleteScope = "invalid_delete_scope" => [
        Http(Invalid, "`DELETE /api/messages/{id}` without `for=me` or `for=everyone`."),
    ],
    InvalidChatIds = "invalid_chat_ids" => [
        Http(Invalid, "Forwarding to no chat, or to more than 5 different chats."),
    ],
    InvalidMembers = "invalid_members" => [
        Http(Invalid, "A direct chat needs exactly one other user in `user_ids`; adding members needs at least one."),
    ],
    InvalidChatType = "invalid_chat_type" => [
        Http(Invalid, "`type` is neither `\"direct\"` nor `\"group\"`."),
    ],
    InvalidGroupName = "invalid_group_name" => [
        Http(Invalid, "A group name is missing, blank, longer than 100 characters after trimming, or contains control characters."),
    ],
    InvalidDescription = "invalid_description" => [
        Http(Invalid, "A group description is longer than 500 characters after trimming, or contains control characters other than line breaks and tabs."),
    ],
    TooManyMembers = "too_many_members" => [
        Http(Invalid, "The group would have more members than `GROUP_MAX_MEMBERS` (1024 by default), its admins included."),
    ],
    NotAGroup = "not_a_group" => [
        Http(Invalid, "A group action (rename, members, roles) on a direct chat."),
    ],
    InvalidRole = "invalid_role" => [
        Http(Invalid, "`role` is neither `\"admin\"` nor `\"member\"`."),
    ],
    InvalidStatus = "invalid_status" => [
        Http(Invalid, "A receipt `status` is neither `\"delivered\"` nor `\"read\"`."),
    ],
    InvalidSeq = "invalid_seq" => [
        Http(Invalid, "`POST /api/chats/{id}/read`: `seq` is below 1."),
    ],
    InvalidOffset = "invalid_offset" => [
        Http(Invalid, "History: `offset` is negative."),
    ],
    InvalidLimit = "invalid_limit" => [
        Http(Invalid, "`limit` is less than 1 (message search: also a negative `offset`)."),
    ],
    InvalidCursor = "invalid_cursor" => [
        Http(Invalid, "History: both `before_seq` and `after_seq`, `before_seq` below 1, or `after_seq` negative."),
    ],
    InvalidPushSubscription = "invalid_push_subscription" => [
        Http(Invalid, "`POST /api/push/subscriptions`: `endpoint` is not an `https://` URL (plain `http://` only in development), or `keys.p256dh` / `keys.auth` are not a P-256 public key and a 16-byte secret in base64url."),
    ],
    PushDisabled = "push_disabled" => [
        Http(NotFound, "`/api/push/*`: push notifications are off on this server (production without `VAPID_PRIVATE_KEY` and `VAPID_SUBJECT`)."),
    ],
    RateLimited = "rate_limited" => [
        Http(TooManyRequests, "The caller is over the [rate limit](#conventions); see `Retry-After`."),
    ],
    CodeRecentlySent = "code_recently_sent" => [
        Http(TooManyRequests, "`POST /api/auth/otp`: a code was sent to this phone less than `OTP_RESEND_COOLDOWN` (30 s) ago. `PUT /api/users/me/email`: a verification code was sent as recently."),
    ],
    TooManyAttempts = "too_many_attempts" => [
        Http(TooManyRequests, "Five wrong codes were tried for this phone's current code (or for the email address's verification code); request a new one."),
    ],
    TooManyConnections = "too_many_connections" => [
        Http(TooManyRequests, "The client's address holds more connections than `MAX_CONNECTIONS_PER_IP` (when set); the connection is closed after this answer. See `Retry-After`."),
    ],
    MediaBusy = "media_busy" => [
        Http(Busy, "`POST /api/attachments`: the server is decoding too many images to make this one's thumbnail now; nothing was kept. Upload it again after `Retry-After` seconds."),
    ],
    InternalError = "internal_error" => [
        Http(Internal, "Something failed inside the server (for example the database, or the SMS webhook). Details are only in the server log."),
    ],
    InvalidFrame = "invalid_frame" => [
        Frame("error", "Not a JSON object with a string `type`, or a binary frame."),
    ],
    UnknownType = "unknown_type" => [
        Frame("error", "A `type` the server does not handle."),
    ],
    InvalidPayload = "invalid_payload" => [
        Frame("error", "A frame's `payload` is missing a field or has one of the wrong type, or a call frame's `sdp` (64 KiB) or `candidate` (4 KiB) is over its limit."),
    ],
    CallNotFound = "call_not_found" => [
        Frame("error", "A call frame names a call that does not exist (or has ended), has a malformed `call_id`, or is a call the caller is not part of (these look the same on purpose)."),
    ],
    NotInCall = "not_in_call" => [
        Frame("error", "`call_offer`, `call_answer` or `call_ice` from a device that has not joined the call, or to a `to_user_id` who has not joined it."),
    ],
    AlreadyInCall = "already_in_call" => [
        Frame("error", "`call_invite` or `call_accept` by someone already in another call (joined on a device); hang that one up first."),
    ],
    CallTooLarge = "call_too_large" => [
        Frame("error", "`call_invite` in a group with more members than `CALL_MAX_PARTICIPANTS` (4 by default)."),
    ],
    TooManyChats = "too_many_chats" => [
        Frame("error", "More than 5000 chats in one `resume` frame."),
    ],
    SessionExpired = "session_expired" => [
        Frame("error", "The device session reached its expiry; the socket then closes with 4001."),
    ],
    SessionRevoked = "session_revoked" => [
        Frame("session_revoked", "This device was logged out; the socket then closes with 4001."),
    ],
    InvalidRegion = "invalid_region" => [],
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
