//! Administration: finding, disabling, enabling and deleting accounts, ending
//! sessions, the server's figures and the audit log. The operator's command line
//! and the admins' API call the same operations; each action is written to the
//! audit log with who did it.

use super::auth::AuthService;
use super::messages::MessageService;
use super::Ports;
use crate::auth::{Caller, Session};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::ids::{SessionId, UserId};
use crate::moderation::{
    admins_only, last_days, Actor, AuditEntry, DayCount, ServerFigures, UserSummary, DELETED_ACCOUNT_NAME,
};
use crate::ports::{
    BlobStore, ChatRepo, ContactRepo, MessageRepo, ModerationRepo, PresenceTracker, SessionRepo, UserRepo,
};
use crate::user::{Phone, Region, User};
use crate::ErrorCode;
use std::sync::Arc;

/// How many users a listing shows at most.
pub const MAX_LISTED_USERS: i64 = 200;
/// How many audit entries one page shows at most.
pub const MAX_AUDIT_PAGE: i64 = 200;
/// How many days the figures count messages for.
pub const FIGURE_DAYS: u32 = 7;

pub struct ModerationService {
    pub(super) users: Arc<dyn UserRepo>,
    pub(super) sessions: Arc<dyn SessionRepo>,
    pub(super) store: Arc<dyn ModerationRepo>,
    pub(super) chats: Arc<dyn ChatRepo>,
    pub(super) messages: Arc<dyn MessageRepo>,
    pub(super) contacts: Arc<dyn ContactRepo>,
    pub(super) blobs: Arc<dyn BlobStore>,
    presence: Arc<dyn PresenceTracker>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) auth: Arc<AuthService>,
    pub(super) message_service: Arc<MessageService>,
    region: Region,
}

fn user_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::UserNotFound, "no such user")
}

impl ModerationService {
    pub fn new(ports: &Ports, region: Region, auth: Arc<AuthService>, message_service: Arc<MessageService>) -> Self {
        Self {
            users: ports.users.clone(),
            sessions: ports.sessions.clone(),
            store: ports.moderation.clone(),
            chats: ports.chats.clone(),
            messages: ports.messages.clone(),
            contacts: ports.contacts.clone(),
            blobs: ports.blobs.clone(),
            presence: ports.presence.clone(),
            clock: ports.clock.clone(),
            auth,
            message_service,
            region,
        }
    }

    /// The caller as an admin acting, or `admin_only` when they are not one.
    pub async fn admin(&self, caller: Caller) -> DomainResult<Actor> {
        match self.users.get(caller.user_id).await? {
            Some(user) if self.auth.is_admin(&user) => Ok(Actor::Admin(user.id)),
            _ => Err(admins_only()),
        }
    }

    /// The user with this phone number (as people type it, read with the default region).
    pub async fn user_by_phone(&self, raw_phone: &str) -> DomainResult<User> {
        let phone = Phone::parse(raw_phone, self.region)?;
        self.users.get_by_phone(&phone).await?.ok_or_else(user_not_found)
    }

    pub async fn user(&self, id: UserId) -> DomainResult<User> {
        self.users.get(id).await?.ok_or_else(user_not_found)
    }

    /// Users whose name or phone contains `search`, oldest account first.
    pub async fn list_users(&self, search: Option<&str>, limit: i64) -> DomainResult<Vec<UserSummary>> {
        let search = search.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let users = self.store.list_users(search, limit.clamp(1, MAX_LISTED_USERS)).await?;
        Ok(users.into_iter().map(UserSummary::from).collect())
    }

    /// Disables the account: it can no longer log in, and every session ends at
    /// once (on every instance). Returns the user and how many sessions ended.
    pub async fn disable(&self, actor: Actor, id: UserId) -> DomainResult<(User, usize)> {
        let now = self.clock.now();
        let user = self.store.set_disabled(id, Some(now)).await?.ok_or_else(user_not_found)?;
        let ended = self.end_sessions(id).await?;
        self.audit_write(AuditEntry::new(
            actor,
            "user_disabled",
            id,
            format!("{}; {ended} sessions ended", user.phone.as_str()),
            now,
        ))
        .await?;
        Ok((user, ended))
    }

    /// Lets a disabled account log in again.
    pub async fn enable(&self, actor: Actor, id: UserId) -> DomainResult<User> {
        let now = self.clock.now();
        let user = self.store.set_disabled(id, None).await?.ok_or_else(user_not_found)?;
        self.audit_write(AuditEntry::new(actor, "user_enabled", id, user.phone.as_str(), now)).await?;
        Ok(user)
    }

