//! Rows as stored, and their conversions to and from domain types.

use crate::error::StoreError;
use crate::schema::{
    attachments, chat_events, chat_members, chats, hidden_messages, message_attachments, message_edits,
    message_reactions, messages, otp_challenges, read_positions, sessions, user_emails, users,
};
use crate::time::{from_micros, to_micros};
use chitchat_domain::attachment::{Attachment, AttachmentInfo, AttachmentKind, ThumbnailFacts};
use chitchat_domain::auth::{OtpChallenge, Session};
use chitchat_domain::chat::{Chat, ChatKind, LogPosition, Member, Role};
use chitchat_domain::message::{
    ContentType, Message, MessageStatus, NewMessage, ReactionChange, ReplyPreview, SystemInfo, UpdateAction,
};
use chitchat_domain::user::{EmailAddress, LastSeenVisibility, Phone, User, UserEmail};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

pub(crate) fn parse_id<T: FromStr>(raw: &str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("id {raw:?}")))
}

fn corrupt(what: &str) -> impl FnOnce(chitchat_domain::DomainError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub status: String,
    pub last_seen: i64,
    pub created_at: i64,
    pub last_seen_visibility: String,
    pub notification_previews: bool,
    pub disabled_at: Option<i64>,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            phone: u.phone.as_str().to_owned(),
            name: u.name.clone(),
            status: u.status.clone(),
            // A user is stored once, at first login, when they were just seen.
            last_seen: to_micros(u.last_seen.unwrap_or(u.created_at)),
            created_at: to_micros(u.created_at),
            last_seen_visibility: u.last_seen_visibility.as_str().to_owned(),
            notification_previews: u.notification_previews,
            disabled_at: u.disabled_at.map(to_micros),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            phone: Phone::from_trusted(r.phone),
            name: r.name,
            status: r.status,
            last_seen: Some(from_micros(r.last_seen)?),
            created_at: from_micros(r.created_at)?,
            last_seen_visibility: LastSeenVisibility::parse(&r.last_seen_visibility)
                .map_err(|e| StoreError::Corrupt(format!("users.last_seen_visibility: {e}")))?,
            notification_previews: r.notification_previews,
            disabled_at: r.disabled_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = otp_challenges)]
pub(crate) struct OtpRow {
    pub phone: String,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i32,
    pub created_at: i64,
}

impl From<&OtpChallenge> for OtpRow {
    fn from(c: &OtpChallenge) -> Self {
        Self {
            phone: c.phone.as_str().to_owned(),
            code_hash: c.code_hash.clone(),
            expires_at: to_micros(c.expires_at),
            attempts: c.attempts,
            created_at: to_micros(c.created_at),
        }
    }
}

