use super::guards::require_member;
use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::event::Delivery;
use crate::ids::{ChatId, UserId};
use crate::ports::{ChatRepo, ContactRepo, EventBus, PresenceTracker, UserRepo};
use crate::user::LastSeenVisibility;
use chrono::SubsecRound;
use std::collections::HashSet;
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

    /// A device connected; when it is the user's first, the people who may see
    /// their presence (`shows_presence`) see them come online.
    pub async fn device_connected(&self, caller: Caller) -> DomainResult<()> {
        if self.tracker.connected(caller.user_id, caller.session_id).await? {
            self.announce(caller.user_id, true, None).await?;
        }
        Ok(())
    }

    /// Who of the people whose presence the caller may see is online right now, as
    /// `presence` frames for a device that just connected (it hears of changes later).
    pub async fn online_now(&self, caller: Caller) -> DomainResult<Vec<Delivery>> {
        let me = caller.user_id;
        let Relations { related, saved_me, .. } = self.related(me).await?;
        if related.is_empty() {
            return Ok(Vec::new());
        }
        let online = self.tracker.online(&related).await?;
        if online.is_empty() {
            return Ok(Vec::new());
        }
        let visible = self
            .users
            .get_many(&online)
            .await?
            .into_iter()
            .filter(|user| shows_presence(user.last_seen_visibility, saved_me.contains(&user.id)))
            .map(|user| Delivery::presence(user.id, true, None))
            .collect();
        Ok(visible)
    }

    /// A device left (the gateway calls this after a short grace period, so that a
    /// page reload does not flap); when it was the last one, the user goes offline
    /// and `last_seen` is recorded.
    pub async fn device_disconnected(&self, caller: Caller) -> DomainResult<()> {
        if self.tracker.disconnected(caller.user_id, caller.session_id).await? {
            // Microseconds: the precision every store keeps, so the frame and later reads agree.
            let now = self.clock.now().trunc_subsecs(6);
            self.users.touch_last_seen(caller.user_id, now).await?;
            self.announce(caller.user_id, false, Some(now)).await?;
        }
        Ok(())
    }

    /// Announces as offline the users whose devices were on an instance that
    /// died, and returns them.
    pub async fn expire_dead_instances(&self) -> DomainResult<Vec<UserId>> {
        let gone = self.tracker.expire_dead_instances().await?;
        let now = self.clock.now().trunc_subsecs(6);
        for user in &gone {
            self.users.touch_last_seen(*user, now).await?;
            self.announce(*user, false, Some(now)).await?;
        }
        Ok(gone)
    }

    /// Which of `users` are online now.
    pub async fn online(&self, users: &[UserId]) -> DomainResult<Vec<UserId>> {
        self.tracker.online(users).await
    }

    /// Who `user` is related to for presence, read once.
    async fn related(&self, user: UserId) -> DomainResult<Relations> {
        let (mut related, saved_me, mine) = futures_util::future::try_join3(
            self.chats.correspondents(user),
            self.contacts.saved_by(user),
            self.contacts.contacts(user),
        )
        .await?;
        let saved_me: HashSet<UserId> = saved_me.into_iter().collect();
        let mine: HashSet<UserId> = mine.into_iter().map(|entry| entry.contact).collect();
        related.extend(mine.iter().copied().filter(|c| saved_me.contains(c)));
        related.sort();
        related.dedup();
        related.retain(|u| *u != user);
        Ok(Relations { related, saved_me, mine })
    }

    /// The caller changed their `last_seen` setting from `before`. While they are
    /// online, the people who saw them and no longer may are told they went offline
    /// (without a time), and those who now may are told they are online: nobody
    /// keeps seeing them online against the new setting.
    pub async fn last_seen_setting_changed(&self, caller: Caller, before: LastSeenVisibility) -> DomainResult<()> {
        let user = caller.user_id;
        let after = self.users.get(user).await?.map(|u| u.last_seen_visibility).unwrap_or_default();
        if after == before || self.tracker.online(&[user]).await?.is_empty() {
            return Ok(());
        }
        let Relations { related, mine: saved, .. } = self.related(user).await?;
        let (mut lost, mut gained) = (Vec::new(), Vec::new());
        for viewer in related {
            let saved = saved.contains(&viewer);
            match (shows_presence(before, saved), shows_presence(after, saved)) {
                (true, false) => lost.push(viewer),
                (false, true) => gained.push(viewer),
                _ => {}
            }
        }
        if !lost.is_empty() {
            self.bus.publish(&lost, Delivery::presence(user, false, None)).await?;
        }
        if !gained.is_empty() {
            self.bus.publish(&gained, Delivery::presence(user, true, None)).await?;
        }
        Ok(())
    }

    /// Tells the people who may see `user`'s presence (`shows_presence`) that they
    /// came online or went offline, with the time.
    async fn announce(
        &self,
        user: UserId,
        online: bool,
        last_seen: Option<chrono::DateTime<chrono::Utc>>,
    ) -> DomainResult<()> {
        let visibility = self.users.get(user).await?.map(|u| u.last_seen_visibility).unwrap_or_default();
        if visibility == LastSeenVisibility::Nobody {
            return Ok(());
        }
        let Relations { related, mine: saved, .. } = self.related(user).await?;
        let audience: Vec<UserId> =
            related.into_iter().filter(|viewer| shows_presence(visibility, saved.contains(viewer))).collect();
        if audience.is_empty() {
            return Ok(());
        }
        self.bus.publish(&audience, Delivery::presence(user, online, last_seen)).await
    }
}

