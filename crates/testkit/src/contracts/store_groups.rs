use super::store::{now, user, Store};
use super::store_messages::text;
use chitchat_domain::chat::{
    describe, new_group, Chat, ChatKind, GroupChange, GroupDescription, GroupEffect, GroupName, GroupPolicy, GroupStep,
    LogPosition, Member, PlannedStep, Role,
};
use chitchat_domain::event::EventKind;
use chitchat_domain::message::{Appended, ContentType, Page, SystemAction, SystemInfo};
use chitchat_domain::ports::{ChatRepo, GROUP_CHANGED};
use chitchat_domain::user::User;
use chitchat_domain::{ChatId, DomainError, UserId};
use std::collections::HashMap;
use std::sync::Arc;

/// Stores a group made by `creator` with `others`, as the service would.
pub(crate) async fn group<S: Store>(store: &S, creator: &User, others: &[&User]) -> (Chat, Appended) {
    let ids: Vec<UserId> = others.iter().map(|u| u.id).collect();
    let name = GroupName::parse("Friends").unwrap();
    let description = GroupDescription::parse("Weekend plans").unwrap();
    let (chat, planned) = new_group(creator.id, name, description, &ids, GroupPolicy::default(), now()).unwrap();
    let step = ready(chat.id, planned);
    let mut appended = store.create_group(&chat, &[step]).await.unwrap();
    assert_eq!(appended.len(), 1);
    (chat, appended.remove(0))
}

/// A planned step with a system message worded simply.
fn ready(chat: ChatId, planned: PlannedStep) -> GroupStep {
    let content = describe(&planned, &HashMap::new());
    planned.into_step(chat, content, now()).unwrap()
}

pub(crate) fn step(
    chat: ChatId,
    actor: &User,
    action: SystemAction,
    effects: Vec<GroupEffect>,
    users: &[&User],
) -> GroupStep {
    let system = SystemInfo {
        action,
        actor_id: actor.id,
        user_ids: users.iter().map(|u| u.id).collect(),
        role: None,
        call: None,
    };
    ready(chat, PlannedStep { effects, system })
}

pub(crate) async fn version<S: Store>(store: &S, chat: ChatId) -> i64 {
    ChatRepo::get(store, chat).await.unwrap().unwrap().group_version
}

fn roles(members: Vec<Member>) -> Vec<(UserId, Role)> {
    members.into_iter().map(|m| (m.user_id, m.role)).collect()
}

pub async fn groups_create_stores_members_details_and_the_created_message<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, created) = group(&store, &a, &[&b, &c]).await;

    let stored = ChatRepo::get(&store, chat.id).await.unwrap().unwrap();
    assert_eq!(stored.kind, ChatKind::Group);
    assert_eq!((stored.name.as_deref(), stored.description.as_deref()), (Some("Friends"), Some("Weekend plans")));
    assert_eq!(stored.group_version, chat.group_version + 1, "creation is the group's first change");
    assert_eq!(stored.last_event_seq, 1);

    let mut members = roles(store.members(chat.id).await.unwrap());
    members.sort_by_key(|(id, _)| *id);
    let mut expected = vec![(a.id, Role::Admin), (b.id, Role::Member), (c.id, Role::Member)];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(members, expected);

    assert_eq!((created.message.seq, created.event_seq, created.created), (1, Some(1), true));
    assert_eq!(created.message.content_type, ContentType::System);
    assert_eq!(created.message.sender_id, a.id);
    let system = created.message.system.clone().expect("a system message keeps its system info");
    assert_eq!((system.action, system.actor_id, system.user_ids), (SystemAction::GroupCreated, a.id, vec![b.id, c.id]));

    let history = store.list(chat.id, Page::new(None, None).unwrap()).await.unwrap();
    assert_eq!(history, vec![created.message.clone()], "the system message is history like any message");
    let events = store.events_after(chat.id, 0, 10).await.unwrap();
    let EventKind::Message(logged) = &events[0].kind else { panic!("a message event") };
    assert_eq!((events.len(), events[0].event_seq, logged), (1, 1, &created.message));
    let listed = store.list_for_user(b.id).await.unwrap();
    assert_eq!(listed.iter().map(|(c, _)| c.id).collect::<Vec<_>>(), vec![chat.id]);
}

pub async fn groups_change_appends_each_step_and_applies_its_effects<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, _) = group(&store, &a, &[&b, &c]).await;
    store.append(&text(chat.id, &c, "before I go", None)).await.unwrap();
    let before = version(&store, chat.id).await;

    let steps = vec![
        step(chat.id, &a, SystemAction::MemberRemoved, vec![GroupEffect::Leave(c.id)], &[&c]),
        step(
            chat.id,
            &a,
            SystemAction::RoleChanged,
            vec![GroupEffect::SetRole { user_id: b.id, role: Role::Admin }],
            &[&b],
        ),
        step(
            chat.id,
            &a,
            SystemAction::GroupUpdated,
            vec![GroupEffect::Details { name: Some("Trip".into()), description: None }],
            &[],
        ),
    ];
    let appended =
        store.change_group(&GroupChange { chat_id: chat.id, expected_version: before, steps }).await.unwrap();
    let positions: Vec<(i64, Option<i64>)> = appended.iter().map(|a| (a.message.seq, a.event_seq)).collect();
    assert_eq!(positions, vec![(3, Some(3)), (4, Some(4)), (5, Some(5))], "the next seqs, in order");
    assert!(appended.iter().all(|a| a.created && a.message.content_type == ContentType::System));

    let removed = store.member(chat.id, c.id).await.unwrap().expect("a former member keeps their row");
    assert_eq!(removed.left_at, Some(LogPosition { seq: 3, event_seq: 3 }), "left at the removal message");
    assert!(!removed.is_active());
    assert_eq!(roles(store.members(chat.id).await.unwrap()).len(), 2, "members are the active ones");
    assert_eq!(store.member(chat.id, b.id).await.unwrap().unwrap().role, Role::Admin);

    let stored = ChatRepo::get(&store, chat.id).await.unwrap().unwrap();
    assert_eq!((stored.name.as_deref(), stored.description.as_deref()), (Some("Trip"), Some("Weekend plans")));
    assert_eq!((stored.group_version, stored.last_event_seq), (before + 1, 5));
    let logged: Vec<i64> = store.events_after(chat.id, 2, 10).await.unwrap().iter().map(|e| e.event_seq).collect();
    assert_eq!(logged, vec![3, 4, 5]);

    let listed = store.list_for_user(c.id).await.unwrap();
    assert_eq!(listed.len(), 1, "a former member still lists the chat");
    assert_eq!(listed[0].1.left_at.map(|at| at.seq), Some(3));
}

