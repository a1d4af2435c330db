use super::store::{direct, now, user, Store};
use chitchat_domain::message::{ClientMsgId, ContentType, MessageBody, NewMessage, Page};
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::user::User;
use chitchat_domain::{ChatId, MessageId};
use std::sync::Arc;

pub(crate) fn text(chat: ChatId, sender: &User, content: &str, client_msg_id: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::new(),
        chat_id: chat,
        sender_id: sender.id,
        content: MessageBody::parse(content.into()).unwrap(),
        content_type: ContentType::Text,
        client_msg_id: client_msg_id.map(|c| ClientMsgId::parse(c.into()).unwrap()),
        created_at: now(),
        system: None,
        reply_to_id: None,
        forwarded: false,
        attachments: Vec::new(),
    }
}

pub async fn messages_seq_is_consecutive_per_chat<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let (ac, _) = direct(&store, &a, &c).await;
    let mut seqs = Vec::new();
    for (chat, n) in [(ab.id, 1), (ab.id, 2), (ac.id, 1), (ab.id, 3)] {
        let new = text(chat, &a, &format!("m{n}"), None);
        let appended = store.append(&new).await.unwrap();
        assert!(appended.created);
        assert_eq!(appended.message.content, format!("m{n}"));
        assert_eq!(appended.message.id, new.id);
        assert_eq!(appended.message.created_at, new.created_at);
        seqs.push(appended.message.seq);
    }
    assert_eq!(seqs, vec![1, 2, 1, 3], "each chat counts from 1");
}

pub async fn messages_concurrent_appends_get_distinct_consecutive_seqs<S: Store>(store: S) {
    let store = Arc::new(store);
    let a = user(store.as_ref(), 1, "Asha").await;
    let b = user(store.as_ref(), 2, "Bilal").await;
    let (chat, _) = direct(store.as_ref(), &a, &b).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let sender = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { store.append(&text(chat.id, &sender, &format!("m{i}"), None)).await.unwrap() })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().message.seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    let history = store.list(chat.id, Page::new(None, Some(100)).unwrap()).await.unwrap();
    assert_eq!(history.len(), 20);
}

pub async fn messages_repeated_client_msg_id_returns_the_first<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let first = store.append(&text(chat.id, &a, "once", Some("cm-1"))).await.unwrap();
    let retry = store.append(&text(chat.id, &a, "once", Some("cm-1"))).await.unwrap();
    assert!(first.created);
    assert!(!retry.created, "a retry stores nothing");
    assert_eq!(retry.message, first.message);
    // Another sender may use the same key for their own message.
    let other = store.append(&text(chat.id, &b, "mine", Some("cm-1"))).await.unwrap();
    assert!(other.created);
    let key = ClientMsgId::parse("cm-1".into()).unwrap();
    assert_eq!(store.find_by_client_id(a.id, &key).await.unwrap(), Some(first.message));
    let history = store.list(chat.id, Page::new(None, None).unwrap()).await.unwrap();
    assert_eq!(history.len(), 2);
}

/// A direct chat with the messages "m1" to "m7" (seq 1 to 7).
async fn seven_messages<S: Store>(store: &S) -> ChatId {
    let a = user(store, 1, "Asha").await;
    let b = user(store, 2, "Bilal").await;
    let (chat, _) = direct(store, &a, &b).await;
    for i in 1..=7 {
        store.append(&text(chat.id, &a, &format!("m{i}"), None)).await.unwrap();
    }
    chat.id
}

async fn seqs<S: Store>(store: &S, chat: ChatId, page: Page) -> Vec<i64> {
    store.list(chat, page).await.unwrap().into_iter().map(|m| m.seq).collect()
}

pub async fn messages_history_is_newest_first_and_paged<S: Store>(store: S) {
    let chat = seven_messages(&store).await;
    assert_eq!(seqs(&store, chat, Page::new(None, Some(3)).unwrap()).await, vec![7, 6, 5]);
    assert_eq!(seqs(&store, chat, Page::new(Some(3), Some(3)).unwrap()).await, vec![4, 3, 2]);
    assert_eq!(seqs(&store, chat, Page::new(Some(6), Some(3)).unwrap()).await, vec![1]);
    assert!(store.list(ChatId::new(), Page::new(None, None).unwrap()).await.unwrap().is_empty());
}

