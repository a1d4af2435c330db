use super::store::{direct, now, user, Store};
use super::store_groups::group;
use chitchat_domain::event::EventKind;
use chitchat_domain::message::{ContentType, MessageBody, NewMessage};
use chitchat_domain::ports::ChatRepo;
use chitchat_domain::receipt::ReceiptKind;
use chitchat_domain::user::User;
use chitchat_domain::{ChatId, MessageId};
use chrono::Duration;

async fn send<S: Store>(store: &S, chat: ChatId, sender: &User, n: usize) {
    for i in 0..n {
        let message = NewMessage {
            id: MessageId::new(),
            chat_id: chat,
            sender_id: sender.id,
            content: MessageBody::parse(format!("m{i}")).unwrap(),
            content_type: ContentType::Text,
            client_msg_id: None,
            created_at: now(),
            system: None,
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        };
        store.append(&message).await.unwrap();
    }
}

pub async fn receipts_positions_only_move_forward_and_log_each_move<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    send(&store, chat.id, &a, 5).await;
    let members = [a.id, b.id];

    let moved = store.advance(chat.id, b.id, ReceiptKind::Delivered, 3, now(), &members).await.unwrap();
    let event = moved.expect("a forward move is logged");
    assert_eq!(event.event_seq, 6, "after the five message events");
    let EventKind::StatusUpdate(update) = &event.kind else { panic!("a status update") };
    assert_eq!((update.user_id, update.delivered_seq, update.read_seq), (b.id, 3, 0));
    assert_eq!((update.chat.delivered_seq, update.chat.read_seq), (3, 0), "the sender has all; Bilal has 3");

    assert!(
        store.advance(chat.id, b.id, ReceiptKind::Delivered, 2, now(), &members).await.unwrap().is_none(),
        "never back"
    );
    let read = store.advance(chat.id, b.id, ReceiptKind::Read, 4, now(), &members).await.unwrap().unwrap();
    let EventKind::StatusUpdate(update) = &read.kind else { panic!("a status update") };
    assert_eq!((update.delivered_seq, update.read_seq), (4, 4), "reading implies receiving");

    let beyond = store.advance(chat.id, b.id, ReceiptKind::Read, 99, now(), &members).await.unwrap().unwrap();
    let EventKind::StatusUpdate(update) = &beyond.kind else { panic!("a status update") };
    assert_eq!(update.read_seq, 5, "capped at the newest message");

    let logged = store.events_after(chat.id, 5, 10).await.unwrap();
    assert_eq!(logged.len(), 3, "three moves, three events");
    assert_eq!(logged[2].kind, beyond.kind, "replayed exactly as published");
    assert_eq!(ChatRepo::get(&store, chat.id).await.unwrap().unwrap().last_event_seq, 8);
}

pub async fn receipts_sending_moves_the_senders_own_position<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    send(&store, chat.id, &a, 2).await;
    let positions = store.positions(chat.id).await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!((positions[0].user_id, positions[0].delivered_seq, positions[0].read_seq), (a.id, 2, 2));
}

pub async fn receipts_tell_when_each_member_first_had_and_read_a_message<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    send(&store, chat.id, &a, 4).await;
    let members = [a.id, b.id];
    let t1 = now();
    let t2 = t1 + Duration::seconds(10);
    store.advance(chat.id, b.id, ReceiptKind::Delivered, 2, t1, &members).await.unwrap();
    store.advance(chat.id, b.id, ReceiptKind::Read, 4, t2, &members).await.unwrap();

    let for_second = store.receipts(chat.id, 2).await.unwrap();
    let bilal = for_second.iter().find(|r| r.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(t1), Some(t2)));
    let for_fourth = store.receipts(chat.id, 4).await.unwrap();
    let bilal = for_fourth.iter().find(|r| r.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(t2), Some(t2)), "delivered by the read at t2");
}

pub async fn receipts_count_writing_after_a_message_as_having_read_it<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    send(&store, chat.id, &a, 2).await;
    let members = [a.id, b.id];
    let t1 = now();
    store.advance(chat.id, b.id, ReceiptKind::Delivered, 1, t1, &members).await.unwrap();
    // Bilal answers without reporting anything more: he has had and read both.
    send(&store, chat.id, &b, 1).await;
    let answered = store.last_messages(&[chat.id]).await.unwrap()[0].created_at;

    let for_first = store.receipts(chat.id, 1).await.unwrap();
    let bilal = for_first.iter().find(|r| r.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(t1), Some(answered)), "the report is earlier");
    let for_second = store.receipts(chat.id, 2).await.unwrap();
    let bilal = for_second.iter().find(|r| r.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(answered), Some(answered)));
    assert!(store.receipts(chat.id, 3).await.unwrap().iter().all(|r| r.user_id != b.id), "not for his own");
}