impl TryFrom<OtpRow> for OtpChallenge {
    type Error = StoreError;
    fn try_from(r: OtpRow) -> Result<Self, StoreError> {
        Ok(Self {
            phone: Phone::from_trusted(r.phone),
            code_hash: r.code_hash,
            expires_at: from_micros(r.expires_at)?,
            attempts: r.attempts,
            created_at: from_micros(r.created_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_emails)]
pub(crate) struct UserEmailRow {
    pub user_id: String,
    pub address: String,
    pub verified_at: Option<i64>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub attempts: i32,
    pub created_at: i64,
}

impl From<&UserEmail> for UserEmailRow {
    fn from(e: &UserEmail) -> Self {
        Self {
            user_id: e.user_id.to_string(),
            address: e.address.as_str().to_owned(),
            verified_at: e.verified_at.map(to_micros),
            code_hash: e.code_hash.clone(),
            code_expires_at: e.code_expires_at.map(to_micros),
            attempts: e.attempts,
            created_at: to_micros(e.created_at),
        }
    }
}

impl TryFrom<UserEmailRow> for UserEmail {
    type Error = StoreError;
    fn try_from(r: UserEmailRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_id: parse_id(&r.user_id)?,
            address: EmailAddress::from_trusted(r.address),
            verified_at: r.verified_at.map(from_micros).transpose()?,
            code_hash: r.code_hash,
            code_expires_at: r.code_expires_at.map(from_micros).transpose()?,
            attempts: r.attempts,
            created_at: from_micros(r.created_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub device: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.to_string(),
            user_id: s.user_id.to_string(),
            device: s.device.clone(),
            created_at: to_micros(s.created_at),
            expires_at: to_micros(s.expires_at),
            revoked_at: s.revoked_at.map(to_micros),
        }
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            user_id: parse_id(&r.user_id)?,
            device: r.device,
            created_at: from_micros(r.created_at)?,
            expires_at: from_micros(r.expires_at)?,
            revoked_at: r.revoked_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chats)]
pub(crate) struct ChatRow {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub direct_key: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub last_seq: i64,
    pub last_activity_at: i64,
    pub last_event_seq: i64,
    pub description: Option<String>,
    pub group_version: i64,
}

impl ChatRow {
    pub fn new(c: &Chat, direct_key: Option<&str>) -> Self {
        Self {
            id: c.id.to_string(),
            kind: c.kind.as_str().to_owned(),
            name: c.name.clone(),
            direct_key: direct_key.map(str::to_owned),
            created_by: c.created_by.to_string(),
            created_at: to_micros(c.created_at),
            last_seq: 0,
            last_activity_at: to_micros(c.created_at),
            last_event_seq: 0,
            description: c.description.clone(),
            group_version: c.group_version,
        }
    }
}

impl TryFrom<ChatRow> for Chat {
    type Error = StoreError;
    fn try_from(r: ChatRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            kind: ChatKind::parse(&r.kind).map_err(corrupt("chat kind"))?,
            name: r.name,
            description: r.description,
            created_by: parse_id(&r.created_by)?,
            created_at: from_micros(r.created_at)?,
            last_event_seq: r.last_event_seq,
            group_version: r.group_version,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chat_members)]
pub(crate) struct MemberRow {
    pub chat_id: String,
    pub user_id: String,
    pub role: String,
    pub joined_at: i64,
    pub left_at_seq: Option<i64>,
    pub left_at_event_seq: Option<i64>,
}

impl From<&Member> for MemberRow {
    fn from(m: &Member) -> Self {
        Self {
            chat_id: m.chat_id.to_string(),
            user_id: m.user_id.to_string(),
            role: m.role.as_str().to_owned(),
            joined_at: to_micros(m.joined_at),
            left_at_seq: m.left_at.map(|at| at.seq),
            left_at_event_seq: m.left_at.map(|at| at.event_seq),
        }
    }
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Self {
            chat_id: parse_id(&r.chat_id)?,
            user_id: parse_id(&r.user_id)?,
            role: Role::parse(&r.role).map_err(corrupt("role"))?,
            joined_at: from_micros(r.joined_at)?,
            left_at: match (r.left_at_seq, r.left_at_event_seq) {
                (Some(seq), Some(event_seq)) => Some(LogPosition { seq, event_seq }),
                (None, None) => None,
                _ => return Err(StoreError::Corrupt(format!("member {} left half-way", r.user_id))),
            },
        })
    }
}

#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
// NULL rather than DEFAULT for None (the same here): lets SQLite insert many rows
// in one statement, and PostgreSQL cache the statement.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct MessageRow {
    pub id: String,
    pub chat_id: String,
    pub sender_id: String,
    pub seq: i64,
    pub content: String,
    pub content_type: String,
    pub client_msg_id: Option<String>,
    pub created_at: i64,
    pub system_info: Option<String>,
    pub reply_to_id: Option<String>,
    pub forwarded: bool,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl MessageRow {
    /// The row of a message about to be stored; its `seq` is set when it is.
    pub fn new(m: &NewMessage) -> Result<Self, StoreError> {
        let system_info = m
            .system
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("system info of message {}: {e}", m.id)))?;
        Ok(Self {
            id: m.id.to_string(),
            chat_id: m.chat_id.to_string(),
            sender_id: m.sender_id.to_string(),
            seq: 0,
            content: m.content.clone().into_inner(),
            content_type: m.content_type.as_str().to_owned(),
            client_msg_id: m.client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
            created_at: to_micros(m.created_at),
            system_info,
            reply_to_id: m.reply_to_id.map(|id| id.to_string()),
            forwarded: m.forwarded,
            edited_at: None,
            deleted_at: None,
        })
    }
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&r.id)?,
            chat_id: parse_id(&r.chat_id)?,
            sender_id: parse_id(&r.sender_id)?,
            content: r.content,
            content_type: ContentType::from_name(&r.content_type)
                .ok_or_else(|| StoreError::Corrupt(format!("content type {:?}", r.content_type)))?,
            seq: r.seq,
            // Receipts are not tracked yet: every stored message is "sent".
            status: MessageStatus::Sent,
            client_msg_id: r.client_msg_id,
            created_at: from_micros(r.created_at)?,
            system: r
                .system_info
                .as_deref()
                .map(serde_json::from_str::<SystemInfo>)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("system info: {e}")))?,
            // Filled in by `assemble`, from other rows.
            reply_to: None,
            forwarded: r.forwarded,
            edited_at: r.edited_at.map(from_micros).transpose()?,
            deleted_at: r.deleted_at.map(from_micros).transpose()?,
            reactions: BTreeMap::new(),
            my_reaction: None,
            // Filled in by `assemble`, from the attachment rows.
            attachments: Vec::new(),
        })
    }
}

