use super::store::{direct, now, user, Store};
use super::store_groups::{group, step, version};
use super::store_messages::text;
use chitchat_domain::chat::{GroupChange, GroupEffect};
use chitchat_domain::event::{ChatEvent, EventKind, MessageUpdate};
use chitchat_domain::message::{Emoji, Message, MessageBody, NewMessage, Page, SystemAction, UpdateAction};
use chitchat_domain::ports::{ChatRepo, MessageRepo};
use chitchat_domain::user::User;
use chitchat_domain::{ChatId, DomainError};
use chrono::Duration;

/// Stores `new` and returns the message as stored.
async fn sent<S: Store>(store: &S, new: NewMessage) -> Message {
    store.append(&new).await.unwrap().message
}

fn update(event: &ChatEvent) -> &MessageUpdate {
    match &event.kind {
        EventKind::MessageUpdate(update) => update,
        other => panic!("expected a message_update, got {other:?}"),
    }
}

async fn last_event_seq<S: Store>(store: &S, chat: ChatId) -> i64 {
    ChatRepo::get(store, chat).await.unwrap().unwrap().last_event_seq
}

fn emoji(raw: &str) -> Option<Emoji> {
    Some(Emoji::parse(raw.into()).unwrap())
}

/// Two people in a direct chat.
async fn pair<S: Store>(store: &S) -> (User, User, ChatId) {
    let a = user(store, 1, "Asha").await;
    let b = user(store, 2, "Bilal").await;
    let (chat, _) = direct(store, &a, &b).await;
    (a, b, chat.id)
}

pub async fn messages_replies_carry_a_preview_of_the_original<S: Store>(store: S) {
    let (a, b, chat) = pair(&store).await;
    let long = "é".repeat(150);
    let original = sent(&store, text(chat, &a, &long, None)).await;
    let reply = store.append(&NewMessage { reply_to_id: Some(original.id), ..text(chat, &b, "agreed", None) }).await;
    let reply = reply.unwrap().message;
    let preview = reply.reply_to.clone().expect("the reply carries its original");
    assert_eq!((preview.id, preview.sender_id, preview.deleted), (original.id, a.id, false));
    assert_eq!(preview.preview.as_deref(), Some("é".repeat(100).as_str()), "the first 100 characters");
    assert_eq!(MessageRepo::get(&store, reply.id).await.unwrap().unwrap(), reply);
    assert_eq!(store.list(chat, Page::new(None, Some(1)).unwrap()).await.unwrap(), vec![reply.clone()]);
    assert!(original.reply_to.is_none());

    store.delete_for_everyone(&original, a.id, now()).await.unwrap().unwrap();
    let history = store.list(chat, Page::new(None, None).unwrap()).await.unwrap();
    let preview = history[0].reply_to.clone().unwrap();
    assert_eq!((preview.preview, preview.deleted), (None, true), "a deleted original shows as deleted");
    let replayed = store.events_after(chat, 1, 1).await.unwrap();
    let EventKind::Message(replayed) = &replayed[0].kind else { panic!("the reply's message event") };
    assert!(replayed.reply_to.as_ref().is_some_and(|p| p.deleted), "replays read the original as it now is");
}

pub async fn messages_forwarded_copies_are_marked<S: Store>(store: S) {
    let (a, _, chat) = pair(&store).await;
    let copy = sent(&store, NewMessage { forwarded: true, ..text(chat, &a, "look at this", None) }).await;
    let own = sent(&store, text(chat, &a, "and this is mine", None)).await;
    assert!(copy.forwarded && !own.forwarded);
    let history = store.list(chat, Page::new(None, None).unwrap()).await.unwrap();
    assert_eq!(history.iter().map(|m| m.forwarded).collect::<Vec<_>>(), vec![false, true]);
}