pub async fn groups_change_on_a_stale_version_changes_nothing<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = group(&store, &a, &[&b]).await;
    let current = version(&store, chat.id).await;
    let leave = || vec![step(chat.id, &a, SystemAction::MemberRemoved, vec![GroupEffect::Leave(b.id)], &[&b])];
    for (chat_id, expected_version) in [(chat.id, current - 1), (chat.id, current + 1), (ChatId::new(), current)] {
        let err = store.change_group(&GroupChange { chat_id, expected_version, steps: leave() }).await.unwrap_err();
        assert!(matches!(&err, DomainError::Conflict { code, .. } if *code == GROUP_CHANGED), "{err:?}");
    }
    assert!(store.member(chat.id, b.id).await.unwrap().unwrap().is_active());
    let stored = ChatRepo::get(&store, chat.id).await.unwrap().unwrap();
    assert_eq!((stored.group_version, stored.last_event_seq), (current, 1), "no message, no event");
    assert_eq!(store.list(chat.id, Page::new(None, None).unwrap()).await.unwrap().len(), 1);
}

pub async fn groups_concurrent_changes_on_one_version_let_exactly_one_through<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let mut others = Vec::new();
    for n in 2..=7 {
        others.push(user(store.as_ref(), n, &format!("User {n}")).await);
    }
    let (chat, _) = group(store.as_ref(), &a, &others.iter().collect::<Vec<_>>()).await;
    let current = version(store.as_ref(), chat.id).await;
    let tasks: Vec<_> = others
        .iter()
        .map(|leaver| {
            let (store, a, leaver) = (store.clone(), a.clone(), leaver.clone());
            tokio::spawn(async move {
                let effects = vec![GroupEffect::Leave(leaver.id)];
                let steps = vec![step(chat.id, &a, SystemAction::MemberRemoved, effects, &[&leaver])];
                store.change_group(&GroupChange { chat_id: chat.id, expected_version: current, steps }).await.is_ok()
            })
        })
        .collect();
    let mut through = 0;
    for task in tasks {
        through += usize::from(task.await.unwrap());
    }
    assert_eq!(through, 1, "one change per version");
    assert_eq!(store.members(chat.id).await.unwrap().len(), others.len());
    assert_eq!(version(store.as_ref(), chat.id).await, current + 1);
}

pub async fn groups_rejoining_makes_a_former_member_active_again<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = group(&store, &a, &[&b]).await;
    let leave = vec![step(chat.id, &b, SystemAction::MemberLeft, vec![GroupEffect::Leave(b.id)], &[&b])];
    let v = version(&store, chat.id).await;
    store.change_group(&GroupChange { chat_id: chat.id, expected_version: v, steps: leave }).await.unwrap();
    assert!(!store.member(chat.id, b.id).await.unwrap().unwrap().is_active());

    let later = now() + chrono::Duration::seconds(3);
    let back = Member { chat_id: chat.id, user_id: b.id, role: Role::Member, joined_at: later, left_at: None };
    let join = vec![step(chat.id, &a, SystemAction::MemberAdded, vec![GroupEffect::Join(back.clone())], &[&b])];
    let v = version(&store, chat.id).await;
    store.change_group(&GroupChange { chat_id: chat.id, expected_version: v, steps: join }).await.unwrap();
    assert_eq!(store.member(chat.id, b.id).await.unwrap(), Some(back), "active again, joined anew");
    assert_eq!(store.members(chat.id).await.unwrap().len(), 2);
    assert_eq!(store.list_for_user(b.id).await.unwrap().len(), 1, "still one chat in their list");
}

pub async fn groups_only_active_members_can_append<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, _) = group(&store, &a, &[&b]).await;
    let refused = store.append(&text(chat.id, &c, "let me in", None)).await.unwrap_err();
    assert_eq!(refused, DomainError::chat_not_found(), "an outsider's message is not stored");

    let leave = vec![step(chat.id, &b, SystemAction::MemberLeft, vec![GroupEffect::Leave(b.id)], &[&b])];
    let v = version(&store, chat.id).await;
    store.change_group(&GroupChange { chat_id: chat.id, expected_version: v, steps: leave }).await.unwrap();
    let refused = store.append(&text(chat.id, &b, "one more thing", Some("late-1"))).await.unwrap_err();
    assert_eq!(refused, DomainError::chat_not_found(), "nor is a former member's");

    let stored = ChatRepo::get(&store, chat.id).await.unwrap().unwrap();
    assert_eq!(stored.last_event_seq, 2, "refused messages take no position");
    let kept = store.append(&text(chat.id, &a, "still here", None)).await.unwrap();
    assert_eq!((kept.message.seq, kept.event_seq), (3, Some(3)));
}