/// What `hydrate` read besides the messages themselves: the originals they reply
/// to, the reaction counts `(message_id, emoji, count)` and the viewer's own
/// reactions `(message_id, emoji)`.
pub(crate) struct MessageExtras {
    pub originals: Vec<MessageRow>,
    pub counts: Vec<(String, String, i64)>,
    pub mine: Vec<(String, String)>,
    /// `(message_id, attachment)` in each message's order.
    pub attachments: Vec<(String, AttachmentRow)>,
}

/// The messages of `rows` as they are when read, in the same order.
pub(crate) fn assemble(rows: Vec<MessageRow>, extras: MessageExtras) -> Result<Vec<Message>, StoreError> {
    let mut previews = HashMap::with_capacity(extras.originals.len());
    for row in extras.originals {
        let id = row.id.clone();
        previews.insert(id, ReplyPreview::of(&Message::try_from(row)?));
    }
    let mut counts: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    for (message_id, emoji, count) in extras.counts {
        counts.entry(message_id).or_default().insert(emoji, count);
    }
    let mut mine: HashMap<String, String> = extras.mine.into_iter().collect();
    let mut carried: HashMap<String, Vec<AttachmentInfo>> = HashMap::new();
    for (message_id, attachment) in extras.attachments {
        carried.entry(message_id).or_default().push(Attachment::try_from(attachment)?.info);
    }
    rows.into_iter()
        .map(|row| {
            let reply_to = row.reply_to_id.as_ref().and_then(|original| previews.get(original).cloned());
            let reactions = counts.remove(&row.id).unwrap_or_default();
            let my_reaction = mine.remove(&row.id);
            let attachments = carried.remove(&row.id).unwrap_or_default();
            Ok(Message { reply_to, reactions, my_reaction, attachments, ..Message::try_from(row)? })
        })
        .collect()
}

/// The kinds of logged chat events, as stored.
pub(crate) const EVENT_MESSAGE: &str = "message";
pub(crate) const EVENT_STATUS_UPDATE: &str = "status_update";
pub(crate) const EVENT_MESSAGE_UPDATE: &str = "message_update";

/// The payload of a logged `message_update`. The message itself is not copied: a
/// replay shows it as it is then, so that nothing of a deleted message comes back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UpdatePayload {
    pub action: UpdateAction,
    #[serde(default)]
    pub reaction: Option<ReactionChange>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chat_events)]
// NULL rather than DEFAULT for None (the same here): lets SQLite insert many rows
// in one statement, and PostgreSQL cache the statement.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ChatEventRow {
    pub chat_id: String,
    pub event_seq: i64,
    pub kind: String,
    pub actor_id: String,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub payload: Option<String>,
}

