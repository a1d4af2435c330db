//! Every JSON request body the API reads, decoded as its route decodes it and
//! checked by the domain rules that need no storage. Must be total over any bytes
//! a client sends; the fuzz targets and the corpus test hold it to that.

use crate::routes::admin::{ActionBody, ReportBody};
use crate::routes::auth::{OtpRequest, RegisterRequest};
use crate::routes::chats::{parse_user_ids, AddMembers, CreateChat, SetRole, SettingsBody, UpdateChat};
use crate::routes::contacts::{user_id, AddBody, ProfileBody};
use crate::routes::email::{EmailBody, EmailCodeBody};
use crate::routes::links::{ClaimBody, LinkRequest, PairingCodeBody};
use crate::routes::message_actions::{EditBody, ForwardBody, ReactionBody};
use crate::routes::messages::SendBody;
use crate::routes::push::UnsubscribeBody;
use crate::routes::receipts::{ReadBody, StatusBody};
use crate::routes::{parse_chat_id, parse_message_id};
use chitchat_domain::auth::link::PairingCode;
use chitchat_domain::auth::OtpCode;
use chitchat_domain::chat::{ChatKind, GroupDescription, GroupName, Role};
use chitchat_domain::contact::parse_alias;
use chitchat_domain::message::{Emoji, MessageBody};
use chitchat_domain::push::SubscriptionRequest;
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::user::{EmailAddress, LastSeenVisibility, Phone, Region, StatusLine, UserName};
use chitchat_domain::DomainError;
use chitchat_domain::ErrorCode;
use serde::de::DeserializeOwned;

/// What became of a body: not JSON of its shape (a 400 before any rule runs),
/// refused by a rule, or accepted.
#[derive(Debug)]
pub enum BodyCheck {
    Undecodable(serde_json::Error),
    Refused(DomainError),
    Accepted,
}

type Check = fn(&[u8], Region) -> BodyCheck;

/// The JSON bodies, by route.
pub const REQUEST_BODIES: &[(&str, Check)] = &[
    ("POST /api/auth/otp", |b, r| check::<OtpRequest>(b, |x| Phone::parse(&x.phone, r).map(drop))),
    ("POST /api/auth/register", |b, r| check(b, |x: RegisterRequest| register(x, r))),
    ("POST /api/auth/links", |b, r| check::<LinkRequest>(b, |x| Phone::parse(&x.phone, r).map(drop))),
    ("POST /api/auth/links/lookup", |b, _| {
        check(b, |x: PairingCodeBody| PairingCode::parse(&x.pairing_code).map(drop))
    }),
    ("POST /api/auth/links/confirm", |b, _| {
        check(b, |x: PairingCodeBody| PairingCode::parse(&x.pairing_code).map(drop))
    }),
    ("POST /api/auth/links/{link_id}/claim", |b, _| check(b, |_: ClaimBody| Ok(()))),
    ("POST /api/messages", |b, _| check(b, |x: SendBody| x.into_command().map(drop))),
    ("PATCH /api/messages/{id}", |b, _| check(b, |x: EditBody| MessageBody::parse(x.content).map(drop))),
    ("POST /api/messages/{id}/forward", |b, _| check(b, |x: ForwardBody| each(&x.chat_ids, parse_chat_id))),
    ("PUT /api/messages/{id}/reactions", |b, _| check(b, |x: ReactionBody| Emoji::parse(x.emoji).map(drop))),
    ("POST /api/messages/status", |b, _| check(b, message_status)),
    ("POST /api/chats/{id}/read", |b, _| check(b, |_: ReadBody| Ok(()))),
    ("POST /api/chats", |b, _| check(b, create_chat)),
    ("PATCH /api/chats/{id}", |b, _| check(b, |x: UpdateChat| group_texts(x.name, x.description))),
    ("POST /api/chats/{id}/members", |b, _| check(b, |x: AddMembers| parse_user_ids(&x.user_ids).map(drop))),
    ("PATCH /api/chats/{id}/members/{user_id}", |b, _| check(b, |x: SetRole| Role::parse(&x.role).map(drop))),
    ("PUT /api/chats/{id}/settings", |b, _| check(b, |_: SettingsBody| Ok(()))),
    ("PATCH /api/users/me", |b, _| check(b, profile)),
    ("PUT /api/users/me/email", |b, _| check(b, |x: EmailBody| EmailAddress::parse(&x.email).map(drop))),
    ("POST /api/users/me/email/verify", |b, _| check(b, |x: EmailCodeBody| OtpCode::parse(&x.code).map(drop))),
    ("POST /api/contacts", |b, r| check(b, |x: AddBody| add_contact(x, r))),
    ("POST /api/push/subscriptions", |b, _| check(b, push_subscription)),
    ("DELETE /api/push/subscriptions", |b, _| check(b, |_: UnsubscribeBody| Ok(()))),
    ("POST /api/reports", |b, _| check(b, report)),
    ("POST /api/admin/reports/{id}/actions", |b, _| check(b, |_: ActionBody| Ok(()))),
];

