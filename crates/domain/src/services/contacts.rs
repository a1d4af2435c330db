use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::contact::{parse_alias, Contact, ContactEntry, PendingContact};
use crate::error::{DomainError, DomainResult};
use crate::event::Delivery;
use crate::ids::UserId;
use crate::ports::{ChatRepo, ContactRepo, EventBus, UserRepo};
use crate::user::{LastSeenVisibility, Phone, StatusLine, User, UserName};
use crate::ErrorCode;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Who a contact is, as the client named them.
#[derive(Debug, Clone)]
pub enum ContactRef<'a> {
    Id(UserId),
    Phone(&'a str),
}

/// Profiles, contacts and blocks.
pub struct ContactService {
    users: Arc<dyn UserRepo>,
    contacts: Arc<dyn ContactRepo>,
    chats: Arc<dyn ChatRepo>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    region: crate::user::Region,
}

fn user_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::UserNotFound, "no such user")
}

fn contact_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::ContactNotFound, "not in your contacts")
}

impl ContactService {
    pub fn new(ports: &Ports, region: crate::user::Region) -> Self {
        Self {
            users: ports.users.clone(),
            contacts: ports.contacts.clone(),
            chats: ports.chats.clone(),
            bus: ports.bus.clone(),
            clock: ports.clock.clone(),
            region,
        }
    }

    /// Changes the caller's name and/or status line. When either changes, the
    /// people who show them (`profile_audience`) hear of it at once (`user_update`).
    pub async fn update_profile(&self, caller: Caller, name: Option<&str>, status: Option<&str>) -> DomainResult<User> {
        let name = name.map(UserName::parse).transpose()?.map(UserName::into_inner);
        let status = status.map(StatusLine::parse).transpose()?.map(StatusLine::into_inner);
        let changes = name.is_some() || status.is_some();
        let user = self.users.update_profile(caller.user_id, name, status).await?.ok_or_else(user_not_found)?;
        if changes {
            self.announce_profile(&user).await;
        }
        Ok(user)
    }

    /// Pushes the new profile live. Only logged when it fails: the profile is
    /// stored, and devices read profiles again when they reconnect.
    async fn announce_profile(&self, user: &User) {
        let audience = match self.profile_audience(user.id).await {
            Ok(audience) => audience,
            Err(error) => {
                tracing::warn!(%error, user_id = %user.id, "could not read who shows this profile");
                return;
            }
        };
        if let Err(error) = self.bus.publish(&audience, Delivery::user_update(user)).await {
            tracing::warn!(%error, user_id = %user.id, "live user_update failed");
        }
    }

    /// Who shows `user`'s name and status line: the user's own devices and the
    /// people who may see their account (`services::privacy::viewers_of`).
    async fn profile_audience(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        let mut audience: Vec<UserId> =
            super::privacy::viewers_of(self.chats.as_ref(), self.contacts.as_ref(), user).await?.into_iter().collect();
        audience.push(user);
        audience.sort();
        Ok(audience)
    }

    /// Changes who may see when the caller was last online.
    pub async fn set_last_seen_visibility(&self, caller: Caller, visibility: &str) -> DomainResult<User> {
        let visibility = LastSeenVisibility::parse(visibility)?;
        self.users.set_last_seen_visibility(caller.user_id, visibility).await?.ok_or_else(user_not_found)
    }

    /// Whether the caller's pushes show message text (`notifications.previews`).
    pub async fn set_notification_previews(&self, caller: Caller, previews: bool) -> DomainResult<User> {
        self.users.set_notification_previews(caller.user_id, previews).await?.ok_or_else(user_not_found)
    }

    /// The caller's contacts: the people they saved, then the numbers nobody used
    /// when saved, each in the order added. A person shows only once the two share
    /// a chat or they saved the caller (`services::privacy::accounts_shown_to`).
    pub async fn list(&self, caller: Caller) -> DomainResult<Vec<Contact>> {
        let (entries, pending) = futures_util::future::try_join(
            self.contacts.contacts(caller.user_id),
            self.contacts.pending(caller.user_id),
        )
        .await?;
        let ids: Vec<UserId> = entries.iter().map(|e| e.contact).collect();
        let mut users: HashMap<UserId, User> =
            self.users.get_many(&ids).await?.into_iter().map(|u| (u.id, u)).collect();
        let mut contacts: Vec<Contact> = Vec::with_capacity(entries.len() + pending.len());
        for entry in entries {
            if let Some(user) = users.remove(&entry.contact) {
                contacts.push(Contact {
                    phone: user.phone.as_str().to_owned(),
                    user: Some(user),
                    alias: entry.alias,
                    added_at: entry.added_at,
                });
            }
        }
        contacts.extend(pending.into_iter().map(|p| Contact {
            user: None,
            phone: p.phone.as_str().to_owned(),
            alias: p.alias,
            added_at: p.added_at,
        }));
        self.shown_to(caller, contacts).await
    }

