//! Group administration. The rules are in `chat::group`; this applies them to the
//! stored group, stores each change together with the system messages that record
//! it, and pushes both live: the system messages as logged events, then the
//! group's new state as a `chat_update`.

use super::chats::{ChatService, NewChat};
use super::guards::require_member;
use super::messages::publish_message;
use crate::auth::Caller;
use crate::chat::{
    describe, new_group, ChatView, Group, GroupChange, GroupDescription, GroupName, GroupStep, PlannedStep, Role,
};
use crate::error::{DomainError, DomainResult};
use crate::event::ChatUpdate;
use crate::ids::{ChatId, UserId};
use crate::message::Appended;
use crate::ports::GROUP_CHANGED;
use crate::ErrorCode;
use std::collections::{HashMap, HashSet};

/// How often a change is decided afresh when another change to the same group was
/// stored first.
const CHANGE_ATTEMPTS: usize = 3;

/// New details for a group as the client asked; None leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct GroupEdit {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn user_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::UserNotFound, "no such user")
}

impl ChatService {
    /// A new group with the caller as its admin and `user_ids` as members.
    pub(super) async fn create_group(&self, caller: Caller, request: NewChat) -> DomainResult<ChatView> {
        let name = GroupName::parse(request.name.as_deref().unwrap_or_default())?;
        let description = GroupDescription::parse(request.description.as_deref().unwrap_or_default())?;
        let now = self.clock.now();
        let (chat, planned) = new_group(caller.user_id, name, description, &request.user_ids, self.policy, now)?;
        let planned = vec![planned];
        let names = self.names(&planned).await?;
        self.refuse_blocked_joins(caller.user_id, &planned).await?;
        let after = Group::new(chat.clone(), Vec::new())?.members_after(&planned);
        let (steps, recipients) = self.prepare(chat.id, planned, &after, &names)?;
        let appended = self.chats.create_group(&chat, &steps).await?;
        tracing::info!(chat_id = %chat.id, actor = %caller.user_id, members = after.len(), "group created");
        self.announce(chat.id, caller.user_id, &appended, &recipients).await;
        self.get(caller, chat.id).await
    }

    /// Changes a group's name or description (admins).
    pub async fn update_group(&self, caller: Caller, chat_id: ChatId, edit: GroupEdit) -> DomainResult<ChatView> {
        let name = edit.name.as_deref().map(GroupName::parse).transpose()?;
        let description = edit.description.as_deref().map(GroupDescription::parse).transpose()?;
        self.change(caller, chat_id, |group| group.update_details(caller.user_id, name.clone(), description.clone()))
            .await
    }

    /// Adds people to a group (admins); those already in it are skipped, former
    /// members come back.
    pub async fn add_members(&self, caller: Caller, chat_id: ChatId, user_ids: &[UserId]) -> DomainResult<ChatView> {
        if user_ids.is_empty() {
            return Err(DomainError::invalid(ErrorCode::InvalidMembers, "user_ids must name at least one user"));
        }
        // More distinct people than a group may hold can never fit.
        self.policy.check_size(user_ids.iter().collect::<HashSet<_>>().len())?;
        let now = self.clock.now();
        self.change(caller, chat_id, |group| group.add_members(caller.user_id, user_ids, self.policy, now)).await
    }

    /// Removes a member (admins), or the caller themself: leaving.
    pub async fn remove_member(&self, caller: Caller, chat_id: ChatId, user_id: UserId) -> DomainResult<ChatView> {
        self.change(caller, chat_id, |group| group.remove_member(caller.user_id, user_id)).await
    }

    /// Makes a member an admin or a plain member (admins).
    pub async fn set_role(
        &self,
        caller: Caller,
        chat_id: ChatId,
        user_id: UserId,
        role: Role,
    ) -> DomainResult<ChatView> {
        self.change(caller, chat_id, |group| group.set_role(caller.user_id, user_id, role)).await
    }