pub async fn messages_edits_keep_earlier_versions_and_are_logged<S: Store>(store: S) {
    let (a, _, chat) = pair(&store).await;
    let original = sent(&store, text(chat, &a, "v1", None)).await;
    let (t1, t2) = (now(), now() + Duration::seconds(5));
    let first = store.edit(&original, a.id, &MessageBody::parse("v2".into()).unwrap(), t1).await.unwrap();
    assert_eq!((first.event_seq, first.actor, first.room_id), (2, a.id, chat));
    let edited = update(&first);
    assert_eq!(
        (edited.action, edited.message.content.as_str(), edited.message.edited_at),
        (UpdateAction::Edited, "v2", Some(t1))
    );
    let second = store.edit(&edited.message, a.id, &MessageBody::parse("v3".into()).unwrap(), t2).await.unwrap();
    assert_eq!(second.event_seq, 3);

    let edits = store.edits(original.id).await.unwrap();
    let versions: Vec<_> = edits.iter().map(|e| (e.content.as_str(), e.edited_at)).collect();
    assert_eq!(versions, vec![("v1", t1), ("v2", t2)], "earlier versions, oldest first, with when they were replaced");
    let now_stored = MessageRepo::get(&store, original.id).await.unwrap().unwrap();
    assert_eq!((now_stored.content.as_str(), now_stored.edited_at, now_stored.seq), ("v3", Some(t2), 1));
    assert_eq!(last_event_seq(&store, chat).await, 3);
    let replayed = store.events_after(chat, 1, 10).await.unwrap();
    assert_eq!(replayed.iter().map(|e| e.event_seq).collect::<Vec<_>>(), vec![2, 3]);
    assert!(replayed.iter().all(|e| update(e).action == UpdateAction::Edited && update(e).message.content == "v3"));
    assert!(store.edits(chitchat_domain::MessageId::new()).await.unwrap().is_empty());
}

pub async fn messages_delete_for_everyone_leaves_a_placeholder_once<S: Store>(store: S) {
    let (a, b, chat) = pair(&store).await;
    let original = sent(&store, text(chat, &a, "oops", None)).await;
    store.edit(&original, a.id, &MessageBody::parse("oops, sorry".into()).unwrap(), now()).await.unwrap();
    store.set_reaction(&original, b.id, emoji("😮"), now()).await.unwrap().unwrap();
    let at = now();
    let deleted = store.delete_for_everyone(&original, a.id, at).await.unwrap().expect("a deletion is logged");
    assert_eq!((deleted.event_seq, deleted.actor), (4, a.id));
    let placeholder = &update(&deleted).message;
    assert_eq!(update(&deleted).action, UpdateAction::Deleted);
    assert_eq!((placeholder.content.as_str(), placeholder.deleted_at, placeholder.edited_at), ("", Some(at), None));
    assert!(placeholder.reactions.is_empty(), "its reactions are gone");
    assert!(store.edits(original.id).await.unwrap().is_empty(), "and so are its earlier versions");

    assert_eq!(store.delete_for_everyone(&original, a.id, now()).await.unwrap(), None, "deleting again logs nothing");
    assert_eq!(last_event_seq(&store, chat).await, 4);
    let history = store.list(chat, Page::new(None, None).unwrap()).await.unwrap();
    assert_eq!(history, vec![placeholder.clone()], "the placeholder stays in the history");

    let late = store.edit(&original, a.id, &MessageBody::parse("back".into()).unwrap(), now()).await.unwrap_err();
    assert_eq!(late.code(), "message_deleted");
    let late = store.set_reaction(&original, b.id, emoji("👍"), now()).await.unwrap_err();
    assert_eq!(late.code(), "message_deleted");
    assert_eq!(last_event_seq(&store, chat).await, 4, "refused changes take no position");
}