impl ChatEventRow {
    /// The log entry of a stored message, at `event_seq`.
    pub(crate) fn message(row: &MessageRow, event_seq: i64) -> Self {
        Self {
            chat_id: row.chat_id.clone(),
            event_seq,
            kind: EVENT_MESSAGE.to_owned(),
            actor_id: row.sender_id.clone(),
            message_id: Some(row.id.clone()),
            created_at: row.created_at,
            payload: None,
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = read_positions)]
// NULL rather than DEFAULT for None (the same here): lets SQLite insert many rows
// in one statement, and PostgreSQL cache the statement.
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ReadPositionRow {
    pub chat_id: String,
    pub user_id: String,
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
}

impl TryFrom<ReadPositionRow> for chitchat_domain::receipt::ReadPosition {
    type Error = StoreError;
    fn try_from(r: ReadPositionRow) -> Result<Self, StoreError> {
        Ok(Self {
            chat_id: parse_id(&r.chat_id)?,
            user_id: parse_id(&r.user_id)?,
            delivered_seq: r.delivered_seq,
            read_seq: r.read_seq,
            delivered_at: r.delivered_at.map(from_micros).transpose()?,
            read_at: r.read_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = message_edits)]
pub(crate) struct MessageEditRow {
    pub message_id: String,
    pub version: i64,
    pub content: String,
    pub edited_at: i64,
}

impl TryFrom<MessageEditRow> for chitchat_domain::message::MessageEdit {
    type Error = StoreError;
    fn try_from(r: MessageEditRow) -> Result<Self, StoreError> {
        Ok(Self { content: r.content, edited_at: from_micros(r.edited_at)? })
    }
}

#[derive(Insertable)]
#[diesel(table_name = message_reactions)]
pub(crate) struct ReactionRow {
    pub message_id: String,
    pub user_id: String,
    pub emoji: String,
    pub reacted_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = hidden_messages)]
pub(crate) struct HiddenRow {
    pub user_id: String,
    pub message_id: String,
    pub chat_id: String,
    pub hidden_at: i64,
}

/// Converts a list of rows, failing on the first corrupt one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub(crate) struct AttachmentRow {
    pub id: String,
    pub uploader_id: String,
    pub kind: String,
    pub mime_type: String,
    pub name: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail_mime_type: Option<String>,
    pub thumbnail_size: Option<i64>,
    pub created_at: i64,
}

impl From<&Attachment> for AttachmentRow {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.info.id.to_string(),
            uploader_id: a.uploader_id.to_string(),
            kind: a.info.kind.as_str().to_owned(),
            mime_type: a.info.mime_type.clone(),
            name: a.info.name.clone(),
            size: a.info.size,
            width: a.info.width,
            height: a.info.height,
            thumbnail_mime_type: a.thumbnail.as_ref().map(|t| t.mime_type.clone()),
            thumbnail_size: a.thumbnail.as_ref().map(|t| t.size),
            created_at: to_micros(a.created_at),
        }
    }
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = StoreError;
    fn try_from(r: AttachmentRow) -> Result<Self, StoreError> {
        let thumbnail = match (r.thumbnail_mime_type, r.thumbnail_size) {
            (Some(mime_type), Some(size)) => Some(ThumbnailFacts { mime_type, size }),
            _ => None,
        };
        Ok(Self {
            info: AttachmentInfo {
                id: parse_id(&r.id)?,
                kind: AttachmentKind::from_name(&r.kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("attachment kind {:?}", r.kind)))?,
                mime_type: r.mime_type,
                name: r.name,
                size: r.size,
                width: r.width,
                height: r.height,
                has_thumbnail: thumbnail.is_some(),
            },
            uploader_id: parse_id(&r.uploader_id)?,
            thumbnail,
            created_at: from_micros(r.created_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = message_attachments)]
pub(crate) struct MessageAttachmentRow {
    pub message_id: String,
    pub attachment_id: String,
    pub position: i32,
}