    /// Deletes the account: disabled for good, every session ended, the profile
    /// shown as "Deleted account", the phone number freed (logging in with it
    /// makes a new account), contacts removed both ways. Its memberships and
    /// messages stay, so the chats others have with it stay whole.
    pub async fn delete(&self, actor: Actor, id: UserId) -> DomainResult<User> {
        let now = self.clock.now();
        let before = self.user(id).await?;
        let placeholder = format!("deleted:{id}");
        let user = self
            .store
            .erase_user(id, DELETED_ACCOUNT_NAME.to_owned(), placeholder, now)
            .await?
            .ok_or_else(user_not_found)?;
        let ended = self.end_sessions(id).await?;
        let details = format!("{}; {ended} sessions ended", before.phone.as_str());
        self.audit_write(AuditEntry::new(actor, "user_deleted", id, details, now)).await?;
        Ok(user)
    }

    /// The user's logged-in devices, newest first.
    pub async fn sessions(&self, id: UserId) -> DomainResult<Vec<Session>> {
        self.sessions.list_active(id, self.clock.now()).await
    }

    /// Logs one device out, whoever's it is; returns its owner.
    pub async fn revoke_session(&self, actor: Actor, id: SessionId) -> DomainResult<UserId> {
        let now = self.clock.now();
        let session = match self.sessions.get(id).await? {
            Some(session) if session.is_active(now) => session,
            _ => return Err(DomainError::not_found(ErrorCode::SessionNotFound, "no such active session")),
        };
        self.auth.end_session_of(session.user_id, id).await?;
        self.audit_write(AuditEntry::new(actor, "session_revoked", id, format!("user {}", session.user_id), now))
            .await?;
        Ok(session.user_id)
    }

    /// Logs every device of the user out; returns how many.
    pub async fn revoke_all(&self, actor: Actor, id: UserId) -> DomainResult<usize> {
        let user = self.user(id).await?;
        let ended = self.end_sessions(id).await?;
        let now = self.clock.now();
        self.audit_write(AuditEntry::new(
            actor,
            "sessions_revoked",
            id,
            format!("{}; {ended} sessions", user.phone.as_str()),
            now,
        ))
        .await?;
        Ok(ended)
    }

    async fn end_sessions(&self, id: UserId) -> DomainResult<usize> {
        let sessions = self.sessions.list_active(id, self.clock.now()).await?;
        for session in &sessions {
            self.auth.end_session_of(id, session.id).await?;
        }
        Ok(sessions.len())
    }

    /// Users, messages a day over the last week, connected devices and storage used.
    pub async fn figures(&self) -> DomainResult<ServerFigures> {
        let now = self.clock.now();
        let days = last_days(now.date_naive(), FIGURE_DAYS);
        let ranges = days
            .iter()
            .filter_map(|day| {
                let start = day.and_hms_opt(0, 0, 0)?.and_utc();
                Some((start, start + chrono::Duration::days(1)))
            })
            .collect();
        let stored = self.store.figures(ranges).await?;
        let active = self.store.active_session_ids(now).await?;
        let connected = if active.is_empty() { 0 } else { self.presence.connected_sessions(&active).await?.len() };
        Ok(ServerFigures {
            users: stored.users,
            disabled_users: stored.disabled_users,
            messages_per_day: days
                .into_iter()
                .zip(stored.messages_per_day.iter().copied().chain(std::iter::repeat(0)))
                .map(|(day, messages)| DayCount { day, messages })
                .collect(),
            connected_devices: i64::try_from(connected).unwrap_or(i64::MAX),
            attachments: stored.attachments,
            attachment_bytes: stored.attachment_bytes,
        })
    }

    /// The audit log, newest first: entries with an id below `before` when given.
    pub async fn audit(&self, before: Option<i64>, limit: i64) -> DomainResult<Vec<AuditEntry>> {
        self.store.audit(before, limit.clamp(1, MAX_AUDIT_PAGE)).await
    }

