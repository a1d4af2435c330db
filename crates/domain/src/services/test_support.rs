//! Mocked ports for service unit tests.

use super::Ports;
use crate::clock::MockClock;
use crate::ids::UserId;
use crate::message::{Message, MessageStatus, NewMessage};
use crate::ports::{
    MockChatRepo, MockCodeGenerator, MockEventBus, MockMessageRepo, MockOtpRepo, MockOtpSender, MockSessionRepo,
    MockStoreHealth, MockTokenCodec, MockUserRepo,
};
use crate::user::{Phone, Region, User, UserName};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One mock per port; set expectations, then turn into `Ports` with `ports()`.
pub struct MockSet {
    pub users: MockUserRepo,
    pub otps: MockOtpRepo,
    pub sessions: MockSessionRepo,
    pub chats: MockChatRepo,
    pub messages: MockMessageRepo,
    pub bus: MockEventBus,
    pub sender: MockOtpSender,
    pub codes: MockCodeGenerator,
    pub tokens: MockTokenCodec,
    pub now: DateTime<Utc>,
}

impl MockSet {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            users: MockUserRepo::new(),
            otps: MockOtpRepo::new(),
            sessions: MockSessionRepo::new(),
            chats: MockChatRepo::new(),
            messages: MockMessageRepo::new(),
            bus: MockEventBus::new(),
            sender: MockOtpSender::new(),
            codes: MockCodeGenerator::new(),
            tokens: MockTokenCodec::new(),
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
        chats: Arc::new(m.chats),
        messages: Arc::new(m.messages),
        store_health: Arc::new(MockStoreHealth::new()),
        bus: Arc::new(m.bus),
        otp_sender: Arc::new(m.sender),
        codes: Arc::new(m.codes),
        tokens: Arc::new(m.tokens),
        clock: Arc::new(clock),
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
    }
}
