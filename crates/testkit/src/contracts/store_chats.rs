use super::store::{direct, now, user, Store};
use super::store_messages::text;
use chitchat_domain::chat::{direct_key, new_direct, ChatKind, Role};
use chitchat_domain::message::{ContentType, MessageBody, NewMessage};
use chitchat_domain::ports::ChatRepo;
use chitchat_domain::{ChatId, MessageId, UserId};
use std::sync::Arc;

pub async fn chats_direct_is_idempotent_by_key<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (first, _) = direct(&store, &a, &b).await;
    let (second, _) = direct(&store, &b, &a).await;
    assert_eq!(first, second, "the same pair always gets the same chat");
    assert_eq!(first.kind, ChatKind::Direct);
    assert_eq!(store.members(first.id).await.unwrap().len(), 2);
}

pub async fn chats_concurrent_direct_creation_yields_one_chat<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let (x, y) = if i % 2 == 0 { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) };
            tokio::spawn(async move {
                let (chat, members) = new_direct(x.id, y.id, now()).unwrap();
                store.create_direct(&chat, &members, &direct_key(x.id, y.id)).await.unwrap().id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one chat for the pair: {ids:?}");
    assert_eq!(store.list_for_user(a.id).await.unwrap().len(), 1);
}

pub async fn chats_members_and_membership<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let members = store.members(chat.id).await.unwrap();
    let mut ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
    ids.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(members.iter().all(|m| m.role == Role::Member && m.chat_id == chat.id));
    assert_eq!(store.member(chat.id, a.id).await.unwrap().map(|m| m.user_id), Some(a.id));
    assert_eq!(store.member(chat.id, c.id).await.unwrap(), None, "outsiders are not members");
    assert_eq!(store.member(ChatId::new(), a.id).await.unwrap(), None);
    assert_eq!(ChatRepo::get(&store, chat.id).await.unwrap(), Some(chat));
    assert_eq!(ChatRepo::get(&store, ChatId::new()).await.unwrap(), None);
}

pub async fn chats_list_for_user_only_their_chats_by_activity<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let (ac, _) = direct(&store, &a, &c).await;
    let (bc, _) = direct(&store, &b, &c).await;
    // A message in the older chat makes it the most recent.
    let later = now() + chrono::Duration::seconds(5);
    store
        .append(&NewMessage {
            id: MessageId::new(),
            chat_id: ab.id,
            sender_id: a.id,
            content: MessageBody::parse("hi".into()).unwrap(),
            content_type: ContentType::Text,
            client_msg_id: None,
            created_at: later,
            system: None,
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        })
        .await
        .unwrap();
    let listed = store.list_for_user(a.id).await.unwrap();
    let ids: Vec<ChatId> = listed.iter().map(|(c, _)| c.id).collect();
    assert_eq!(ids, vec![ab.id, ac.id]);
    assert!(listed.iter().all(|(c, m)| m.user_id == a.id && m.chat_id == c.id && m.is_active()));
    assert!(!ids.contains(&bc.id));
}

pub async fn chats_correspondents_are_those_who_wrote_in_a_chat_with_the_user<S: Store>(store: S) {
    use super::store_groups::{group, step, version};
    use super::store_messages::text;
    use chitchat_domain::chat::{GroupChange, GroupEffect};
    use chitchat_domain::message::SystemAction;
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await; // both wrote in their direct chat
    let c = user(&store, 3, "Chen").await; // only Chen wrote to Asha
    let d = user(&store, 4, "Dara").await; // a direct chat nobody wrote in
    let e = user(&store, 5, "Emil").await; // wrote in the group, then was removed
    let f = user(&store, 6, "Fay").await; // made the group: system messages only
    let g = user(&store, 7, "Gita").await; // wrote in the group
    let (ab, _) = direct(&store, &a, &b).await;
    store.append(&text(ab.id, &a, "hi", None)).await.unwrap();
    store.append(&text(ab.id, &b, "hello", None)).await.unwrap();
    let (ac, _) = direct(&store, &a, &c).await;
    store.append(&text(ac.id, &c, "buy my stuff", None)).await.unwrap();
    store.append(&text(ac.id, &c, "please", None)).await.unwrap();
    direct(&store, &a, &d).await;
    let (team, _) = group(&store, &f, &[&a, &e, &g]).await;
    store.append(&text(team.id, &a, "morning", None)).await.unwrap();
    store.append(&text(team.id, &e, "morning", None)).await.unwrap();
    store.append(&text(team.id, &g, "morning", None)).await.unwrap();
    let removal = step(team.id, &f, SystemAction::MemberRemoved, vec![GroupEffect::Leave(e.id)], &[&e]);
    let expected_version = version(&store, team.id).await;
    store.change_group(&GroupChange { chat_id: team.id, expected_version, steps: vec![removal] }).await.unwrap();

    let sorted = |mut ids: Vec<UserId>| {
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(store.correspondents(a.id).await.unwrap()),
        sorted(vec![b.id, g.id]),
        "not Chen (only one side wrote), Dara (nobody wrote), Emil (left) or Fay (system messages only)"
    );
    assert_eq!(store.correspondents(b.id).await.unwrap(), vec![a.id], "the relation is symmetric");
    assert!(store.correspondents(c.id).await.unwrap().is_empty());
    assert!(store.correspondents(d.id).await.unwrap().is_empty());
    assert!(store.correspondents(e.id).await.unwrap().is_empty(), "a former member has none there");
    assert!(store.correspondents(f.id).await.unwrap().is_empty());
}

