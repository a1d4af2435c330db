//! Web Push: devices subscribe, chat events become pushes in the outbox, and the
//! outbox is sent to the push services.

use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::error_code::ErrorCode;
use crate::ids::UserId;
use crate::ports::{ChatRepo, ChatSettingsRepo, PresenceTracker, PushGateway, PushJob, PushRepo, UserRepo};
use crate::push::{self, ClaimedPush, DropReason, NextStep, PlanFacts, PushSubscription, SubscriptionRequest};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How long a claimed push is held by the instance sending it.
const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// Push settings of the server.
#[derive(Debug, Clone, Default)]
pub struct PushPolicy {
    /// The VAPID public key (base64url); None when push is off.
    pub public_key: Option<String>,
    /// Accept `http://` endpoints (development, where test push services run).
    pub plain_http_endpoints: bool,
}

/// What one round of sending did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Taken by the push service.
    pub sent: u64,
    /// Failed this time; kept for a retry.
    pub failed: u64,
    /// Given up: expired, refused, failed too often, or their subscription was gone.
    pub dropped: u64,
    /// Claimed from the outbox in this round.
    pub claimed: u64,
}

pub struct PushService {
    repo: Arc<dyn PushRepo>,
    users: Arc<dyn UserRepo>,
    chats: Arc<dyn ChatRepo>,
    chat_settings: Arc<dyn ChatSettingsRepo>,
    presence: Arc<dyn PresenceTracker>,
    clock: Arc<dyn Clock>,
    policy: PushPolicy,
}