pub async fn messages_replays_show_a_deleted_message_as_deleted<S: Store>(store: S) {
    let (a, _, chat) = pair(&store).await;
    let original = sent(&store, text(chat, &a, "secret v1", None)).await;
    store.edit(&original, a.id, &MessageBody::parse("secret v2".into()).unwrap(), now()).await.unwrap();
    store.delete_for_everyone(&original, a.id, now()).await.unwrap();
    let replayed = store.events_after(chat, 0, 10).await.unwrap();
    assert_eq!(replayed.len(), 3);
    let EventKind::Message(first) = &replayed[0].kind else { panic!("the message event") };
    assert_eq!(first.content, "");
    assert_eq!(update(&replayed[1]).action, UpdateAction::Edited);
    assert_eq!(update(&replayed[2]).action, UpdateAction::Deleted);
    for event in &replayed[1..] {
        assert_eq!(update(event).message.content, "", "no earlier text comes back");
        assert!(update(event).message.deleted_at.is_some());
    }
}

pub async fn messages_hidden_only_for_the_one_who_hid_them<S: Store>(store: S) {
    let (a, b, chat) = pair(&store).await;
    let first = sent(&store, text(chat, &a, "one", None)).await;
    let second = sent(&store, text(chat, &b, "two", None)).await;
    assert!(store.hide(b.id, &first, now()).await.unwrap());
    assert!(!store.hide(b.id, &first, now()).await.unwrap(), "hiding twice is hiding once");
    assert!(store.is_hidden(b.id, first.id).await.unwrap());
    assert!(!store.is_hidden(a.id, first.id).await.unwrap());

    let ids = |page: Vec<Message>| page.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let page = Page::new(None, None).unwrap();
    assert_eq!(ids(store.list(chat, page.for_viewer(b.id)).await.unwrap()), vec![second.id]);
    assert_eq!(ids(store.list(chat, page.for_viewer(a.id)).await.unwrap()), vec![second.id, first.id]);
    assert_eq!(ids(store.list(chat, page).await.unwrap()), vec![second.id, first.id]);
    assert_eq!(last_event_seq(&store, chat).await, 2, "hiding is nobody else's business: nothing is logged");
}

pub async fn messages_reactions_are_one_per_user_replaced_and_counted<S: Store>(store: S) {
    let (a, b, chat) = pair(&store).await;
    let message = sent(&store, text(chat, &a, "party?", None)).await;
    store.set_reaction(&message, a.id, emoji("👍"), now()).await.unwrap().unwrap();
    let second = store.set_reaction(&message, b.id, emoji("👍"), now()).await.unwrap().unwrap();
    assert_eq!(update(&second).message.reactions.get("👍"), Some(&2));
    assert_eq!(update(&second).message.my_reaction, None, "events carry the counts only");

    let replaced = store.set_reaction(&message, a.id, emoji("🎉"), now()).await.unwrap().unwrap();
    let change = update(&replaced).reaction.clone().unwrap();
    assert_eq!((change.emoji.as_str(), change.user_id, change.removed), ("🎉", a.id, false));
    let counts: Vec<_> = update(&replaced).message.reactions.clone().into_iter().collect();
    assert_eq!(counts, vec![("🎉".to_owned(), 1), ("👍".to_owned(), 1)], "the new one replaced the old");
    assert_eq!(
        store.set_reaction(&message, a.id, emoji("🎉"), now()).await.unwrap(),
        None,
        "the same again: no change"
    );

    let page = Page::new(None, None).unwrap();
    let seen_by_b = store.list(chat, page.for_viewer(b.id)).await.unwrap();
    assert_eq!(seen_by_b[0].my_reaction.as_deref(), Some("👍"));
    assert_eq!(store.list(chat, page).await.unwrap()[0].my_reaction, None);

    let removed = store.set_reaction(&message, a.id, None, now()).await.unwrap().unwrap();
    let change = update(&removed).reaction.clone().unwrap();
    assert_eq!((change.emoji.as_str(), change.removed), ("🎉", true));
    assert_eq!(store.set_reaction(&message, a.id, None, now()).await.unwrap(), None, "nothing left to remove");
    assert_eq!(last_event_seq(&store, chat).await, 5, "one message and four changes");

    let replayed = store.events_after(chat, 1, 10).await.unwrap();
    let changes: Vec<_> = replayed.iter().map(|e| update(e).reaction.clone().unwrap()).collect();
    assert_eq!(
        changes.iter().map(|c| (c.emoji.as_str(), c.removed)).collect::<Vec<_>>(),
        vec![("👍", false), ("👍", false), ("🎉", false), ("🎉", true)]
    );
}