pub async fn receipts_a_repeated_or_older_report_changes_nothing<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    send(&store, chat.id, &a, 5).await;
    let members = [a.id, b.id];
    let t1 = now();
    let later = |s| t1 + Duration::seconds(s);

    store.advance(chat.id, b.id, ReceiptKind::Delivered, 4, t1, &members).await.unwrap().unwrap();
    for (kind, seq) in [(ReceiptKind::Delivered, 4), (ReceiptKind::Delivered, 3)] {
        let moved = store.advance(chat.id, b.id, kind, seq, later(1), &members).await.unwrap();
        assert!(moved.is_none(), "{kind:?} {seq} again or older moved something: {moved:?}");
    }
    // Reading less than was received moves the read position only.
    let read = store.advance(chat.id, b.id, ReceiptKind::Read, 2, later(2), &members).await.unwrap().unwrap();
    let EventKind::StatusUpdate(update) = &read.kind else { panic!("a status update") };
    assert_eq!((update.delivered_seq, update.read_seq), (4, 2));
    assert!(store.advance(chat.id, b.id, ReceiptKind::Read, 2, later(3), &members).await.unwrap().is_none());

    let positions = store.positions(chat.id).await.unwrap();
    let bilal = positions.iter().find(|p| p.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_seq, bilal.read_seq), (4, 2));
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(t1), Some(later(2))), "the times of the first reports");
    let for_fourth = store.receipts(chat.id, 4).await.unwrap();
    let bilal = for_fourth.iter().find(|r| r.user_id == b.id).unwrap();
    assert_eq!((bilal.delivered_at, bilal.read_at), (Some(t1), None), "received, not read");
    assert_eq!(store.events_after(chat.id, 5, 10).await.unwrap().len(), 2, "two moves, two events");
}

pub async fn receipts_arriving_together_each_log_their_move_in_order<S: Store>(store: S) {
    let creator = user(&store, 1, "Asha").await;
    let mut others = Vec::new();
    for n in 2..=13 {
        others.push(user(&store, n, &format!("Member {n}")).await);
    }
    let (chat, _) = group(&store, &creator, &others.iter().collect::<Vec<_>>()).await;
    send(&store, chat.id, &creator, 3).await;
    let before = ChatRepo::get(&store, chat.id).await.unwrap().unwrap().last_event_seq;
    // The sender's own position is the newest message.
    let last = store.positions(chat.id).await.unwrap().iter().map(|p| p.read_seq).max().unwrap();
    let mut members = vec![creator.id];
    members.extend(others.iter().map(|u| u.id));

    // Every member but the last reads everything at once, as a group's devices do
    // when a message comes in; they may be stored together.
    let readers = &others[..others.len() - 1];
    let reads = readers.iter().map(|u| store.advance(chat.id, u.id, ReceiptKind::Read, last, now(), &members));
    let moved: Vec<_> = futures_util::future::join_all(reads).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
    let mut event_seqs: Vec<i64> = moved.iter().map(|e| e.event_seq).collect();
    event_seqs.sort_unstable();
    let expected: Vec<i64> = (before + 1..=before + readers.len() as i64).collect();
    assert_eq!(event_seqs, expected, "one event each, no number taken twice or skipped");

    let logged = store.events_after(chat.id, before, 100).await.unwrap();
    assert_eq!(logged.len(), readers.len());
    for event in &logged {
        let published = moved.iter().find(|e| e.event_seq == event.event_seq).unwrap();
        assert_eq!(event.kind, published.kind, "the log holds what each caller published");
    }
    let EventKind::StatusUpdate(newest) = &logged[logged.len() - 1].kind else { panic!("a status update") };
    assert_eq!((newest.chat.delivered_seq, newest.chat.read_seq), (0, 0), "one member has not reported yet");

    let straggler = others.last().unwrap();
    let done = store.advance(chat.id, straggler.id, ReceiptKind::Read, last, now(), &members).await.unwrap().unwrap();
    let EventKind::StatusUpdate(done) = &done.kind else { panic!("a status update") };
    assert_eq!((done.chat.delivered_seq, done.chat.read_seq), (last, last), "everyone has read everything");
    let positions = store.positions(chat.id).await.unwrap();
    assert_eq!(positions.len(), members.len());
    assert!(positions.iter().all(|p| (p.delivered_seq, p.read_seq) == (last, last)), "{positions:?}");
    assert_eq!(ChatRepo::get(&store, chat.id).await.unwrap().unwrap().last_event_seq, before + others.len() as i64);
    let receipts = store.receipts(chat.id, last).await.unwrap();
    assert_eq!(receipts.len(), others.len(), "each reader has a time");
    assert!(receipts.iter().all(|r| r.read_at.is_some() && r.delivered_at.is_some()));
}