impl PushService {
    pub fn new(ports: &Ports, policy: PushPolicy) -> Self {
        Self {
            repo: ports.push.clone(),
            users: ports.users.clone(),
            chats: ports.chats.clone(),
            chat_settings: ports.chat_settings.clone(),
            presence: ports.presence.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    /// The server's VAPID public key, for `pushManager.subscribe`.
    pub fn public_key(&self) -> DomainResult<&str> {
        self.policy.public_key.as_deref().ok_or_else(disabled)
    }

    /// Ties a browser's subscription to the caller's device session.
    pub async fn subscribe(&self, caller: Caller, request: SubscriptionRequest) -> DomainResult<PushSubscription> {
        self.public_key()?;
        let subscription = request.into_subscription(caller, self.policy.plain_http_endpoints)?;
        self.repo.put_subscription(&subscription, self.clock.now()).await?;
        Ok(subscription)
    }

    /// Removes the caller's device's subscription with `endpoint`, or all of the
    /// device's. Removing one that is not there is not an error.
    pub async fn unsubscribe(&self, caller: Caller, endpoint: Option<String>) -> DomainResult<()> {
        self.public_key()?;
        self.repo.delete_subscriptions(caller.session_id, endpoint).await.map(drop)
    }

    /// Puts the pushes of `jobs` into the outbox: for each subscribed device of
    /// an event's audience that did not mute the chat and has no open WebSocket.
    /// One look-up of subscriptions serves every event of `jobs`: most events have
    /// no subscribed device in their audience, and then cost nothing more.
    pub async fn notify(&self, jobs: &[PushJob]) -> DomainResult<usize> {
        let now = self.clock.now();
        let audience = unique(jobs.iter().flat_map(|job| job.audience.iter().copied()));
        let subscriptions = self.repo.subscriptions_of(&audience, now).await?;
        let mut planned = 0;
        for job in jobs {
            let theirs: Vec<PushSubscription> =
                subscriptions.iter().filter(|s| job.audience.contains(&s.user_id)).cloned().collect();
            if !theirs.is_empty() {
                planned += self.notify_one(job, theirs, now).await?;
            }
        }
        Ok(planned)
    }

    /// The pushes of one event whose audience has `subscriptions`.
    async fn notify_one(
        &self,
        job: &PushJob,
        subscriptions: Vec<PushSubscription>,
        now: DateTime<Utc>,
    ) -> DomainResult<usize> {
        let chat_id = job.event.room_id;
        let subscribed: Vec<UserId> = unique(subscriptions.iter().map(|s| s.user_id));
        let mut muted = Vec::new();
        for user in &subscribed {
            let settings = self.chat_settings.settings(*user, &[chat_id]).await?;
            if settings.iter().any(|(_, s)| s.is_muted(now)) {
                muted.push(*user);
            }
        }
        let sessions: Vec<_> = subscriptions.iter().map(|s| s.session_id).collect();
        let connected = self.presence.connected_sessions(&sessions).await?;
        let Some(chat) = self.chats.get(chat_id).await? else { return Ok(0) };
        let mut people = subscribed.clone();
        people.push(job.event.actor);
        let users = self.users.get_many(&people).await?;
        let entries = push::plan(&PlanFacts {
            event: &job.event,
            kind: job.kind,
            audience: &job.audience,
            chat: &chat,
            users: &users,
            muted: &muted,
            subscriptions: &subscriptions,
            connected: &connected,
            now,
        });
        if !entries.is_empty() {
            self.repo.enqueue(&entries).await?;
        }
        Ok(entries.len())
    }

    /// Sends up to `limit` due pushes of the outbox, and keeps, retries or drops
    /// each by the push service's answer.
    pub async fn deliver_due(&self, gateway: &dyn PushGateway, limit: i64) -> DomainResult<DeliveryRound> {
        let now = self.clock.now();
        let claimed = self.repo.claim_due(now, CLAIM_LEASE, limit).await?;
        let mut round = DeliveryRound { claimed: claimed.len() as u64, ..DeliveryRound::default() };
        let sends = claimed.into_iter().map(|push| self.deliver_one(gateway, push));
        for step in futures_util::future::join_all(sends).await {
            match step? {
                NextStep::Sent => round.sent += 1,
                NextStep::Retry { .. } => round.failed += 1,
                NextStep::Drop { .. } | NextStep::DeleteSubscription => round.dropped += 1,
            }
        }
        Ok(round)
    }

    async fn deliver_one(&self, gateway: &dyn PushGateway, push: ClaimedPush) -> DomainResult<NextStep> {
        let now = self.clock.now();
        let step = if push.expired(now) {
            NextStep::Drop { reason: DropReason::Expired }
        } else {
            let answer = gateway.send(&push, push.ttl_left(now)).await;
            push::next_step(&push, answer, self.clock.now())
        };
        match step {
            NextStep::Sent => self.repo.complete(push.id).await?,
            NextStep::DeleteSubscription => self.repo.delete_endpoint(&push.subscription.endpoint).await?,
            NextStep::Retry { at } => self.repo.retry_at(push.id, at, push.attempts + 1).await?,
            NextStep::Drop { reason } => {
                tracing::info!(push_id = push.id, reason = reason.as_str(), "push dropped");
                self.repo.complete(push.id).await?;
            }
        }
        Ok(step)
    }
}

fn disabled() -> DomainError {
    DomainError::not_found(ErrorCode::PushDisabled, "push notifications are off on this server")
}

/// Each user once, in the order first met. Linear: a batch's audiences together
/// can hold thousands of users (one group of 1,000 per event).
fn unique(users: impl Iterator<Item = UserId>) -> Vec<UserId> {
    let mut seen = std::collections::HashSet::new();
    users.filter(|user| seen.insert(*user)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ChatKind, ChatSettings};
    use crate::event::{ChatEvent, EventKind};
    use crate::ids::{ChatId, SessionId};
    use crate::ports::MockPushGateway;
    use crate::push::{PushAnswer, PushKind, PushMessage, Urgency};
    use crate::services::test_support::{chat, ports, text_message, user, MockSet};
    use chrono::Utc;

    struct People {
        asha: UserId,
        ravi: UserId,
        chat: ChatId,
    }

    fn people() -> People {
        People { asha: UserId::new(), ravi: UserId::new(), chat: ChatId::new() }
    }

    fn subscription(user: UserId, endpoint: &str) -> PushSubscription {
        PushSubscription {
            endpoint: endpoint.into(),
            p256dh: String::new(),
            auth: String::new(),
            user_id: user,
            session_id: SessionId::new(),
        }
    }

    fn message_job(p: &People) -> PushJob {
        let message = text_message(p.chat, p.asha, 7);
        PushJob {
            kind: PushKind::Message,
            audience: vec![p.ravi],
            event: ChatEvent { room_id: p.chat, event_seq: 9, actor: p.asha, kind: EventKind::Message(message) },
        }
    }

    /// Mocks for `notify`: Ravi has `subscriptions`, `connected` of them have a socket.
    fn notify_mocks(p: &People, subscriptions: Vec<PushSubscription>, connected: Vec<SessionId>) -> MockSet {
        let mut m = MockSet::new(Utc::now());
        m.push.expect_subscriptions_of().returning(move |_, _| Ok(subscriptions.clone()));
        m.presence.expect_connected_sessions().returning(move |_| Ok(connected.clone()));
        let chat_id = p.chat;
        m.chats.expect_get().returning(move |_| Ok(Some(chat(chat_id, ChatKind::Direct))));
        let (asha, ravi) = (p.asha, p.ravi);
        m.users.expect_get_many().returning(move |_| Ok(vec![user(asha, "Asha"), user(ravi, "Ravi")]));
        m
    }

    fn service(m: MockSet) -> PushService {
        PushService::new(&ports(m), PushPolicy { public_key: Some("key".into()), plain_http_endpoints: false })
    }

    #[tokio::test]
    async fn only_devices_without_a_socket_get_a_push_that_names_the_chat_and_sender() {
        let p = people();
        let (phone, laptop) =
            (subscription(p.ravi, "https://push.example/phone"), subscription(p.ravi, "https://push.example/laptop"));
        let mut m = notify_mocks(&p, vec![phone, laptop.clone()], vec![laptop.session_id]);
        m.push
            .expect_enqueue()
            .withf(|entries| {
                let [entry] = entries else { return false };
                let push: PushMessage = serde_json::from_str(&entry.payload).unwrap();
                entry.endpoint == "https://push.example/phone"
                    && entry.urgency == Urgency::High
                    && push.sender_name == "Asha"
                    && push.chat_name == "Asha"
                    && push.preview == "m7"
                    && push.seq == 7
            })
            .times(1)
            .returning(|_| Ok(()));
        assert_eq!(service(m).notify(&[message_job(&p)]).await.ok(), Some(1));
    }

    #[tokio::test]
    async fn events_planned_together_share_one_look_up_and_only_subscribers_get_pushes() {
        let p = people();
        let mut m = MockSet::new(Utc::now());
        let phone = subscription(p.ravi, "https://push.example/phone");
        let stranger = UserId::new();
        let (ravi, asked_for) = (p.ravi, vec![p.ravi, stranger]);
        m.push
            .expect_subscriptions_of()
            .withf(move |users, _| users == asked_for.as_slice())
            .times(1)
            .returning(move |_, _| Ok(vec![phone.clone()]));
        m.presence.expect_connected_sessions().returning(|_| Ok(Vec::new()));
        let chat_id = p.chat;
        m.chats.expect_get().times(1).returning(move |_| Ok(Some(chat(chat_id, ChatKind::Direct))));
        let asha = p.asha;
        m.users.expect_get_many().returning(move |_| Ok(vec![user(asha, "Asha"), user(ravi, "Ravi")]));
        m.push.expect_enqueue().withf(|entries| entries.len() == 1).times(1).returning(|_| Ok(()));
        let mut unsubscribed = message_job(&p);
        unsubscribed.audience = vec![stranger];
        assert_eq!(service(m).notify(&[message_job(&p), unsubscribed]).await.ok(), Some(1));
    }

    #[tokio::test]
    async fn a_muted_chat_pushes_nothing() {
        let p = people();
        let mut m = notify_mocks(&p, vec![subscription(p.ravi, "https://push.example/phone")], Vec::new());
        let muted =
            ChatSettings { muted_until: Some(Utc::now() + chrono::Duration::hours(1)), ..ChatSettings::default() };
        let chat_id = p.chat;
        m.chat_settings = crate::ports::MockChatSettingsRepo::new();
        m.chat_settings.expect_settings().returning(move |_, _| Ok(vec![(chat_id, muted)]));
        m.push.expect_enqueue().never();
        assert_eq!(service(m).notify(&[message_job(&p)]).await.ok(), Some(0));
    }

    #[tokio::test]
    async fn without_previews_a_push_says_new_message_only() {
        let p = people();
        let mut m = notify_mocks(&p, vec![subscription(p.ravi, "https://push.example/phone")], Vec::new());
        let (asha, ravi) = (p.asha, p.ravi);
        m.users = crate::ports::MockUserRepo::new();
        m.users.expect_get_many().returning(move |_| {
            let mut ravi = user(ravi, "Ravi");
            ravi.notification_previews = false;
            Ok(vec![user(asha, "Asha"), ravi])
        });
        m.push
            .expect_enqueue()
            .withf(|entries| entries.len() == 1 && entries[0].payload.contains("\"preview\":\"New message\""))
            .returning(|_| Ok(()));
        assert_eq!(service(m).notify(&[message_job(&p)]).await.ok(), Some(1));
    }

    fn claimed(id: i64, endpoint: &str) -> ClaimedPush {
        let now = Utc::now();
        ClaimedPush {
            id,
            subscription: subscription(UserId::new(), endpoint),
            payload: "{}".into(),
            urgency: Urgency::High,
            topic: None,
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            attempts: 0,
        }
    }

    #[tokio::test]
    async fn each_answer_of_the_push_service_decides_what_becomes_of_the_push() {
        let mut m = MockSet::new(Utc::now());
        m.push.expect_claim_due().returning(|_, _, _| {
            Ok(vec![claimed(1, "https://a/taken"), claimed(2, "https://a/gone"), claimed(3, "https://a/busy")])
        });
        m.push.expect_complete().withf(|id| *id == 1).times(1).returning(|_| Ok(()));
        m.push.expect_delete_endpoint().withf(|e| e == "https://a/gone").times(1).returning(|_| Ok(()));
        m.push
            .expect_retry_at()
            .withf(|id, _, attempts| *id == 3 && *attempts == 1)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut gateway = MockPushGateway::new();
        gateway.expect_send().returning(|push, _| match push.id {
            1 => PushAnswer::Accepted,
            2 => PushAnswer::Gone,
            _ => PushAnswer::RetryLater { retry_after: None },
        });
        let round = service(m).deliver_due(&gateway, 32).await.unwrap();
        assert_eq!(round, DeliveryRound { sent: 1, failed: 1, dropped: 1, claimed: 3 });
    }

    #[tokio::test]
    async fn with_push_off_subscribing_says_so() {
        let mut m = MockSet::new(Utc::now());
        m.push.expect_put_subscription().never();
        let service = PushService::new(&ports(m), PushPolicy::default());
        assert_eq!(service.public_key().unwrap_err().code(), ErrorCode::PushDisabled);
        let request: SubscriptionRequest = serde_json::from_value(serde_json::json!({
            "endpoint": "https://push.example/1",
            "keys": {"p256dh": "x", "auth": "y"}
        }))
        .unwrap();
        let error = service.subscribe(crate::services::test_support::caller(), request).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::PushDisabled);
    }
}