fn report(body: ReportBody) -> Result<(), DomainError> {
    body.target()?;
    chitchat_domain::moderation::report_reason(&body.reason).map(drop)
}

fn check<T: DeserializeOwned>(bytes: &[u8], rules: impl FnOnce(T) -> Result<(), DomainError>) -> BodyCheck {
    match serde_json::from_slice(bytes) {
        Err(error) => BodyCheck::Undecodable(error),
        Ok(body) => match rules(body) {
            Ok(()) => BodyCheck::Accepted,
            Err(error) => BodyCheck::Refused(error),
        },
    }
}

fn each<T>(raw: &[String], parse: fn(&str) -> Result<T, DomainError>) -> Result<(), DomainError> {
    raw.iter().try_for_each(|id| parse(id).map(drop))
}

fn register(body: RegisterRequest, region: Region) -> Result<(), DomainError> {
    Phone::parse(&body.phone, region)?;
    OtpCode::parse(&body.code)?;
    body.name.as_deref().map(UserName::parse).transpose().map(drop)
}

fn message_status(body: StatusBody) -> Result<(), DomainError> {
    ReceiptKind::parse(&body.status)?;
    parse_message_id(&body.message_id).map(drop)
}

fn create_chat(body: CreateChat) -> Result<(), DomainError> {
    let chat = body.try_into_domain()?;
    match chat.kind {
        ChatKind::Group => group_texts(chat.name, chat.description),
        ChatKind::Direct => Ok(()),
    }
}

fn group_texts(name: Option<String>, description: Option<String>) -> Result<(), DomainError> {
    name.as_deref().map(GroupName::parse).transpose()?;
    description.as_deref().map(GroupDescription::parse).transpose().map(drop)
}

fn profile(body: ProfileBody) -> Result<(), DomainError> {
    body.privacy.and_then(|p| p.last_seen).as_deref().map(LastSeenVisibility::parse).transpose()?;
    body.name.as_deref().map(UserName::parse).transpose()?;
    body.status.as_deref().map(StatusLine::parse).transpose().map(drop)
}

/// As in development, where `http://` endpoints are allowed; the caller is any device.
fn push_subscription(body: SubscriptionRequest) -> Result<(), DomainError> {
    let caller = chitchat_domain::auth::Caller {
        user_id: chitchat_domain::UserId::new(),
        session_id: chitchat_domain::SessionId::new(),
    };
    body.into_subscription(caller, true).map(drop)
}

fn add_contact(body: AddBody, region: Region) -> Result<(), DomainError> {
    match (&body.user_id, &body.phone) {
        (Some(id), None) => user_id(id).map(drop)?,
        (None, Some(phone)) => Phone::parse(phone, region).map(drop)?,
        _ => return Err(DomainError::invalid(ErrorCode::InvalidContact, "give exactly one of user_id and phone")),
    }
    parse_alias(body.alias.as_deref()).map(drop)
}
