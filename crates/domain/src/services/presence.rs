use super::chats::require_member;
use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::event::Delivery;
use crate::ids::{ChatId, UserId};
use crate::ports::{ChatRepo, ContactRepo, EventBus, PresenceTracker, UserRepo};
use crate::user::LastSeenVisibility;
use chrono::SubsecRound;
use std::sync::Arc;

/// Who is online and who is typing: live only, never stored (except `last_seen`).
pub struct PresenceService {
    chats: Arc<dyn ChatRepo>,
    users: Arc<dyn UserRepo>,
    contacts: Arc<dyn ContactRepo>,
    bus: Arc<dyn EventBus>,
    tracker: Arc<dyn PresenceTracker>,
    clock: Arc<dyn Clock>,
}

impl PresenceService {
    pub fn new(ports: &Ports) -> Self {
        Self {
            chats: ports.chats.clone(),
            users: ports.users.clone(),
            contacts: ports.contacts.clone(),
            bus: ports.bus.clone(),
            tracker: ports.presence.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Tells the chat's other members that the caller is (or stopped) typing.
    /// Never echoed to the typer, not even to their other devices.
    pub async fn typing(&self, caller: Caller, chat: ChatId, typing: bool) -> DomainResult<()> {
        require_member(self.chats.as_ref(), chat, caller.user_id).await?;
        let others: Vec<UserId> =
            self.chats.members(chat).await?.into_iter().map(|m| m.user_id).filter(|u| *u != caller.user_id).collect();
        self.bus.publish(&others, Delivery::typing(chat, caller.user_id, typing)).await
    }

    /// A device connected; when it is the user's first, the people who share a
    /// chat with them see them come online.
    pub async fn device_connected(&self, caller: Caller) -> DomainResult<()> {
        if self.tracker.connected(caller.user_id).await? {
            self.announce(caller.user_id, true, None).await?;
        }
        Ok(())
    }

    /// Who of the people sharing a chat with the caller is online right now, as
    /// `presence` frames for a device that just connected (it hears of changes later).
    pub async fn online_now(&self, caller: Caller) -> DomainResult<Vec<Delivery>> {
        let people = self.chats.co_members(caller.user_id).await?;
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let online = self.tracker.online(&people).await?;
        Ok(online.into_iter().map(|user| Delivery::presence(user, true, None)).collect())
    }

    /// A device left (the gateway calls this after a short grace period, so that a
    /// page reload does not flap); when it was the last one, the user goes offline
    /// and `last_seen` is recorded.
    pub async fn device_disconnected(&self, caller: Caller) -> DomainResult<()> {
        if self.tracker.disconnected(caller.user_id).await? {
            // Microseconds: the precision every store keeps, so the frame and later reads agree.
            let now = self.clock.now().trunc_subsecs(6);
            self.users.touch_last_seen(caller.user_id, now).await?;
            self.announce(caller.user_id, false, Some(now)).await?;
        }
        Ok(())
    }

    /// Announces as offline the users whose devices were on an instance that died.
    pub async fn expire_dead_instances(&self) -> DomainResult<usize> {
        let gone = self.tracker.expire_dead_instances().await?;
        let now = self.clock.now().trunc_subsecs(6);
        for user in &gone {
            self.users.touch_last_seen(*user, now).await?;
            self.announce(*user, false, Some(now)).await?;
        }
        Ok(gone.len())
    }

    /// Which of `users` are online now.
    pub async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        self.tracker.online(users).await
    }

    /// Tells the people who share a chat with `user` or saved them as a contact;
    /// `last_seen` goes only to those the user's privacy setting allows.
    async fn announce(
        &self,
        user: UserId,
        online: bool,
        last_seen: Option<chrono::DateTime<chrono::Utc>>,
    ) -> DomainResult<()> {
        let mut audience = self.chats.co_members(user).await?;
        audience.extend(self.contacts.saved_by(user).await?);
        audience.sort();
        audience.dedup();
        audience.retain(|u| *u != user);
        if audience.is_empty() {
            return Ok(());
        }
        let visibility = match last_seen {
            Some(_) => self.users.get(user).await?.map(|u| u.last_seen_visibility).unwrap_or_default(),
            None => LastSeenVisibility::Everyone,
        };
        let (shown, hidden): (Vec<UserId>, Vec<UserId>) = match visibility {
            LastSeenVisibility::Everyone => (audience, Vec::new()),
            LastSeenVisibility::Nobody => (Vec::new(), audience),
            LastSeenVisibility::Contacts => {
                let saved: std::collections::HashSet<UserId> =
                    self.contacts.contacts(user).await?.into_iter().map(|entry| entry.contact).collect();
                audience.into_iter().partition(|u| saved.contains(u))
            }
        };
        if !shown.is_empty() {
            self.bus.publish(&shown, Delivery::presence(user, online, last_seen)).await?;
        }
        if !hidden.is_empty() {
            self.bus.publish(&hidden, Delivery::presence(user, online, None)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::contact::ContactEntry;
    use crate::services::test_support::{caller, member, ports, user, MockSet};
    use chrono::Utc;

    fn frame(delivery: &Delivery) -> serde_json::Value {
        match delivery {
            Delivery::Ephemeral(e) => serde_json::from_str(&e.frame).unwrap(),
            other => panic!("expected an ephemeral frame, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn typing_reaches_the_other_members_only() {
        let me = caller();
        let other = UserId::new();
        let chat = ChatId::new();
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
        m.chats.expect_members().returning(move |c| Ok(vec![member(c, me.user_id), member(c, other)]));
        m.bus
            .expect_publish()
            .withf(move |to, d| {
                let f = frame(d);
                to == [other].as_slice() && f["type"] == "typing" && f["payload"]["typing"] == true
            })
            .times(1)
            .returning(|_, _| Ok(()));
        PresenceService::new(&ports(m)).typing(me, chat, true).await.unwrap();
    }

    #[tokio::test]
    async fn an_outsider_cannot_send_typing() {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_member().returning(|_, _| Ok(None));
        m.bus.expect_publish().never();
        let err = PresenceService::new(&ports(m)).typing(caller(), ChatId::new(), true).await.unwrap_err();
        assert_eq!(err.code(), "chat_not_found");
    }

    #[tokio::test]
    async fn a_new_device_hears_who_is_online_among_the_people_it_shares_chats_with() {
        let me = caller();
        let (friend, away) = (UserId::new(), UserId::new());
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_co_members().returning(move |_| Ok(vec![friend, away]));
        m.presence
            .expect_online()
            .withf(move |users| users == [friend, away].as_slice())
            .returning(move |_| Ok(vec![friend]));
        let frames = PresenceService::new(&ports(m)).online_now(me).await.unwrap();
        assert_eq!(frames.len(), 1);
        let f = frame(&frames[0]);
        assert_eq!(
            (f["payload"]["user_id"].as_str(), f["payload"]["online"].as_bool()),
            (Some(friend.to_string().as_str()), Some(true))
        );
    }

    #[tokio::test]
    async fn only_the_first_device_announces_online() {
        let me = caller();
        let friend = UserId::new();
        let mut m = MockSet::new(Utc::now());
        let mut first = true;
        m.presence.expect_connected().times(2).returning(move |_| Ok(std::mem::replace(&mut first, false)));
        m.chats.expect_co_members().returning(move |_| Ok(vec![friend]));
        m.bus
            .expect_publish()
            .withf(move |to, d| to == [friend].as_slice() && frame(d)["payload"]["online"] == true)
            .times(1)
            .returning(|_, _| Ok(()));
        let service = PresenceService::new(&ports(m));
        service.device_connected(me).await.unwrap();
        service.device_connected(me).await.unwrap();
    }

    #[tokio::test]
    async fn the_last_device_leaving_records_last_seen_and_announces_offline() {
        let now = Utc::now();
        let me = caller();
        let friend = UserId::new();
        let mut m = MockSet::new(now);
        m.presence.expect_disconnected().returning(|_| Ok(true));
        m.users
            .expect_touch_last_seen()
            .withf(move |u, at| *u == me.user_id && *at == now.trunc_subsecs(6))
            .times(1)
            .returning(|_, _| Ok(()));
        m.chats.expect_co_members().returning(move |_| Ok(vec![friend]));
        m.users.expect_get().returning(move |id| Ok(Some(user(id, "Asha"))));
        m.bus
            .expect_publish()
            .withf(|_, d| frame(d)["payload"]["online"] == false && frame(d)["payload"]["last_seen"].is_string())
            .times(1)
            .returning(|_, _| Ok(()));
        PresenceService::new(&ports(m)).device_disconnected(me).await.unwrap();
    }

    /// Who got an offline announcement, split by whether it carried `last_seen`.
    async fn offline_announcement(visibility: LastSeenVisibility) -> (Vec<UserId>, Vec<UserId>, UserId, UserId) {
        let me = caller();
        let (saved_friend, group_mate) = (UserId::new(), UserId::new());
        let mut m = MockSet::new(Utc::now());
        m.presence.expect_disconnected().returning(|_| Ok(true));
        m.users.expect_touch_last_seen().returning(|_, _| Ok(()));
        m.users.expect_get().returning(move |id| {
            let mut u = user(id, "Asha");
            u.last_seen_visibility = visibility;
            Ok(Some(u))
        });
        m.chats.expect_co_members().returning(move |_| Ok(vec![saved_friend, group_mate]));
        m.contacts.expect_contacts().returning(move |owner| {
            Ok(vec![ContactEntry { owner, contact: saved_friend, alias: None, added_at: Utc::now() }])
        });
        let sent = Arc::new(std::sync::Mutex::new((Vec::new(), Vec::new())));
        let record = sent.clone();
        m.bus.expect_publish().returning(move |to, d| {
            let mut sent = record.lock().unwrap();
            if frame(&d)["payload"]["last_seen"].is_string() {
                sent.0.extend_from_slice(to);
            } else {
                sent.1.extend_from_slice(to);
            }
            Ok(())
        });
        PresenceService::new(&ports(m)).device_disconnected(me).await.unwrap();
        let (shown, hidden) = sent.lock().unwrap().clone();
        (shown, hidden, saved_friend, group_mate)
    }

    #[tokio::test]
    async fn last_seen_goes_only_where_the_privacy_setting_allows() {
        let (shown, hidden, saved, mate) = offline_announcement(LastSeenVisibility::Contacts).await;
        assert_eq!((shown, hidden), (vec![saved], vec![mate]), "contacts only: the saved friend alone sees the time");
        let (shown, mut hidden, saved, mate) = offline_announcement(LastSeenVisibility::Nobody).await;
        hidden.sort();
        let mut both = vec![saved, mate];
        both.sort();
        assert_eq!((shown, hidden), (vec![], both), "nobody: everyone hears offline, nobody the time");
        let (mut shown, hidden, saved, mate) = offline_announcement(LastSeenVisibility::Everyone).await;
        shown.sort();
        let mut both = vec![saved, mate];
        both.sort();
        assert_eq!((shown, hidden), (both, vec![]));
    }

    #[tokio::test]
    async fn people_who_saved_the_user_hear_of_them_too() {
        let me = caller();
        let admirer = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.presence.expect_connected().returning(|_| Ok(true));
        m.chats.expect_co_members().returning(|_| Ok(Vec::new()));
        let mut contacts = crate::ports::MockContactRepo::new();
        contacts.expect_saved_by().returning(move |_| Ok(vec![admirer]));
        m.contacts = contacts;
        m.bus.expect_publish().withf(move |to, _| to == [admirer]).times(1).returning(|_, _| Ok(()));
        PresenceService::new(&ports(m)).device_connected(me).await.unwrap();
    }
}