    /// Records an action; an action that happened and could not be recorded is
    /// reported as failed, so the operator knows the log is missing it.
    pub(super) async fn audit_write(&self, entry: AuditEntry) -> DomainResult<()> {
        tracing::info!(actor = %entry.actor, action = %entry.action, target = %entry.target, "admin action");
        self.store.append_audit(&entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Delivery;
    use crate::services::test_support::{caller, ports, user, MockSet};
    use crate::services::{AuthPolicy, AuthService, MessageService};
    use chrono::Utc;

    fn service_with(m: MockSet, admins: Vec<Phone>) -> ModerationService {
        let ports = ports(m);
        let auth = Arc::new(AuthService::new(&ports, AuthPolicy { admin_phones: admins, ..AuthPolicy::default() }));
        let messages = Arc::new(MessageService::new(&ports, crate::message::MessagePolicy::default()));
        ModerationService::new(&ports, Region::default(), auth, messages)
    }

    fn session(user_id: UserId) -> Session {
        let now = Utc::now();
        Session {
            id: SessionId::new(),
            user_id,
            device: "d".into(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            revoked_at: None,
        }
    }

    #[tokio::test]
    async fn disabling_ends_every_session_on_every_device_and_is_audited() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let id = UserId::new();
        let (one, two) = (session(id), session(id));
        let ids = [one.id, two.id];
        m.moderation
            .expect_set_disabled()
            .withf(move |u, at| *u == id && *at == Some(now))
            .times(1)
            .returning(move |u, _| Ok(Some(user(u, "Asha"))));
        m.sessions.expect_list_active().returning(move |_, _| Ok(vec![one.clone(), two.clone()]));
        m.sessions.expect_revoke().times(2).returning(|_, _| Ok(()));
        m.bus
            .expect_publish()
            .withf(move |to, d| {
                to == [id].as_slice()
                    && matches!(d, Delivery::SessionRevoked { session_id } if ids.contains(session_id))
            })
            .times(2)
            .returning(|_, _| Ok(()));
        m.moderation
            .expect_append_audit()
            .withf(move |e| e.actor == "cli" && e.action == "user_disabled" && e.target == id.to_string())
            .times(1)
            .returning(|_| Ok(()));
        let (_, ended) = service_with(m, Vec::new()).disable(Actor::Cli, id).await.unwrap();
        assert_eq!(ended, 2);
    }

    #[tokio::test]
    async fn disabling_an_unknown_user_is_not_found_and_not_audited() {
        let mut m = MockSet::new(Utc::now());
        m.moderation.expect_set_disabled().returning(|_, _| Ok(None));
        m.moderation.expect_append_audit().never();
        let err = service_with(m, Vec::new()).disable(Actor::Cli, UserId::new()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UserNotFound);
    }

    #[tokio::test]
    async fn deleting_anonymises_frees_the_phone_and_ends_sessions() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let id = UserId::new();
        m.users.expect_get().returning(move |u| Ok(Some(user(u, "Asha"))));
        m.moderation
            .expect_erase_user()
            .withf(move |u, name, phone, _| *u == id && name == "Deleted account" && phone == &format!("deleted:{id}"))
            .times(1)
            .returning(move |u, _, _, _| Ok(Some(user(u, "Deleted account"))));
        let s = session(id);
        m.sessions.expect_list_active().returning(move |_, _| Ok(vec![s.clone()]));
        m.sessions.expect_revoke().times(1).returning(|_, _| Ok(()));
        m.bus.expect_publish().times(1).returning(|_, _| Ok(()));
        m.moderation.expect_append_audit().withf(|e| e.action == "user_deleted").times(1).returning(|_| Ok(()));
        let deleted = service_with(m, Vec::new()).delete(Actor::Cli, id).await.unwrap();
        assert_eq!(deleted.name, "Deleted account");
    }

    #[tokio::test]
    async fn only_the_configured_phones_are_admins() {
        let admin_phone = Phone::parse("+919876543210", Region::default()).unwrap();
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(move |u| Ok(Some(user(u, "Asha"))));
        // test_support's users all have +919876543210.
        let service = service_with(m, vec![admin_phone]);
        assert_eq!(service.admin(me).await.unwrap(), Actor::Admin(me.user_id));
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(move |u| Ok(Some(user(u, "Asha"))));
        let other = Phone::parse("+919876543299", Region::default()).unwrap();
        let err = service_with(m, vec![other]).admin(me).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AdminOnly);
        assert_eq!(err.kind().http_status(), 403);
    }

    #[tokio::test]
    async fn revoking_someone_elses_ended_session_is_not_found() {
        let mut m = MockSet::new(Utc::now());
        let mut ended = session(UserId::new());
        ended.revoked_at = Some(Utc::now());
        m.sessions.expect_get().returning(move |_| Ok(Some(ended.clone())));
        m.sessions.expect_revoke().never();
        m.moderation.expect_append_audit().never();
        let err = service_with(m, Vec::new()).revoke_session(Actor::Cli, SessionId::new()).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::SessionNotFound);
    }

    #[tokio::test]
    async fn figures_count_connected_devices_and_seven_days() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        m.moderation.expect_figures().withf(|days| days.len() == 7).returning(|_| {
            Ok(crate::moderation::StoredFigures {
                users: 3,
                disabled_users: 1,
                messages_per_day: vec![0, 0, 0, 0, 0, 2, 5],
                attachment_bytes: 10,
                attachments: 1,
            })
        });
        let (a, b) = (SessionId::new(), SessionId::new());
        m.moderation.expect_active_session_ids().returning(move |_| Ok(vec![a, b]));
        m.presence.expect_connected_sessions().returning(move |_| Ok(vec![a]));
        let figures = service_with(m, Vec::new()).figures().await.unwrap();
        assert_eq!(figures.connected_devices, 1);
        assert_eq!(figures.messages_per_day.len(), 7);
        assert_eq!(figures.messages_per_day[6].day, now.date_naive());
        assert_eq!(figures.messages_per_day[6].messages, 5);
        assert_eq!(figures.users, 3);
    }
}