    /// Saves someone (by id or phone) as a contact, or renames them; the flag says
    /// whether they were new to the caller's list. A number is saved whether or not
    /// anyone uses it, with the same answer either way.
    pub async fn add(&self, caller: Caller, who: ContactRef<'_>, alias: Option<&str>) -> DomainResult<(Contact, bool)> {
        let alias = parse_alias(alias)?;
        let now = self.clock.now();
        let (user, phone) = match who {
            ContactRef::Id(id) => {
                let user = self.users.get(id).await?.ok_or_else(user_not_found)?;
                let phone = user.phone.clone();
                (Some(user), phone)
            }
            ContactRef::Phone(raw) => {
                let phone = Phone::parse(raw, self.region)?;
                (self.users.get_by_phone(&phone).await?, phone)
            }
        };
        if user.as_ref().map(|u| u.id) == Some(caller.user_id) {
            return Err(DomainError::invalid(ErrorCode::InvalidContact, "you cannot add yourself as a contact"));
        }
        let created = match &user {
            Some(user) => {
                let entry =
                    ContactEntry { owner: caller.user_id, contact: user.id, alias: alias.clone(), added_at: now };
                self.contacts.put_contact(&entry).await?
            }
            None => {
                let entry =
                    PendingContact { owner: caller.user_id, phone: phone.clone(), alias: alias.clone(), added_at: now };
                self.contacts.put_pending(&entry).await?
            }
        };
        let contact = Contact { user, phone: phone.as_str().to_owned(), alias, added_at: now };
        let shown = self.shown_to(caller, vec![contact]).await?.into_iter().next();
        Ok((shown.ok_or_else(|| DomainError::unavailable("a saved contact was lost"))?, created))
    }

    pub async fn remove(&self, caller: Caller, contact: UserId) -> DomainResult<()> {
        if !self.contacts.remove_contact(caller.user_id, contact).await? {
            return Err(contact_not_found());
        }
        Ok(())
    }

    /// Removes a saved number: the person with it, or the number itself if nobody
    /// used it when it was saved.
    pub async fn remove_phone(&self, caller: Caller, raw: &str) -> DomainResult<()> {
        let phone = Phone::parse(raw, self.region)?;
        let removed_person = match self.users.get_by_phone(&phone).await? {
            Some(user) => self.contacts.remove_contact(caller.user_id, user.id).await?,
            None => false,
        };
        let removed_number = self.contacts.remove_pending(caller.user_id, &phone).await?;
        if !(removed_person || removed_number) {
            return Err(contact_not_found());
        }
        Ok(())
    }

    /// `contacts` as the caller may see them: the person only where they share a
    /// chat with the caller or saved them, otherwise the number alone; last seen as
    /// each person chose.
    async fn shown_to(&self, caller: Caller, mut contacts: Vec<Contact>) -> DomainResult<Vec<Contact>> {
        if contacts.iter().all(|c| c.user.is_none()) {
            return Ok(contacts);
        }
        let knowing: HashSet<UserId> =
            super::privacy::accounts_shown_to(self.chats.as_ref(), self.contacts.as_ref(), caller.user_id).await?;
        let (places, people): (Vec<usize>, Vec<User>) = contacts
            .iter_mut()
            .enumerate()
            .filter_map(|(place, c)| c.user.take().filter(|u| knowing.contains(&u.id)).map(|u| (place, u)))
            .unzip();
        let people = super::privacy::as_seen_by(self.contacts.as_ref(), Some(caller.user_id), people).await?;
        for (place, user) in places.into_iter().zip(people) {
            contacts[place].user = Some(user);
        }
        Ok(contacts)
    }

