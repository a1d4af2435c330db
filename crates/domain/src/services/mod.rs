//! Use cases. Every rule about who may do what is enforced here, once, whichever
//! edge (REST or WebSocket) the request came through.

mod attachments;
mod auth;
mod chats;
mod contacts;
mod export;
mod former;
mod groups;
mod guards;
mod ice;
mod links;
mod message_actions;
mod messages;
mod moderation;
mod presence;
mod privacy;
mod push;
mod receipts;
mod reports;
mod search;
mod sync;
mod users;

#[cfg(test)]
mod attachment_sends;
#[cfg(test)]
pub(crate) mod test_support;

pub use attachments::{AttachmentService, Download, Upload};
pub use auth::{AuthPolicy, AuthService, CodeChannels, IssuedCode, LoginRequest};
pub use chats::{ChatService, NewChat};
pub use contacts::{ContactRef, ContactService};
pub use export::{ExportedChat, ExportedContact, ExportedProfile, ExportedSession, UserExport};
pub use groups::GroupEdit;
pub use ice::IceService;
pub use links::LinkService;
pub use messages::MessageService;
pub use moderation::{ModerationService, FIGURE_DAYS, MAX_AUDIT_PAGE, MAX_LISTED_USERS};
pub use presence::PresenceService;
pub use push::{DeliveryRound, PushPolicy, PushService};
pub use receipts::ReceiptService;
pub use search::SearchService;
pub use sync::{CatchUp, SyncService, MAX_REPLAY_EVENTS};
pub use users::{UserService, MAX_QUERY_CHARS as MAX_PEOPLE_QUERY_CHARS};

use crate::attachment::AttachmentPolicy;
use crate::chat::GroupPolicy;
use crate::clock::Clock;
use crate::ice::IcePolicy;
use crate::message::MessagePolicy;
use crate::ports::{
    AttachmentRepo, BlobStore, ChatRepo, ChatSettingsRepo, CodeGenerator, ContactRepo, DeviceLinkRepo, EmailSender,
    EventBus, LinkSecretGenerator, LinkSigner, MediaInspector, MessageRepo, MessageSearch, ModerationRepo, OtpRepo,
    OtpSender, PresenceTracker, PushQueue, PushRepo, ReceiptRepo, SessionRepo, StoreHealth, TokenCodec,
    TurnCredentials, UserEmailRepo, UserRepo,
};
use std::sync::Arc;

/// Every adapter the services need, chosen by the server at start-up.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepo>,
    pub otps: Arc<dyn OtpRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    /// New devices waiting to be linked to a logged-in person.
    pub device_links: Arc<dyn DeviceLinkRepo>,
    pub chats: Arc<dyn ChatRepo>,
    pub messages: Arc<dyn MessageRepo>,
    pub receipts: Arc<dyn ReceiptRepo>,
    pub contacts: Arc<dyn ContactRepo>,
    pub chat_settings: Arc<dyn ChatSettingsRepo>,
    pub search: Arc<dyn MessageSearch>,
    pub attachments: Arc<dyn AttachmentRepo>,
    pub blobs: Arc<dyn BlobStore>,
    pub media: Arc<dyn MediaInspector>,
    pub store_health: Arc<dyn StoreHealth>,
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceTracker>,
    pub push: Arc<dyn PushRepo>,
    /// Disabled accounts, reports, the audit log and the server's figures.
    pub moderation: Arc<dyn ModerationRepo>,
    /// Where sends hand their events to push planning.
    pub push_queue: Arc<dyn PushQueue>,
    /// People's email addresses.
    pub emails: Arc<dyn UserEmailRepo>,
    /// Login codes by SMS (or, in development, the log); None when codes go by
    /// other ways only.
    pub otp_sender: Option<Arc<dyn OtpSender>>,
    /// Codes by email; None when the server has no mail server (`SMTP_URL`).
    pub email_sender: Option<Arc<dyn EmailSender>>,
    pub codes: Arc<dyn CodeGenerator>,
    /// Pairing codes and claim secrets of device links.
    pub link_secrets: Arc<dyn LinkSecretGenerator>,
    pub tokens: Arc<dyn TokenCodec>,
    /// Signs attachment download links (a key apart from the tokens').
    pub link_signer: Arc<dyn LinkSigner>,
    /// Logins for the TURN server; None when it has no shared secret (`TURN_SECRET`).
    pub turn_credentials: Option<Arc<dyn TurnCredentials>>,
    pub clock: Arc<dyn Clock>,
}

/// The services the edges call, built once and shared.
#[derive(Clone)]
pub struct Services {
    pub auth: Arc<AuthService>,
    pub links: Arc<LinkService>,
    pub users: Arc<UserService>,
    pub chats: Arc<ChatService>,
    pub messages: Arc<MessageService>,
    pub sync: Arc<SyncService>,
    pub presence: Arc<PresenceService>,
    pub receipts: Arc<ReceiptService>,
    pub contacts: Arc<ContactService>,
    pub search: Arc<SearchService>,
    pub attachments: Arc<AttachmentService>,
    pub push: Arc<PushService>,
    pub moderation: Arc<ModerationService>,
    pub ice: Arc<IceService>,
    pub bus: Arc<dyn EventBus>,
    pub store_health: Arc<dyn StoreHealth>,
}

impl Services {
    pub fn new(
        ports: Ports,
        auth: AuthPolicy,
        groups: GroupPolicy,
        messages: MessagePolicy,
        attachments: AttachmentPolicy,
        push: PushPolicy,
        ice: IcePolicy,
    ) -> Self {
        let region = auth.region;
        let links = Arc::new(LinkService::new(&ports, &auth, crate::auth::link::LinkPolicy::default()));
        let auth = Arc::new(AuthService::new(&ports, auth));
        let messages = Arc::new(MessageService::new(&ports, messages));
        Self {
            links,
            moderation: Arc::new(ModerationService::new(&ports, region, auth.clone(), messages.clone())),
            auth,
            users: Arc::new(UserService::new(&ports)),
            chats: Arc::new(ChatService::new(&ports, groups)),
            messages,
            sync: Arc::new(SyncService::new(&ports)),
            presence: Arc::new(PresenceService::new(&ports)),
            receipts: Arc::new(ReceiptService::new(&ports)),
            contacts: Arc::new(ContactService::new(&ports, region)),
            search: Arc::new(SearchService::new(&ports)),
            attachments: Arc::new(AttachmentService::new(&ports, attachments)),
            push: Arc::new(PushService::new(&ports, push)),
            ice: Arc::new(IceService::new(&ports, ice)),
            bus: ports.bus,
            store_health: ports.store_health,
        }
    }
}
