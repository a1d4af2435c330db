use super::Ports;
use crate::auth::Caller;
use crate::clock::Clock;
use crate::contact::{parse_alias, Contact, ContactEntry};
use crate::error::{DomainError, DomainResult};
use crate::event::Delivery;
use crate::ids::UserId;
use crate::ports::{ChatRepo, ContactRepo, EventBus, UserRepo};
use crate::user::{LastSeenVisibility, Phone, StatusLine, User, UserName};
use std::collections::HashMap;
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
    DomainError::not_found("user_not_found", "no such user")
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

    /// Who shows `user`'s name and status line: the user's own devices, everyone
    /// who saved them as a contact, and the active members of the chats they are
    /// an active member of. Read on a profile change only, which is rare.
    async fn profile_audience(&self, user: UserId) -> DomainResult<Vec<UserId>> {
        let mut audience = self.contacts.saved_by(user).await?;
        audience.push(user);
        for (chat, me) in self.chats.list_for_user(user).await? {
            if me.is_active() {
                audience.extend(self.chats.members(chat.id).await?.into_iter().map(|m| m.user_id));
            }
        }
        audience.sort();
        audience.dedup();
        Ok(audience)
    }

    /// Changes who may see when the caller was last online.
    pub async fn set_last_seen_visibility(&self, caller: Caller, visibility: &str) -> DomainResult<User> {
        let visibility = LastSeenVisibility::parse(visibility)?;
        self.users.set_last_seen_visibility(caller.user_id, visibility).await?.ok_or_else(user_not_found)
    }

    /// The caller's contacts with their profiles.
    pub async fn list(&self, caller: Caller) -> DomainResult<Vec<Contact>> {
        let entries = self.contacts.contacts(caller.user_id).await?;
        let ids: Vec<UserId> = entries.iter().map(|e| e.contact).collect();
        let found = self.users.get_many(&ids).await?;
        let mut users: HashMap<UserId, User> =
            super::privacy::as_seen_by(self.contacts.as_ref(), Some(caller.user_id), found)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
        Ok(entries
            .into_iter()
            .filter_map(|e| users.remove(&e.contact).map(|user| Contact { user, alias: e.alias, added_at: e.added_at }))
            .collect())
    }

    /// Saves someone (by id or phone) as a contact, or renames them; the flag says
    /// whether they were new.
    pub async fn add(&self, caller: Caller, who: ContactRef<'_>, alias: Option<&str>) -> DomainResult<(Contact, bool)> {
        let alias = parse_alias(alias)?;
        let user = self.resolve(who).await?;
        if user.id == caller.user_id {
            return Err(DomainError::invalid("invalid_contact", "you cannot add yourself as a contact"));
        }
        let entry = ContactEntry { owner: caller.user_id, contact: user.id, alias, added_at: self.clock.now() };
        let created = self.contacts.put_contact(&entry).await?;
        let user = super::privacy::one_as_seen_by(self.contacts.as_ref(), caller.user_id, user).await?;
        Ok((Contact { user, alias: entry.alias, added_at: entry.added_at }, created))
    }

    pub async fn remove(&self, caller: Caller, contact: UserId) -> DomainResult<()> {
        if !self.contacts.remove_contact(caller.user_id, contact).await? {
            return Err(DomainError::not_found("contact_not_found", "not in your contacts"));
        }
        Ok(())
    }

    /// The blocked person can no longer open a direct chat with, or write in the
    /// direct chat to, the caller.
    pub async fn block(&self, caller: Caller, user: UserId) -> DomainResult<()> {
        if user == caller.user_id {
            return Err(DomainError::invalid("invalid_block", "you cannot block yourself"));
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

    async fn resolve(&self, who: ContactRef<'_>) -> DomainResult<User> {
        match who {
            ContactRef::Id(id) => self.users.get(id).await?.ok_or_else(user_not_found),
            ContactRef::Phone(raw) => {
                let phone = Phone::parse(raw, self.region)?;
                self.users.get_by_phone(&phone).await?.ok_or_else(user_not_found)
            }
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
        m.contacts
            .expect_put_contact()
            .withf(move |e| e.owner == me.user_id && e.contact == other && e.alias.as_deref() == Some("Zo"))
            .returning(|_| Ok(true));
        let service = ContactService::new(&ports(m), Region::default());
        let (contact, created) = service.add(me, ContactRef::Id(other), Some(" Zo ")).await.unwrap();
        assert!(created);
        assert_eq!(contact.alias.as_deref(), Some("Zo"));
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
        use crate::services::test_support::{chat, member};
        let me = caller();
        let (saver, partner, former_partner) = (UserId::new(), UserId::new(), UserId::new());
        let (shared, left) = (crate::ids::ChatId::new(), crate::ids::ChatId::new());
        let mut m = MockSet::new(Utc::now());
        m.contacts = crate::ports::MockContactRepo::new();
        m.contacts.expect_saved_by().returning(move |_| Ok(vec![saver]));
        m.users.expect_update_profile().times(2).returning(|id, _, _| Ok(Some(someone(id))));
        m.chats.expect_list_for_user().returning(move |u| {
            let mut gone = member(left, u);
            gone.left_at = Some(crate::chat::LogPosition { seq: 1, event_seq: 1 });
            Ok(vec![
                (chat(shared, crate::chat::ChatKind::Direct), member(shared, u)),
                (chat(left, crate::chat::ChatKind::Group), gone),
            ])
        });
        m.chats
            .expect_members()
            .withf(move |c| *c == shared)
            .returning(move |c| Ok(vec![member(c, me.user_id), member(c, partner)]));
        m.chats
            .expect_members()
            .withf(move |c| *c == left)
            .never()
            .returning(move |c| Ok(vec![member(c, former_partner)]));
        let mut everyone = vec![me.user_id, saver, partner];
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
    async fn an_unknown_phone_is_not_found_and_a_bad_one_is_invalid() {
        let mut m = MockSet::new(Utc::now());
        m.users.expect_get_by_phone().returning(|_| Ok(None));
        let service = ContactService::new(&ports(m), Region::default());
        assert_eq!(
            service.add(caller(), ContactRef::Phone("9876543299"), None).await.unwrap_err().code(),
            "user_not_found"
        );
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
