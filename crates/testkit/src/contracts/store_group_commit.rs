//! `MessageRepo::send` under concurrency: a store may commit many sends in one
//! transaction (group commit), and must keep every guarantee of a single send.

use super::store::{direct, now, user, Store};
use super::store_messages::text;
use chitchat_domain::chat::ChatSettings;
use chitchat_domain::message::{Message, Page, SendOutcome};
use chitchat_domain::user::User;
use chitchat_domain::ChatId;
use std::collections::HashMap;
use std::sync::Arc;

/// Sends all of `sends` (chat, sender, client_msg_id) at once; the outcomes, in order.
async fn send_at_once<S: Store>(store: &Arc<S>, sends: Vec<(ChatId, User, Option<String>)>) -> Vec<SendOutcome> {
    let tasks: Vec<_> = sends
        .into_iter()
        .enumerate()
        .map(|(i, (chat, sender, key))| {
            let store = store.clone();
            tokio::spawn(async move { store.send(&text(chat, &sender, &format!("m{i}"), key.as_deref())).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().unwrap());
    }
    outcomes
}

/// The stored messages and event_seqs of outcomes that must all be `Stored`.
fn stored(outcomes: Vec<SendOutcome>) -> Vec<(Message, i64)> {
    outcomes
        .into_iter()
        .map(|o| match o {
            SendOutcome::Stored { message, event_seq, .. } => (message, event_seq),
            other => panic!("expected the message to be stored, got {other:?}"),
        })
        .collect()
}

/// Every acknowledged message is in the chat's history exactly as acknowledged,
/// and the chat holds nothing else.
async fn history_matches<S: Store>(store: &S, chat: ChatId, acked: &[&Message]) {
    let history = store.list(chat, Page::new(None, Some(100)).unwrap()).await.unwrap();
    assert_eq!(history.len(), acked.len(), "the chat holds exactly the acknowledged messages");
    let by_id: HashMap<_, _> = history.iter().map(|m| (m.id, m)).collect();
    for message in acked {
        let found = by_id.get(&message.id).expect("an acknowledged message is stored");
        assert_eq!((found.seq, &found.content, found.sender_id), (message.seq, &message.content, message.sender_id));
    }
}

pub async fn sends_at_once_to_one_chat_get_gap_free_numbers_and_are_all_stored<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let (chat, _) = direct(store.as_ref(), &a, &b).await;
    let sends = (0..60).map(|i| (chat.id, if i % 2 == 0 { a.clone() } else { b.clone() }, None)).collect();
    let outcomes = send_at_once(&store, sends).await;
    for outcome in &outcomes {
        let SendOutcome::Stored { recipients, .. } = outcome else { panic!("not stored: {outcome:?}") };
        let mut recipients = recipients.clone();
        recipients.sort();
        let mut members = vec![a.id, b.id];
        members.sort();
        assert_eq!(recipients, members, "every member gets the message live");
    }
    let stored = stored(outcomes);
    let mut seqs: Vec<i64> = stored.iter().map(|(m, _)| m.seq).collect();
    let mut event_seqs: Vec<i64> = stored.iter().map(|(_, e)| *e).collect();
    seqs.sort_unstable();
    event_seqs.sort_unstable();
    assert_eq!(seqs, (1..=60).collect::<Vec<i64>>(), "seqs are unique and without gaps");
    assert_eq!(event_seqs, (1..=60).collect::<Vec<i64>>(), "event_seqs are unique and without gaps");
    history_matches(store.as_ref(), chat.id, &stored.iter().map(|(m, _)| m).collect::<Vec<_>>()).await;
    // The log replays each message at the position its sender was told.
    let events = store.events_after(chat.id, 0, 100).await.unwrap();
    let logged: HashMap<i64, _> = events.iter().map(|e| (e.event_seq, e)).collect();
    for (message, event_seq) in &stored {
        let event = logged.get(event_seq).expect("the acknowledged event_seq is logged");
        assert!(matches!(&event.kind, chitchat_domain::event::EventKind::Message(m) if m.id == message.id));
    }
}

pub async fn sends_at_once_to_many_chats_number_each_chat_on_its_own<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let mut chats = Vec::new();
    for n in 0..8 {
        let other = user(store.as_ref(), 10 + n, &format!("Friend {n}")).await;
        chats.push(direct(store.as_ref(), &a, &other).await.0.id);
    }
    let sends = (0..80).map(|i| (chats[i % chats.len()], a.clone(), Some(format!("k{i}")))).collect();
    let stored = stored(send_at_once(&store, sends).await);
    for chat in &chats {
        let mine: Vec<&Message> = stored.iter().map(|(m, _)| m).filter(|m| m.chat_id == *chat).collect();
        let mut seqs: Vec<i64> = mine.iter().map(|m| m.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=10).collect::<Vec<i64>>(), "each chat counts from 1 without gaps");
        history_matches(store.as_ref(), *chat, &mine).await;
    }
}

pub async fn one_client_msg_id_sent_many_times_at_once_is_stored_once<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let (chat, _) = direct(store.as_ref(), &a, &b).await;
    let sends = (0..20).map(|_| (chat.id, a.clone(), Some("same-key".to_owned()))).collect();
    let outcomes = send_at_once(&store, sends).await;
    let mut first = None;
    let mut duplicates = Vec::new();
    for outcome in outcomes {
        match outcome {
            SendOutcome::Stored { message, .. } => assert!(first.replace(message).is_none(), "stored twice"),
            SendOutcome::Duplicate(message) => duplicates.push(message),
            other => panic!("unexpected {other:?}"),
        }
    }
    let first = first.expect("stored once");
    assert_eq!(duplicates.len(), 19);
    assert!(duplicates.iter().all(|d| d.id == first.id && d.seq == 1), "every retry gets the first message");
    history_matches(store.as_ref(), chat.id, &[&first]).await;
    // A later retry, alone, finds it too.
    let again = store.send(&text(chat.id, &a, "again", Some("same-key"))).await.unwrap();
    assert_eq!(again, SendOutcome::Duplicate(first));
}

