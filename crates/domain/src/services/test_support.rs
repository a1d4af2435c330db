//! Mocked ports for service unit tests.

use super::Ports;
use crate::clock::MockClock;
use crate::ids::UserId;
use crate::message::{Message, MessageStatus, NewMessage};
use crate::ports::{
    MockAttachmentRepo, MockBlobStore, MockChatRepo, MockChatSettingsRepo, MockCodeGenerator, MockContactRepo,
    MockDeviceLinkRepo, MockEmailSender, MockEventBus, MockLinkSecretGenerator, MockLinkSigner, MockMediaInspector,
    MockMessageRepo, MockMessageSearch, MockModerationRepo, MockOtpRepo, MockOtpSender, MockPresenceTracker,
    MockPushQueue, MockPushRepo, MockReceiptRepo, MockSessionRepo, MockStoreHealth, MockTokenCodec,
    MockTurnCredentials, MockUserEmailRepo, MockUserRepo,
};
use crate::user::{Phone, Region, User, UserName};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One mock per port; set expectations, then turn into `Ports` with `ports()`.
pub struct MockSet {
    pub users: MockUserRepo,
    pub otps: MockOtpRepo,
    pub sessions: MockSessionRepo,
    pub device_links: MockDeviceLinkRepo,
    pub chats: MockChatRepo,
    pub messages: MockMessageRepo,
    pub receipts: MockReceiptRepo,
    pub contacts: MockContactRepo,
    pub chat_settings: MockChatSettingsRepo,
    pub search: MockMessageSearch,
    pub attachments: MockAttachmentRepo,
    pub blobs: MockBlobStore,
    pub media: MockMediaInspector,
    pub bus: MockEventBus,
    pub presence: MockPresenceTracker,
    pub push: MockPushRepo,
    pub moderation: MockModerationRepo,
    pub push_queue: MockPushQueue,
    pub sender: MockOtpSender,
    pub emails: MockUserEmailRepo,
    /// The email sender; None (the default): the server sends no email.
    pub mailer: Option<MockEmailSender>,
    pub codes: MockCodeGenerator,
    pub link_secrets: MockLinkSecretGenerator,
    pub tokens: MockTokenCodec,
    pub links: MockLinkSigner,
    /// The TURN login minter; None (the default): no TURN secret.
    pub turn: Option<MockTurnCredentials>,
    pub now: DateTime<Utc>,
}

impl MockSet {
    /// Fresh mocks. Defaults: no receipt positions, no push subscriptions to remove, any push job taken, no logged message changes, nobody blocked, nobody saved anyone
    /// as a contact, no chat settings (mockall uses
    /// the first matching expectation, so a test that needs otherwise replaces the mock).
    pub fn new(now: DateTime<Utc>) -> Self {
        let mut receipts = MockReceiptRepo::new();
        receipts.expect_positions().returning(|_| Ok(Vec::new()));
        let mut contacts = MockContactRepo::new();
        contacts.expect_is_blocked().returning(|_, _| Ok(false));
        contacts.expect_saved_by().returning(|_| Ok(Vec::new()));
        contacts.expect_blockers_among().returning(|_, _| Ok(Vec::new()));
        let mut messages = MockMessageRepo::new();
        messages.expect_updates_of().returning(|_, _| Ok(Vec::new()));
        let mut chat_settings = MockChatSettingsRepo::new();
        chat_settings.expect_settings().returning(|_, _| Ok(Vec::new()));
        let mut push = MockPushRepo::new();
        push.expect_delete_subscriptions().returning(|_, _| Ok(0));
        let mut push_queue = MockPushQueue::new();
        push_queue.expect_offer().return_const(());

        Self {
            users: MockUserRepo::new(),
            otps: MockOtpRepo::new(),
            sessions: MockSessionRepo::new(),
            device_links: MockDeviceLinkRepo::new(),
            chats: MockChatRepo::new(),
            messages,
            receipts,
            contacts,
            chat_settings,
            search: MockMessageSearch::new(),
            attachments: MockAttachmentRepo::new(),
            blobs: MockBlobStore::new(),
            media: MockMediaInspector::new(),
            bus: MockEventBus::new(),
            presence: MockPresenceTracker::new(),
            push,
            moderation: MockModerationRepo::new(),
            push_queue,
            sender: MockOtpSender::new(),
            emails: MockUserEmailRepo::new(),
            mailer: None,
            codes: MockCodeGenerator::new(),
            link_secrets: MockLinkSecretGenerator::new(),
            tokens: MockTokenCodec::new(),
            links: MockLinkSigner::new(),
            turn: None,
            now,
        }
    }
}