pub async fn chats_partners_are_the_active_members_of_the_users_chats<S: Store>(store: S) {
    use super::store_groups::{group, step, version};
    use chitchat_domain::chat::{GroupChange, GroupEffect};
    use chitchat_domain::message::SystemAction;
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await; // a direct chat nobody wrote in
    let c = user(&store, 3, "Chen").await; // in the group
    let d = user(&store, 4, "Dara").await; // removed from the group
    let e = user(&store, 5, "Emil").await; // no chat with Asha
    direct(&store, &a, &b).await;
    direct(&store, &b, &e).await;
    let (team, _) = group(&store, &a, &[&c, &d]).await;
    let removal = step(team.id, &a, SystemAction::MemberRemoved, vec![GroupEffect::Leave(d.id)], &[&d]);
    let expected_version = version(&store, team.id).await;
    store.change_group(&GroupChange { chat_id: team.id, expected_version, steps: vec![removal] }).await.unwrap();
    let sorted = |mut ids: Vec<UserId>| {
        ids.sort();
        ids
    };
    assert_eq!(sorted(store.partners(a.id).await.unwrap()), sorted(vec![b.id, c.id]), "not Dara (left) or Emil");
    assert_eq!(store.partners(c.id).await.unwrap(), vec![a.id], "once each, symmetric");
    assert!(store.partners(d.id).await.unwrap().is_empty(), "a former member has none there");
    assert_eq!(store.partners(e.id).await.unwrap(), vec![b.id]);
}

pub async fn chat_settings_are_per_person_and_new_messages_unarchive_unmuted_chats<S: Store>(store: S) {
    use chitchat_domain::chat::ChatSettings;
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    assert!(store.settings(a.id, &[chat.id]).await.unwrap().is_empty(), "nothing set yet");
    let muted_until = now() + chrono::Duration::hours(8);
    let asha = ChatSettings { archived: true, muted_until: None, pinned: true };
    let bilal = ChatSettings { archived: true, muted_until: Some(muted_until), pinned: false };
    store.put_settings(chat.id, a.id, &asha).await.unwrap();
    store.put_settings(chat.id, b.id, &bilal).await.unwrap();
    assert_eq!(store.settings(a.id, &[chat.id]).await.unwrap(), vec![(chat.id, asha)]);

    // The store brings a chat back from archives as it stores a new message.
    let sent_at = |at| NewMessage { created_at: at, ..text(chat.id, &a, "hi", None) };
    store.send(&sent_at(now())).await.unwrap();
    let asha_now = store.settings(a.id, &[chat.id]).await.unwrap()[0].1;
    assert_eq!(asha_now, ChatSettings { archived: false, ..asha }, "not muted: back in the list, still pinned");
    assert_eq!(store.settings(b.id, &[chat.id]).await.unwrap()[0].1, bilal, "muted: stays archived");
    store.send(&sent_at(muted_until + chrono::Duration::seconds(1))).await.unwrap();
    assert!(!store.settings(b.id, &[chat.id]).await.unwrap()[0].1.archived, "once the mute ends, it comes back too");
}