pub async fn a_client_msg_id_is_a_duplicate_only_for_the_sender_who_used_it<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let (chat, _) = direct(store.as_ref(), &a, &b).await;
    let first = stored(send_at_once(&store, vec![(chat.id, a.clone(), Some("k1".to_owned()))]).await).remove(0).0;
    // At once: Asha's new key, Bilal's use of Asha's key, Asha's retry of it.
    let sends = vec![
        (chat.id, a.clone(), Some("k2".to_owned())),
        (chat.id, b.clone(), Some("k1".to_owned())),
        (chat.id, a.clone(), Some("k1".to_owned())),
    ];
    let mut outcomes = send_at_once(&store, sends).await;
    assert_eq!(outcomes.pop(), Some(SendOutcome::Duplicate(first.clone())), "Asha's retry gets her first message");
    let new = stored(outcomes);
    assert_eq!((new[0].0.sender_id, new[1].0.sender_id), (a.id, b.id));
    assert_ne!(new[1].0.id, first.id, "Bilal's k1 is a message of its own");
    history_matches(store.as_ref(), chat.id, &[&first, &new[0].0, &new[1].0]).await;
}

pub async fn refused_sends_in_a_batch_leave_no_gap_and_fail_no_one_else<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let stranger = user(store.as_ref(), 3, "Chen").await;
    let blocked = user(store.as_ref(), 4, "Dara").await;
    let (ab, _) = direct(store.as_ref(), &a, &b).await;
    let (ad, _) = direct(store.as_ref(), &a, &blocked).await;
    store.block(a.id, blocked.id, now()).await.unwrap();
    let mut sends = Vec::new();
    for i in 0..10 {
        sends.push((ab.id, a.clone(), None));
        sends.push((ab.id, stranger.clone(), None));
        sends.push((ad.id, blocked.clone(), Some(format!("d{i}"))));
        sends.push((ad.id, a.clone(), None));
    }
    let outcomes = send_at_once(&store, sends).await;
    let mut acked: HashMap<ChatId, Vec<Message>> = HashMap::new();
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match (i % 4, outcome) {
            (0 | 3, SendOutcome::Stored { message, .. }) => acked.entry(message.chat_id).or_default().push(message),
            (1, SendOutcome::NotAMember) | (2, SendOutcome::Blocked) => {}
            (kind, other) => panic!("send of kind {kind}: unexpected {other:?}"),
        }
    }
    for chat in [ab.id, ad.id] {
        let mine = &acked[&chat];
        let mut seqs: Vec<i64> = mine.iter().map(|m| m.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=10).collect::<Vec<i64>>(), "refused sends take no number");
        history_matches(store.as_ref(), chat, &mine.iter().collect::<Vec<_>>()).await;
    }
    // The one who blocks may still write; `append` (used for forwarding, which
    // checks blocks itself) does not check them.
    let appended = store.append(&text(ad.id, &blocked, "forwarded", None)).await.unwrap();
    assert_eq!(appended.message.seq, 11);
}

pub async fn a_send_brings_back_a_chat_archived_without_muting<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let archived = ChatSettings { archived: true, muted_until: None, pinned: false };
    let muted = ChatSettings { archived: true, muted_until: Some(now() + chrono::Duration::hours(8)), pinned: false };
    store.put_settings(chat.id, a.id, &archived).await.unwrap();
    store.put_settings(chat.id, b.id, &muted).await.unwrap();
    let sent = store.send(&text(chat.id, &a, "hi", None)).await.unwrap();
    assert!(matches!(sent, SendOutcome::Stored { .. }));
    assert!(!store.settings(a.id, &[chat.id]).await.unwrap()[0].1.archived, "not muted: back in the list");
    assert_eq!(store.settings(b.id, &[chat.id]).await.unwrap()[0].1, muted, "muted: stays archived");
    // The sender has read their own message.
    let positions = store.positions(chat.id).await.unwrap();
    let own = positions.iter().find(|p| p.user_id == a.id).expect("the sender has a position");
    assert_eq!((own.delivered_seq, own.read_seq), (1, 1));
}

pub async fn one_devices_sends_in_a_row_are_stored_in_order_and_each_answered<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let (elsewhere, _) = direct(&store, &b, &c).await;
    let messages = vec![
        text(chat.id, &a, "one", Some("k1")),
        text(elsewhere.id, &a, "not my chat", None),
        text(chat.id, &a, "two", Some("k2")),
        text(chat.id, &a, "one again", Some("k1")),
        text(chat.id, &a, "three", None),
    ];
    let outcomes: Vec<SendOutcome> = store.send_all(&messages).await.into_iter().map(Result::unwrap).collect();
    let [first, refused, second, again, third] = <[SendOutcome; 5]>::try_from(outcomes).unwrap();
    assert!(matches!(refused, SendOutcome::NotAMember), "{refused:?}");
    let SendOutcome::Duplicate(repeated) = again else { panic!("a repeated key is a duplicate: {again:?}") };
    let stored = stored(vec![first, second, third]);
    let seqs: Vec<i64> = stored.iter().map(|(m, _)| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3], "numbered in the order sent, the refused and the repeated taking none");
    assert_eq!(repeated.id, stored[0].0.id, "the first message under that key");
    let acked: Vec<&Message> = stored.iter().map(|(m, _)| m).collect();
    history_matches(&store, chat.id, &acked).await;
    assert!(store.list(elsewhere.id, Page::new(None, Some(10)).unwrap()).await.unwrap().is_empty());
}