/// The people a user is related to for presence (those they exchanged messages
/// with, and their mutual contacts), who saved the user as a contact, and whom the
/// user saved. Both relations are symmetric: the user is related to each of them.
struct Relations {
    related: Vec<UserId>,
    saved_me: HashSet<UserId>,
    mine: HashSet<UserId>,
}

/// The presence rule. `viewer` sees `user` come online and go offline (and,
/// going offline, when) only when the two are related (`PresenceService::related`:
/// they exchanged messages, each having written in a chat both are members of,
/// or they saved each other as contacts) and `user`'s `last_seen` setting lets
/// them: `everyone` (of those related), `contacts` (only the people `user`
/// saved), `nobody`. Saving someone as a contact, or opening a chat with them,
/// alone shows nothing.
pub fn shows_presence(visibility: LastSeenVisibility, user_saved_viewer: bool) -> bool {
    match visibility {
        LastSeenVisibility::Everyone => true,
        LastSeenVisibility::Contacts => user_saved_viewer,
        LastSeenVisibility::Nobody => false,
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

    fn entry(owner: UserId, contact: UserId) -> ContactEntry {
        ContactEntry { owner, contact, alias: None, added_at: Utc::now() }
    }

    fn with_visibility(id: UserId, visibility: LastSeenVisibility) -> crate::user::User {
        let mut u = user(id, "Someone");
        u.last_seen_visibility = visibility;
        u
    }

    /// Mocks where `me` exchanged messages with `correspondents`, saved `mine` and
    /// was saved by `savers`; every user has the `visibility` setting.
    fn related_mocks(
        me: UserId,
        correspondents: Vec<UserId>,
        mine: Vec<UserId>,
        savers: Vec<UserId>,
        visibility: LastSeenVisibility,
    ) -> MockSet {
        let mut m = MockSet::new(Utc::now());
        m.chats.expect_correspondents().withf(move |u| *u == me).returning(move |_| Ok(correspondents.clone()));
        let mut contacts = crate::ports::MockContactRepo::new();
        contacts.expect_saved_by().withf(move |u| *u == me).returning(move |_| Ok(savers.clone()));
        contacts
            .expect_contacts()
            .withf(move |u| *u == me)
            .returning(move |owner| Ok(mine.iter().map(|c| entry(owner, *c)).collect()));
        m.contacts = contacts;
        m.users.expect_get().returning(move |id| Ok(Some(with_visibility(id, visibility))));
        m.users
            .expect_get_many()
            .returning(move |ids| Ok(ids.iter().map(|id| with_visibility(*id, visibility)).collect()));
        m
    }

    /// Who heard of `me` coming online, with the relations and setting given.
    async fn announced_to(
        correspondents: &[UserId],
        mine: &[UserId],
        savers: &[UserId],
        visibility: LastSeenVisibility,
    ) -> Vec<UserId> {
        let me = caller();
        let mut m = related_mocks(me.user_id, correspondents.to_vec(), mine.to_vec(), savers.to_vec(), visibility);
        m.presence.expect_connected().returning(|_, _| Ok(true));
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = heard.clone();
        m.bus.expect_publish().returning(move |to, d| {
            assert_eq!(frame(&d)["payload"]["online"], true);
            record.lock().unwrap().extend_from_slice(to);
            Ok(())
        });
        PresenceService::new(&ports(m)).device_connected(me).await.unwrap();
        let mut heard = heard.lock().unwrap().clone();
        heard.sort();
        heard
    }

    fn sorted(mut users: Vec<UserId>) -> Vec<UserId> {
        users.sort();
        users
    }

    #[tokio::test]
    async fn someone_who_only_saved_the_user_hears_nothing_a_mutual_contact_or_correspondent_does() {
        let (stalker, mutual, pen_pal) = (UserId::new(), UserId::new(), UserId::new());
        let heard = announced_to(&[pen_pal], &[mutual], &[stalker, mutual], LastSeenVisibility::Everyone).await;
        assert_eq!(heard, sorted(vec![mutual, pen_pal]), "the one-sided saver is not told");
        assert!(announced_to(&[], &[], &[stalker], LastSeenVisibility::Everyone).await.is_empty());
    }

    #[tokio::test]
    async fn the_last_seen_setting_covers_being_online_too() {
        let (saved_pen_pal, other_pen_pal) = (UserId::new(), UserId::new());
        let both = [saved_pen_pal, other_pen_pal];
        assert_eq!(
            announced_to(&both, &[saved_pen_pal], &[], LastSeenVisibility::Contacts).await,
            vec![saved_pen_pal],
            "contacts: only the people the user saved see them online"
        );
        assert!(
            announced_to(&both, &[saved_pen_pal], &[], LastSeenVisibility::Nobody).await.is_empty(),
            "nobody: nobody sees them online"
        );
        assert_eq!(
            announced_to(&both, &[saved_pen_pal], &[], LastSeenVisibility::Everyone).await,
            sorted(both.to_vec())
        );
    }

    #[tokio::test]
    async fn a_new_device_hears_who_is_online_among_the_people_whose_presence_it_may_see() {
        let me = caller();
        let (pen_pal, mutual, away, stalked) = (UserId::new(), UserId::new(), UserId::new(), UserId::new());
        // `stalked` was saved by me but never saved me: not related.
        let mut m = related_mocks(
            me.user_id,
            vec![pen_pal, away],
            vec![mutual, stalked],
            vec![mutual],
            LastSeenVisibility::Everyone,
        );
        let related = sorted(vec![pen_pal, mutual, away]);
        m.presence
            .expect_online()
            .withf(move |users| users == related.as_slice())
            .returning(move |_| Ok(vec![pen_pal, mutual]));
        let frames = PresenceService::new(&ports(m)).online_now(me).await.unwrap();
        let mut heard: Vec<String> =
            frames.iter().map(|d| frame(d)["payload"]["user_id"].as_str().unwrap().to_owned()).collect();
        heard.sort();
        let mut expected = vec![pen_pal.to_string(), mutual.to_string()];
        expected.sort();
        assert_eq!(heard, expected);
        assert!(frames.iter().all(|d| frame(d)["payload"]["online"] == true));
    }

    #[tokio::test]
    async fn a_new_device_does_not_hear_of_people_who_hide_their_presence_from_it() {
        let me = caller();
        let pen_pal = UserId::new();
        for visibility in [LastSeenVisibility::Nobody, LastSeenVisibility::Contacts] {
            let mut m = related_mocks(me.user_id, vec![pen_pal], vec![], vec![], visibility);
            m.presence.expect_online().returning(move |_| Ok(vec![pen_pal]));
            let frames = PresenceService::new(&ports(m)).online_now(me).await.unwrap();
            assert!(frames.is_empty(), "{visibility:?}: {frames:?}");
        }
    }

    #[tokio::test]
    async fn narrowing_the_setting_while_online_takes_the_user_offline_for_those_left_out() {
        let me = caller();
        let (saved_pen_pal, other_pen_pal) = (UserId::new(), UserId::new());
        let mut m = related_mocks(
            me.user_id,
            vec![saved_pen_pal, other_pen_pal],
            vec![saved_pen_pal],
            vec![],
            LastSeenVisibility::Contacts,
        );
        m.presence.expect_online().returning(|users| Ok(users.to_vec()));
        m.bus
            .expect_publish()
            .withf(move |to, d| {
                to == [other_pen_pal].as_slice()
                    && frame(d)["payload"]["online"] == false
                    && frame(d)["payload"]["last_seen"].is_null()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = PresenceService::new(&ports(m));
        service.last_seen_setting_changed(me, LastSeenVisibility::Everyone).await.unwrap();
        service.last_seen_setting_changed(me, LastSeenVisibility::Contacts).await.unwrap();
    }

    #[tokio::test]
    async fn only_the_first_device_announces_online() {
        let me = caller();
        let friend = UserId::new();
        let mut m = related_mocks(me.user_id, vec![friend], vec![], vec![], LastSeenVisibility::Everyone);
        let mut first = true;
        m.presence
            .expect_connected()
            .withf(move |user, session| *user == me.user_id && *session == me.session_id)
            .times(2)
            .returning(move |_, _| Ok(std::mem::replace(&mut first, false)));
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
        let me = caller();
        let friend = UserId::new();
        let mut m = related_mocks(me.user_id, vec![friend], vec![], vec![], LastSeenVisibility::Everyone);
        let now = m.now;
        m.presence
            .expect_disconnected()
            .withf(move |user, session| *user == me.user_id && *session == me.session_id)
            .returning(|_, _| Ok(true));
        m.users
            .expect_touch_last_seen()
            .withf(move |u, at| *u == me.user_id && *at == now.trunc_subsecs(6))
            .times(1)
            .returning(|_, _| Ok(()));
        m.bus
            .expect_publish()
            .withf(move |to, d| {
                to == [friend].as_slice()
                    && frame(d)["payload"]["online"] == false
                    && frame(d)["payload"]["last_seen"].is_string()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        PresenceService::new(&ports(m)).device_disconnected(me).await.unwrap();
    }
}