pub async fn messages_only_active_members_change_messages<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = group(&store, &a, &[&b]).await;
    let mine = sent(&store, text(chat.id, &b, "before I go", None)).await;
    let leave = vec![step(chat.id, &b, SystemAction::MemberLeft, vec![GroupEffect::Leave(b.id)], &[&b])];
    let v = version(&store, chat.id).await;
    store.change_group(&GroupChange { chat_id: chat.id, expected_version: v, steps: leave }).await.unwrap();
    let logged = last_event_seq(&store, chat.id).await;

    let body = MessageBody::parse("changed my mind".into()).unwrap();
    assert_eq!(store.edit(&mine, b.id, &body, now()).await.unwrap_err(), DomainError::chat_not_found());
    assert_eq!(store.set_reaction(&mine, b.id, emoji("👋"), now()).await.unwrap_err(), DomainError::chat_not_found());
    assert_eq!(store.delete_for_everyone(&mine, b.id, now()).await.unwrap_err(), DomainError::chat_not_found());
    assert_eq!(last_event_seq(&store, chat.id).await, logged, "nothing of theirs is logged after they left");
    assert_eq!(MessageRepo::get(&store, mine.id).await.unwrap().unwrap().content, "before I go");
}

pub async fn messages_updates_of_lists_each_logged_change_in_order<S: Store>(store: S) {
    let (a, b, chat) = pair(&store).await;
    let first = sent(&store, text(chat, &a, "first", None)).await;
    let second = sent(&store, text(chat, &b, "second", None)).await;
    let edited = store.edit(&first, a.id, &MessageBody::parse("first!".into()).unwrap(), now()).await.unwrap();
    let liked = store.set_reaction(&first, b.id, emoji("👍"), now()).await.unwrap().unwrap();
    let other = store.set_reaction(&second, a.id, emoji("🎉"), now()).await.unwrap().unwrap();
    let unliked = store.set_reaction(&first, b.id, None, now()).await.unwrap().unwrap();

    let updates = store.updates_of(chat, &[first.id]).await.unwrap();
    let seen: Vec<(i64, UpdateAction)> = updates.iter().map(|u| (u.event_seq, u.action)).collect();
    assert_eq!(
        seen,
        vec![
            (edited.event_seq, UpdateAction::Edited),
            (liked.event_seq, UpdateAction::Reaction),
            (unliked.event_seq, UpdateAction::Reaction),
        ],
        "only the first message's changes, oldest first, not its send"
    );
    assert!(updates.iter().all(|u| u.message_id == first.id));
    let reactions: Vec<(String, bool)> =
        updates.iter().filter_map(|u| u.reaction.as_ref()).map(|r| (r.emoji.clone(), r.removed)).collect();
    assert_eq!(reactions, vec![("👍".to_owned(), false), ("👍".to_owned(), true)]);
    assert_eq!(updates[1].reaction.as_ref().map(|r| r.user_id), Some(b.id));
    let both = store.updates_of(chat, &[first.id, second.id]).await.unwrap();
    assert_eq!(both.len(), 4);
    assert_eq!(both[3].event_seq, unliked.event_seq);
    assert!(both.iter().any(|u| u.event_seq == other.event_seq && u.message_id == second.id));
    assert!(store.updates_of(chat, &[]).await.unwrap().is_empty());
}