pub async fn messages_history_can_end_at_a_seq<S: Store>(store: S) {
    let chat = seven_messages(&store).await;
    let until_5 = Page::new(None, Some(3)).unwrap().up_to(5);
    assert_eq!(seqs(&store, chat, until_5).await, vec![5, 4, 3]);
    let next = Page::new(Some(3), Some(3)).unwrap().up_to(5);
    assert_eq!(seqs(&store, chat, next).await, vec![2, 1]);
    let newest = Page { offset: 0, limit: 1, max_seq: Some(2), after_seq: None, viewer: None };
    assert_eq!(seqs(&store, chat, newest).await, vec![2]);
}

pub async fn messages_last_message_per_chat<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let (ac, _) = direct(&store, &a, &c).await;
    let (bc, _) = direct(&store, &b, &c).await;
    store.append(&text(ab.id, &a, "old", None)).await.unwrap();
    store.append(&text(ab.id, &b, "newest ab", None)).await.unwrap();
    store.append(&text(ac.id, &c, "newest ac", None)).await.unwrap();
    let mut last: Vec<String> =
        store.last_messages(&[ab.id, ac.id, bc.id]).await.unwrap().into_iter().map(|m| m.content).collect();
    last.sort();
    assert_eq!(last, vec!["newest ab".to_owned(), "newest ac".to_owned()]);
    assert!(store.last_messages(&[]).await.unwrap().is_empty());
}

pub async fn messages_are_logged_as_events_replayable_in_order<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let mut logged = Vec::new();
    for i in 1..=5 {
        let appended = store.append(&text(chat.id, &a, &format!("m{i}"), Some(&format!("c{i}")))).await.unwrap();
        logged.push(appended.event_seq.expect("a new message is logged"));
    }
    assert_eq!(logged, vec![1, 2, 3, 4, 5]);
    let retry = store.append(&text(chat.id, &a, "m1", Some("c1"))).await.unwrap();
    assert_eq!(retry.event_seq, None, "a retry logs nothing");

    let events = store.events_after(chat.id, 2, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.event_seq).collect::<Vec<_>>(), vec![3, 4, 5]);
    let first = &events[0];
    assert_eq!((first.room_id, first.actor), (chat.id, a.id));
    match &first.kind {
        chitchat_domain::event::EventKind::Message(m) => assert_eq!((m.content.as_str(), m.seq), ("m3", 3)),
        other => panic!("expected a message event, got {other:?}"),
    }
    assert_eq!(store.events_after(chat.id, 0, 2).await.unwrap().len(), 2, "limit is honoured");
    assert!(store.events_after(chat.id, 5, 100).await.unwrap().is_empty());
    let stored_chat = chitchat_domain::ports::ChatRepo::get(&store, chat.id).await.unwrap().unwrap();
    assert_eq!(stored_chat.last_event_seq, 5);
}

pub async fn messages_pages_by_cursor_are_stable<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    for i in 1..=6 {
        store.append(&text(chat.id, &a, &format!("m{i}"), None)).await.unwrap();
    }
    let seqs = |page: Vec<chitchat_domain::message::Message>| page.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    let cursor = |before_seq, after_seq| chitchat_domain::message::Cursor { before_seq, after_seq };
    let page = Page::new(None, Some(2)).unwrap();
    let older = page.with_cursor(cursor(Some(5), None)).unwrap();
    assert_eq!(seqs(store.list(chat.id, older).await.unwrap()), vec![4, 3]);
    let newer = page.with_cursor(cursor(None, Some(2))).unwrap();
    assert_eq!(seqs(store.list(chat.id, newer).await.unwrap()), vec![3, 4], "oldest first after a position");
    // New messages do not shift a cursor page.
    store.append(&text(chat.id, &a, "m7", None)).await.unwrap();
    assert_eq!(seqs(store.list(chat.id, older).await.unwrap()), vec![4, 3]);
}

pub async fn messages_sent_event_seq_names_the_logged_send<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let first = store.append(&text(chat.id, &a, "first", Some("c1"))).await.unwrap();
    // Other events in between: a receipt, then another message.
    let now = first.message.created_at;
    store.advance(chat.id, b.id, ReceiptKind::Read, 1, now, &[a.id, b.id]).await.unwrap();
    let second = store.append(&text(chat.id, &b, "second", None)).await.unwrap();
    assert_eq!(store.sent_event_seq(chat.id, first.message.id).await.unwrap(), first.event_seq);
    assert_eq!(store.sent_event_seq(chat.id, second.message.id).await.unwrap(), second.event_seq);
    assert_ne!(first.event_seq, second.event_seq);
    assert_eq!(store.sent_event_seq(chat.id, MessageId::new()).await.unwrap(), None, "an unknown message");
    let (other, _) = direct(&store, &a, &user(&store, 3, "Chen").await).await;
    assert_eq!(store.sent_event_seq(other.id, first.message.id).await.unwrap(), None, "another chat's log");
}