pub fn ports(m: MockSet) -> Ports {
    let mut clock = MockClock::new();
    let now = m.now;
    clock.expect_now().returning(move || now);
    Ports {
        users: Arc::new(m.users),
        otps: Arc::new(m.otps),
        sessions: Arc::new(m.sessions),
        device_links: Arc::new(m.device_links),
        chats: Arc::new(m.chats),
        messages: Arc::new(m.messages),
        receipts: Arc::new(m.receipts),
        contacts: Arc::new(m.contacts),
        chat_settings: Arc::new(m.chat_settings),
        search: Arc::new(m.search),
        attachments: Arc::new(m.attachments),
        blobs: Arc::new(m.blobs),
        media: Arc::new(m.media),
        store_health: Arc::new(MockStoreHealth::new()),
        bus: Arc::new(m.bus),
        presence: Arc::new(m.presence),
        push: Arc::new(m.push),
        moderation: Arc::new(m.moderation),
        push_queue: Arc::new(m.push_queue),
        emails: Arc::new(m.emails),
        otp_sender: Some(Arc::new(m.sender)),
        email_sender: m.mailer.map(|mailer| Arc::new(mailer) as Arc<dyn crate::ports::EmailSender>),
        codes: Arc::new(m.codes),
        link_secrets: Arc::new(m.link_secrets),
        tokens: Arc::new(m.tokens),
        link_signer: Arc::new(m.links),
        turn_credentials: m.turn.map(|turn| Arc::new(turn) as Arc<dyn crate::ports::TurnCredentials>),
        clock: Arc::new(clock),
    }
}

/// A logged-in caller on a device of their own.
pub fn caller() -> crate::auth::Caller {
    crate::auth::Caller { user_id: crate::ids::UserId::new(), session_id: crate::ids::SessionId::new() }
}

/// An ordinary, active member of a chat since now.
pub fn member(chat_id: crate::ids::ChatId, user_id: crate::ids::UserId) -> crate::chat::Member {
    crate::chat::Member { chat_id, user_id, role: crate::chat::Role::Member, joined_at: Utc::now(), left_at: None }
}

/// A chat of `kind` with this id, made just now by someone.
pub fn chat(id: crate::ids::ChatId, kind: crate::chat::ChatKind) -> crate::chat::Chat {
    crate::chat::Chat {
        id,
        kind,
        name: None,
        description: None,
        created_by: UserId::new(),
        created_at: Utc::now(),
        last_event_seq: 0,
        group_version: 0,
    }
}

/// A registered user with this id and name.
pub fn user(id: UserId, name: &str) -> User {
    let mut user = User::new(
        Phone::parse("+919876543210", Region::default()).unwrap(),
        UserName::parse(name).unwrap(),
        Utc::now(),
    );
    user.id = id;
    user
}

/// `new` as the store returns it once stored at `seq`.
pub fn stored(new: &NewMessage, seq: i64) -> Message {
    Message {
        id: new.id,
        chat_id: new.chat_id,
        sender_id: new.sender_id,
        content: new.content.clone().into_inner(),
        content_type: new.content_type,
        seq,
        status: MessageStatus::Sent,
        client_msg_id: new.client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
        created_at: new.created_at,
        system: new.system.clone(),
        reply_to: None,
        forwarded: new.forwarded,
        edited_at: None,
        deleted_at: None,
        reactions: Default::default(),
        my_reaction: None,
        attachments: Vec::new(),
    }
}

/// A stored text message "m{seq}" from `sender`, sent now.
pub fn text_message(chat_id: crate::ids::ChatId, sender: UserId, seq: i64) -> Message {
    let new = NewMessage {
        id: crate::ids::MessageId::new(),
        chat_id,
        sender_id: sender,
        content: crate::message::MessageBody::parse(format!("m{seq}")).unwrap(),
        content_type: crate::message::ContentType::Text,
        client_msg_id: None,
        created_at: Utc::now(),
        system: None,
        reply_to_id: None,
        forwarded: false,
        attachments: Vec::new(),
    };
    stored(&new, seq)
}