    /// Loads the group, lets `decide` plan the change by the rules, and stores it;
    /// decides again on the new state when another change got in first. Answers
    /// the group as the caller sees it afterwards.
    async fn change(
        &self,
        caller: Caller,
        chat_id: ChatId,
        decide: impl Fn(&Group) -> DomainResult<Vec<PlannedStep>>,
    ) -> DomainResult<ChatView> {
        let mut attempt = 1;
        loop {
            require_member(self.chats.as_ref(), chat_id, caller.user_id).await?;
            let chat = self.chats.get(chat_id).await?.ok_or_else(DomainError::chat_not_found)?;
            let expected_version = chat.group_version;
            let group = Group::new(chat, self.chats.members(chat_id).await?)?;
            let planned = decide(&group)?;
            if planned.is_empty() {
                return self.get(caller, chat_id).await;
            }
            let names = self.names(&planned).await?;
            self.refuse_blocked_joins(caller.user_id, &planned).await?;
            let after = group.members_after(&planned);
            let (steps, recipients) = self.prepare(chat_id, planned, &after, &names)?;
            match self.chats.change_group(&GroupChange { chat_id, expected_version, steps }).await {
                Ok(appended) => {
                    tracing::info!(%chat_id, actor = %caller.user_id, steps = appended.len(), "group changed");
                    self.announce(chat_id, caller.user_id, &appended, &recipients).await;
                    return self.get(caller, chat_id).await;
                }
                Err(DomainError::Conflict { code, .. }) if code == GROUP_CHANGED && attempt < CHANGE_ATTEMPTS => {
                    tracing::info!(%chat_id, attempt, "the group changed meanwhile; deciding again");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The names of everyone the steps mention. Fails with `user_not_found` when
    /// one of them does not exist.
    async fn names(&self, steps: &[PlannedStep]) -> DomainResult<HashMap<UserId, String>> {
        let mut ids: Vec<UserId> = steps
            .iter()
            .flat_map(|step| std::iter::once(step.system.actor_id).chain(step.system.user_ids.iter().copied()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let names: HashMap<UserId, String> =
            self.users.get_many(&ids).await?.into_iter().map(|user| (user.id, user.name)).collect();
        if ids.iter().any(|id| !names.contains_key(id)) {
            return Err(user_not_found());
        }
        Ok(names)
    }

    /// Nobody is made a member of a group by someone they block, neither when it
    /// is created nor later: the answer is the same `user_not_found` as for an
    /// unknown id, so the block stays as silent as elsewhere, and nobody is added.
    async fn refuse_blocked_joins(&self, actor: UserId, steps: &[PlannedStep]) -> DomainResult<()> {
        let mut joining: Vec<UserId> = steps.iter().flat_map(PlannedStep::joining).collect();
        joining.sort_unstable();
        joining.dedup();
        if joining.is_empty() {
            return Ok(());
        }
        if !self.contacts.blockers_among(actor, &joining).await?.is_empty() {
            return Err(user_not_found());
        }
        Ok(())
    }

    /// Words each step's system message; returns the steps ready to store and, for
    /// each, who gets its message.
    fn prepare(
        &self,
        chat_id: ChatId,
        planned: Vec<PlannedStep>,
        after: &[UserId],
        names: &HashMap<UserId, String>,
    ) -> DomainResult<(Vec<GroupStep>, Vec<Vec<UserId>>)> {
        let now = self.clock.now();
        let recipients = planned.iter().map(|step| step.recipients(after)).collect();
        let steps = planned
            .into_iter()
            .map(|step| {
                let content = describe(&step, names);
                step.into_step(chat_id, content, now)
            })
            .collect::<DomainResult<_>>()?;
        Ok((steps, recipients))
    }

    /// Pushes each step's system message to its recipients, then the group's new
    /// state to its members. Failures are only logged: the change is stored, and
    /// devices catch up from the log.
    async fn announce(&self, chat_id: ChatId, actor: UserId, appended: &[Appended], recipients: &[Vec<UserId>]) {
        for (appended, to) in appended.iter().zip(recipients) {
            if let Some(event_seq) = appended.event_seq {
                publish_message(self.bus.as_ref(), self.push_queue.as_ref(), to, &appended.message, event_seq).await;
            }
        }
        let view = match self.chats.get(chat_id).await {
            Ok(Some(chat)) => self.shared_view(chat).await,
            Ok(None) => Err(DomainError::chat_not_found()),
            Err(error) => Err(error),
        };
        let view = match view {
            Ok(view) => view,
            Err(error) => {
                tracing::warn!(%error, %chat_id, "could not load the group for its chat_update");
                return;
            }
        };
        let members: Vec<UserId> = view.members.iter().map(|m| m.user_id).collect();
        let update = ChatUpdate { room_id: chat_id, actor, chat: view };
        if let Err(error) = self.bus.publish(&members, update.to_delivery()).await {
            tracing::warn!(%error, %chat_id, "live chat_update failed; the change is stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{joins, new_direct, Chat, ChatKind, GroupEffect, GroupPolicy, Member};
    use crate::event::Delivery;
    use crate::ids::SessionId;
    use crate::message::ContentType;
    use crate::services::test_support::{ports, stored, user, MockSet};
    use chrono::{Duration, Utc};
    use std::sync::{Arc, Mutex};

    /// What the bus was given: recipients and the frame.
    type Published = Arc<Mutex<Vec<(Vec<UserId>, serde_json::Value)>>>;

    /// A group of Asha (admin), Ravi (member since before Chen) and Chen.
    struct Fixture {
        chat: Chat,
        asha: UserId,
        ravi: UserId,
        chen: UserId,
        members: Vec<Member>,
    }

    fn fixture() -> Fixture {
        let (asha, ravi, chen) = (UserId::new(), UserId::new(), UserId::new());
        let name = GroupName::parse("Friends").unwrap();
        let description = GroupDescription::parse("").unwrap();
        let (chat, _) = new_group(asha, name, description, &[], GroupPolicy::default(), Utc::now()).unwrap();
        let member = |user_id, role, minutes_ago| Member {
            chat_id: chat.id,
            user_id,
            role,
            joined_at: Utc::now() - Duration::minutes(minutes_ago),
            left_at: None,
        };
        let members =
            vec![member(asha, Role::Admin, 30), member(ravi, Role::Member, 20), member(chen, Role::Member, 10)];
        Fixture { chat, asha, ravi, chen, members }
    }

    fn caller(user_id: UserId) -> Caller {
        Caller { user_id, session_id: SessionId::new() }
    }

    /// Mocks that serve the fixture's group as stored, and record what is published.
    fn serve(f: &Fixture) -> (MockSet, Published) {
        serve_changing(f, f.members.clone())
    }

    /// Like `serve`, with the active members being `after` once they were read once
    /// (when the change was decided).
    fn serve_changing(f: &Fixture, after: Vec<Member>) -> (MockSet, Published) {
        let mut m = MockSet::new(Utc::now());
        let members = f.members.clone();
        m.chats.expect_member().returning(move |_, u| Ok(members.iter().find(|x| x.user_id == u).cloned()));
        let chat = f.chat.clone();
        m.chats.expect_get().returning(move |_| Ok(Some(chat.clone())));
        let mut before = Some(f.members.clone());
        m.chats.expect_members().returning(move |_| Ok(before.take().unwrap_or_else(|| after.clone())));
        // The store knows the fixture's three people and nobody else.
        let names = [(f.asha, "Asha"), (f.ravi, "Ravi"), (f.chen, "Chen")];
        m.users.expect_get_many().returning(move |ids| {
            Ok(names.iter().filter(|(id, _)| ids.contains(id)).map(|(id, name)| user(*id, name)).collect())
        });
        m.messages.expect_last_messages().returning(|_| Ok(vec![]));
        let published: Published = Arc::default();
        let record = published.clone();
        m.bus.expect_publish().returning(move |to, delivery| {
            let frame = match &delivery {
                Delivery::Event(e) => e.frame.to_string(),
                Delivery::Ephemeral(e) => e.frame.to_string(),
                other => serde_json::to_string(other).unwrap(),
            };
            record.lock().unwrap().push((to.to_vec(), serde_json::from_str(&frame).unwrap()));
            Ok(())
        });
        (m, published)
    }

    /// Stores what it is given, numbering the messages from 10 and the events from 20.
    fn stores_changes(m: &mut MockSet) {
        m.chats.expect_change_group().times(1).returning(|change| {
            Ok(change
                .steps
                .iter()
                .zip(0..)
                .map(|(step, i)| Appended {
                    message: stored(&step.message, 10 + i),
                    created: true,
                    event_seq: Some(20 + i),
                })
                .collect())
        });
    }

    fn group_request(name: &str, user_ids: Vec<UserId>) -> NewChat {
        NewChat { kind: ChatKind::Group, user_ids, name: Some(name.into()), description: None }
    }

    fn service(m: MockSet, max_members: usize) -> ChatService {
        ChatService::new(&ports(m), GroupPolicy { max_members })
    }

    fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn the_creator_becomes_admin_and_every_member_is_told() {
        let f = fixture();
        let (mut m, published) = serve(&f);
        let (asha, ravi, chen) = (f.asha, f.ravi, f.chen);
        m.chats
            .expect_create_group()
            .withf(move |chat, steps| {
                chat.kind == ChatKind::Group
                    && chat.name.as_deref() == Some("Trip")
                    && joins(&steps[0].effects) == [(asha, Role::Admin), (ravi, Role::Member), (chen, Role::Member)]
                    && steps[0].message.content.clone().into_inner() == "Asha created the group \"Trip\""
                    && steps[0].message.content_type == ContentType::System
            })
            .times(1)
            .returning(|_, steps| {
                Ok(vec![Appended { message: stored(&steps[0].message, 1), created: true, event_seq: Some(1) }])
            });
        let request = group_request("  Trip ", vec![ravi, chen, ravi, asha]);
        service(m, 10).create(caller(asha), request).await.unwrap();
        let published = published.lock().unwrap();
        let (to, frame) = &published[0];
        assert_eq!(sorted(to.clone()), sorted(vec![asha, ravi, chen]));
        assert_eq!(frame["payload"]["system"]["action"], "group_created");
        assert_eq!(published[1].1["type"], "chat_update");
    }

    #[tokio::test]
    async fn a_group_with_an_unknown_user_is_not_created() {
        let f = fixture();
        let (mut m, _) = serve(&f);
        m.chats.expect_create_group().never();
        let request = group_request("Trip", vec![f.ravi, UserId::new()]);
        let err = service(m, 10).create(caller(f.asha), request).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found");
    }

    /// Contacts where `blocker` blocks `blocked` and nobody else blocks anyone.
    fn blocks(blocker: UserId, blocked: UserId) -> crate::ports::MockContactRepo {
        let mut contacts = crate::ports::MockContactRepo::new();
        contacts.expect_saved_by().returning(|_| Ok(Vec::new()));
        contacts.expect_blockers_among().returning(move |who, among| {
            Ok(if who == blocked && among.contains(&blocker) { vec![blocker] } else { Vec::new() })
        });
        contacts
    }

    #[tokio::test]
    async fn nobody_is_put_in_a_group_by_someone_they_block() {
        let f = fixture();
        // Ravi blocks Asha: she can neither make a group with him nor add him to one.
        let (mut m, _) = serve(&f);
        m.contacts = blocks(f.ravi, f.asha);
        m.chats.expect_create_group().never();
        let request = group_request("Trip", vec![f.chen, f.ravi]);
        let err = service(m, 10).create(caller(f.asha), request).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found", "the same answer as for an unknown id");

        let mut without_ravi = fixture();
        without_ravi.members.retain(|member| member.user_id != without_ravi.ravi);
        let (mut m, published) = serve(&without_ravi);
        m.contacts = blocks(without_ravi.ravi, without_ravi.asha);
        m.chats.expect_change_group().never();
        let service = service(m, 10);
        let adding = [without_ravi.ravi];
        let err = service.add_members(caller(without_ravi.asha), without_ravi.chat.id, &adding).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found");
        assert!(published.lock().unwrap().is_empty(), "nothing happened that anyone could see");
    }

    #[tokio::test]
    async fn someone_blocked_by_others_may_still_be_added_by_those_they_do_not_block() {
        let mut f = fixture();
        let everyone = f.members.clone();
        f.members.retain(|member| member.user_id != f.ravi);
        let (mut m, _) = serve_changing(&f, everyone);
        // Ravi blocks Chen, not Asha: Asha may add Ravi.
        m.contacts = blocks(f.ravi, f.chen);
        stores_changes(&mut m);
        service(m, 10).add_members(caller(f.asha), f.chat.id, &[f.ravi]).await.unwrap();
    }

    #[tokio::test]
    async fn a_group_needs_a_valid_name_and_fits_the_limit() {
        let f = fixture();
        let (mut m, _) = serve(&f);
        m.chats.expect_create_group().never();
        let service = service(m, 2);
        let err = service.create(caller(f.asha), group_request(" ", vec![f.ravi])).await.unwrap_err();
        assert_eq!(err.code(), "invalid_group_name");
        let err = service.create(caller(f.asha), group_request(&"x".repeat(101), vec![f.ravi])).await.unwrap_err();
        assert_eq!(err.code(), "invalid_group_name");
        let err = service.create(caller(f.asha), group_request("Trip", vec![f.ravi, f.chen])).await.unwrap_err();
        assert_eq!(err.code(), "too_many_members");
    }

    #[tokio::test]
    async fn a_member_cannot_add_remove_others_rename_or_promote() {
        let f = fixture();
        let (mut m, published) = serve(&f);
        m.chats.expect_change_group().never();
        let service = service(m, 10);
        let ravi = caller(f.ravi);
        let edit = GroupEdit { name: Some("Ravi's".into()), description: None };
        let refusals = [
            service.update_group(ravi, f.chat.id, edit).await.unwrap_err(),
            service.add_members(ravi, f.chat.id, &[UserId::new()]).await.unwrap_err(),
            service.remove_member(ravi, f.chat.id, f.chen).await.unwrap_err(),
            service.set_role(ravi, f.chat.id, f.ravi, Role::Admin).await.unwrap_err(),
        ];
        for err in refusals {
            assert_eq!(err, DomainError::forbidden(ErrorCode::NotAdmin, "only group admins may do this"));
        }
        assert!(published.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn outsiders_and_former_members_learn_nothing() {
        let mut f = fixture();
        f.members[2].left_at = Some(crate::chat::LogPosition { seq: 3, event_seq: 3 });
        let (mut m, _) = serve(&f);
        m.chats.expect_change_group().never();
        let service = service(m, 10);
        for who in [UserId::new(), f.chen] {
            let err = service.remove_member(caller(who), f.chat.id, who).await.unwrap_err();
            assert_eq!(err.code(), "chat_not_found");
        }
    }

    #[tokio::test]
    async fn the_last_admin_leaving_promotes_the_longest_standing_member() {
        let f = fixture();
        let (mut m, published) = serve(&f);
        let (asha, ravi) = (f.asha, f.ravi);
        m.chats
            .expect_change_group()
            .withf(move |change| {
                change.steps.len() == 2
                    && change.steps[0].effects == [GroupEffect::Leave(asha)]
                    && change.steps[1].effects == [GroupEffect::SetRole { user_id: ravi, role: Role::Admin }]
                    && change.steps[1].message.content.clone().into_inner() == "Ravi is now an admin"
            })
            .times(1)
            .returning(|change| {
                Ok(change
                    .steps
                    .iter()
                    .zip(5..)
                    .map(|(s, i)| Appended { message: stored(&s.message, i), created: true, event_seq: Some(i) })
                    .collect())
            });
        service(m, 10).remove_member(caller(asha), f.chat.id, asha).await.unwrap();
        let published = published.lock().unwrap();
        assert_eq!(published[0].1["payload"]["system"]["action"], "member_left");
        assert!(published[0].0.contains(&asha), "the leaver gets their own member_left");
        assert_eq!(published[1].1["payload"]["system"]["action"], "role_changed");
        assert!(!published[1].0.contains(&asha), "and nothing after it");
    }

    #[tokio::test]
    async fn a_removed_member_gets_the_removal_message_but_not_the_chat_update() {
        let f = fixture();
        let (mut m, published) = serve_changing(&f, f.members[..2].to_vec());
        stores_changes(&mut m);
        service(m, 10).remove_member(caller(f.asha), f.chat.id, f.chen).await.unwrap();
        let published = published.lock().unwrap();
        let (to, frame) = &published[0];
        assert_eq!(sorted(to.clone()), sorted(vec![f.asha, f.ravi, f.chen]));
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["event_seq"], 20);
        assert_eq!(frame["payload"]["content"], "Asha removed Chen");
        assert_eq!(frame["payload"]["system"]["action"], "member_removed");
        assert_eq!(frame["payload"]["system"]["user_ids"][0], f.chen.to_string());
        let (to, update) = &published[1];
        assert_eq!(update["type"], "chat_update");
        assert_eq!(sorted(to.clone()), sorted(vec![f.asha, f.ravi]), "nothing after the removal reaches Chen");
        assert_eq!(published.len(), 2);
    }

    #[tokio::test]
    async fn demoting_the_last_admin_is_refused() {
        let f = fixture();
        let (mut m, _) = serve(&f);
        m.chats.expect_change_group().never();
        let err = service(m, 10).set_role(caller(f.asha), f.chat.id, f.asha, Role::Member).await.unwrap_err();
        assert_eq!((err.code().as_str(), matches!(err, DomainError::Conflict { .. })), ("last_admin", true));
    }

    #[tokio::test]
    async fn adding_past_the_limit_is_refused_and_unknown_users_are_not_found() {
        let f = fixture();
        let (mut m, _) = serve(&f);
        m.chats.expect_change_group().never();
        let service = service(m, 4);
        let two = [UserId::new(), UserId::new()];
        let err = service.add_members(caller(f.asha), f.chat.id, &two).await.unwrap_err();
        assert_eq!(err.code(), "too_many_members");
        let err = service.add_members(caller(f.asha), f.chat.id, &two[..1]).await.unwrap_err();
        assert_eq!(err.code(), "user_not_found", "the fixture knows only its three members");
        let err = service.add_members(caller(f.asha), f.chat.id, &[]).await.unwrap_err();
        assert_eq!(err.code(), "invalid_members");
    }

    #[tokio::test]
    async fn group_actions_on_a_direct_chat_are_refused() {
        let f = fixture();
        let mut m = MockSet::new(Utc::now());
        let (chat, members) = new_direct(f.asha, f.ravi, Utc::now()).unwrap();
        let member = members[0].clone();
        m.chats.expect_member().returning(move |_, _| Ok(Some(member.clone())));
        m.chats.expect_get().returning(move |_| Ok(Some(chat.clone())));
        m.chats.expect_members().returning(move |_| Ok(members.clone()));
        m.chats.expect_change_group().never();
        let edit = GroupEdit { name: Some("Us".into()), description: None };
        let err = service(m, 10).update_group(caller(f.asha), f.chat.id, edit).await.unwrap_err();
        assert_eq!(err.code(), "not_a_group");
    }

    #[tokio::test]
    async fn a_change_that_lost_a_race_is_decided_again() {
        let f = fixture();
        let (mut m, published) = serve(&f);
        let mut calls = 0;
        m.chats.expect_change_group().times(2).returning(move |change| {
            calls += 1;
            if calls == 1 {
                return Err(DomainError::conflict(GROUP_CHANGED, "changed"));
            }
            Ok(vec![Appended { message: stored(&change.steps[0].message, 4), created: true, event_seq: Some(4) }])
        });
        let edit = GroupEdit { name: None, description: Some("Plans".into()) };
        service(m, 10).update_group(caller(f.asha), f.chat.id, edit).await.unwrap();
        let published = published.lock().unwrap();
        assert_eq!(published[0].1["payload"]["content"], "Asha changed the group description");
        assert_eq!(published[0].1["payload"]["system"]["action"], "group_updated");
    }
}