    /// The blocked person can no longer open a direct chat with, or write in the
    /// direct chat to, the caller.
    pub async fn block(&self, caller: Caller, user: UserId) -> DomainResult<()> {
        if user == caller.user_id {
            return Err(DomainError::invalid(ErrorCode::InvalidBlock, "you cannot block yourself"));
        }
        self.users.get(user).await?.ok_or_else(user_not_found)?;
        self.contacts.block(caller.user_id, user, self.clock.now()).await?;
        self.announce_block(caller.user_id, user, true).await;
        Ok(())
    }

    pub async fn unblock(&self, caller: Caller, user: UserId) -> DomainResult<()> {
        self.contacts.unblock(caller.user_id, user).await?;
        self.announce_block(caller.user_id, user, false).await;
        Ok(())
    }

    /// Tells the blocker's devices (and nobody else: the blocked person is never
    /// told) that a block was made or lifted. Only logged when it fails: the block
    /// is stored.
    async fn announce_block(&self, blocker: UserId, other: UserId, blocked: bool) {
        let live = Delivery::block_update(blocker, other, blocked);
        if let Err(error) = self.bus.publish(&[blocker], live).await {
            tracing::warn!(%error, user_id = %blocker, "live block_update failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::{caller, ports, MockSet};
    use crate::user::Region;
    use chrono::Utc;

    fn someone(id: UserId) -> User {
        let mut u = User::new(
            Phone::parse("+919876543219", Region::default()).unwrap(),
            UserName::parse("Zoya").unwrap(),
            Utc::now(),
        );
        u.id = id;
        u
    }

    #[tokio::test]
    async fn a_contact_is_saved_with_its_alias() {
        let me = caller();
        let other = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(|id| Ok(Some(someone(id))));
        m.contacts.checkpoint(); // drops the default "nobody saved anyone"
        m.contacts
            .expect_put_contact()
            .withf(move |e| e.owner == me.user_id && e.contact == other && e.alias.as_deref() == Some("Zo"))
            .returning(|_| Ok(true));
        m.chats.expect_partners().returning(|_| Ok(vec![]));
        m.contacts.expect_saved_by().returning(move |_| Ok(vec![other]));
        let service = ContactService::new(&ports(m), Region::default());
        let (contact, created) = service.add(me, ContactRef::Id(other), Some(" Zo ")).await.unwrap();
        assert!(created);
        assert_eq!(contact.alias.as_deref(), Some("Zo"));
        assert_eq!(contact.user.map(|u| u.id), Some(other), "they saved me: they are shown");
    }

    /// Saving a number answers alike whether or not anyone uses it: the person
    /// shows only once they share a chat with the caller or saved them.
    async fn saved_by_phone(registered: bool, they_know_me: bool) -> (Contact, bool) {
        let me = caller();
        let other = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get_by_phone().returning(move |_| Ok(registered.then(|| someone(other))));
        m.contacts.checkpoint(); // drops the default "nobody saved anyone"
        m.contacts.expect_put_contact().returning(|_| Ok(true));
        m.contacts
            .expect_put_pending()
            .withf(|p| p.phone.as_str() == "+919876543219" && p.alias.as_deref() == Some("Zo"))
            .returning(|_| Ok(true));
        m.chats.expect_partners().returning(|_| Ok(vec![]));
        m.contacts.expect_saved_by().returning(move |_| Ok(if they_know_me { vec![other] } else { vec![] }));
        let service = ContactService::new(&ports(m), Region::default());
        service.add(me, ContactRef::Phone("98765 43219"), Some("Zo")).await.unwrap()
    }

    #[tokio::test]
    async fn a_saved_number_does_not_tell_whether_anyone_uses_it() {
        let (unused, unused_new) = saved_by_phone(false, false).await;
        let (stranger, stranger_new) = saved_by_phone(true, false).await;
        assert_eq!((unused.user, unused.phone.as_str(), unused_new), (None, "+919876543219", true));
        assert_eq!((stranger.user, stranger.phone.as_str(), stranger_new), (None, "+919876543219", true));
        let (friend, _) = saved_by_phone(true, true).await;
        assert_eq!(friend.user.map(|u| u.name), Some("Zoya".to_owned()), "someone who saved me is shown");
    }

    #[tokio::test]
    async fn removing_a_number_removes_the_person_or_the_saved_number() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get_by_phone().returning(|_| Ok(None));
        m.contacts.expect_remove_pending().times(2).returning({
            let mut calls = 0;
            move |_, _| {
                calls += 1;
                Ok(calls == 1)
            }
        });
        let service = ContactService::new(&ports(m), Region::default());
        service.remove_phone(me, "+919876543219").await.unwrap();
        assert_eq!(service.remove_phone(me, "+919876543219").await.unwrap_err().code(), "contact_not_found");
        assert_eq!(service.remove_phone(me, "12").await.unwrap_err().code(), "invalid_phone");
    }

    #[tokio::test]
    async fn nobody_adds_or_blocks_themself() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(|id| Ok(Some(someone(id))));
        m.contacts.expect_put_contact().never();
        m.contacts.expect_block().never();
        let service = ContactService::new(&ports(m), Region::default());
        assert_eq!(service.add(me, ContactRef::Id(me.user_id), None).await.unwrap_err().code(), "invalid_contact");
        assert_eq!(service.block(me, me.user_id).await.unwrap_err().code(), "invalid_block");
    }

    #[tokio::test]
    async fn a_block_and_an_unblock_reach_only_the_blockers_own_devices() {
        let me = caller();
        let other = UserId::new();
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get().returning(|id| Ok(Some(someone(id))));
        m.contacts.expect_block().times(1).returning(|_, _, _| Ok(()));
        m.contacts.expect_unblock().times(1).returning(|_, _| Ok(()));
        for blocked in [true, false] {
            let expected = format!("{{\"user_id\":\"{other}\",\"blocked\":{blocked}}}");
            m.bus
                .expect_publish()
                .withf(move |to, delivery| {
                    to == [me.user_id]
                        && matches!(delivery, Delivery::Ephemeral(e) if e.frame.contains("\"block_update\"") && e.frame.contains(&expected))
                })
                .times(1)
                .returning(|_, _| Ok(()));
        }
        let service = ContactService::new(&ports(m), Region::default());
        service.block(me, other).await.unwrap();
        service.unblock(me, other).await.unwrap();
    }

    #[tokio::test]
    async fn a_new_name_reaches_the_people_who_show_it_and_a_privacy_change_alone_does_not() {
        let me = caller();
        let (saved, partner, saver) = (UserId::new(), UserId::new(), UserId::new());
        let mut m = MockSet::new(Utc::now());
        m.contacts = crate::ports::MockContactRepo::new();
        // `saver` saved me: that shows them nothing of me (`privacy::viewers_of`).
        m.contacts.expect_saved_by().never().returning(move |_| Ok(vec![saver]));
        m.contacts.expect_contacts().returning(move |owner| {
            Ok(vec![ContactEntry { owner, contact: saved, alias: None, added_at: Utc::now() }])
        });
        m.chats.expect_partners().returning(move |_| Ok(vec![partner]));
        m.users.expect_update_profile().times(2).returning(|id, _, _| Ok(Some(someone(id))));
        let mut everyone = vec![me.user_id, saved, partner];
        everyone.sort();
        m.bus
            .expect_publish()
            .withf(move |to, delivery| {
                to == everyone.as_slice()
                    && matches!(delivery, Delivery::Ephemeral(e) if e.frame.contains("\"user_update\""))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = ContactService::new(&ports(m), Region::default());
        service.update_profile(me, Some("Zoya K"), None).await.unwrap();
        service.update_profile(me, None, None).await.unwrap();
    }

    #[tokio::test]
    async fn a_bad_number_is_invalid() {
        let service = ContactService::new(&ports(MockSet::new(Utc::now())), Region::default());
        assert_eq!(service.add(caller(), ContactRef::Phone("12"), None).await.unwrap_err().code(), "invalid_phone");
    }

    #[tokio::test]
    async fn profile_changes_are_validated() {
        let mut m = MockSet::new(Utc::now());
        m.users.expect_update_profile().never();
        let service = ContactService::new(&ports(m), Region::default());
        assert_eq!(service.update_profile(caller(), Some(" "), None).await.unwrap_err().code(), "invalid_name");
        let long = "x".repeat(141);
        assert_eq!(
            service.update_profile(caller(), None, Some(&long)).await.unwrap_err().code(),
            "invalid_status_line"
        );
    }
}
