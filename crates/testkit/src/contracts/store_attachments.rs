//! The attachment repository contract: facts about uploads, the messages that
//! carry them, who may read them, and their removal.

use super::store::{direct, now, user, Store};
use super::store_groups::{group, step, version};
use super::store_messages::text;
use chitchat_domain::attachment::{Attachment, AttachmentInfo, AttachmentKind, ThumbnailFacts};
use chitchat_domain::chat::{GroupChange, GroupEffect};
use chitchat_domain::message::{ContentType, MessageBody, NewMessage, Page, SystemAction};
use chitchat_domain::ports::MessageRepo;
use chitchat_domain::user::User;
use chitchat_domain::{AttachmentId, ChatId};
use chrono::{DateTime, Duration, Utc};

fn upload(uploader: &User, kind: AttachmentKind, created_at: DateTime<Utc>) -> Attachment {
    let image = kind == AttachmentKind::Image;
    Attachment {
        info: AttachmentInfo {
            id: AttachmentId::new(),
            kind,
            mime_type: if image { "image/png".into() } else { "application/pdf".into() },
            name: "résumé.pdf".into(),
            size: 12_345,
            width: image.then_some(640),
            height: image.then_some(480),
            has_thumbnail: image,
        },
        uploader_id: uploader.id,
        thumbnail: image.then(|| ThumbnailFacts { mime_type: "image/jpeg".into(), size: 999 }),
        created_at,
    }
}

async fn stored<S: Store>(store: &S, uploader: &User, kind: AttachmentKind) -> Attachment {
    let attachment = upload(uploader, kind, now());
    store.insert_attachment(&attachment).await.unwrap();
    attachment
}

/// A message of `files`' kind carrying them, with an optional caption.
fn carrying(chat: ChatId, sender: &User, files: &[&Attachment], caption: &str) -> NewMessage {
    NewMessage {
        content: MessageBody::caption(caption.into()).unwrap(),
        content_type: ContentType::carrying(files[0].info.kind),
        attachments: files.iter().map(|a| a.id()).collect(),
        ..text(chat, sender, "unused", None)
    }
}

pub async fn attachments_are_stored_and_found_by_id<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let photo = stored(&store, &a, AttachmentKind::Image).await;
    let pdf = stored(&store, &a, AttachmentKind::Document).await;
    assert_eq!(store.get_attachment(photo.id()).await.unwrap(), Some(photo.clone()));
    assert_eq!(store.get_attachment(AttachmentId::new()).await.unwrap(), None);
    let mut both = store.get_attachments(&[pdf.id(), AttachmentId::new(), photo.id()]).await.unwrap();
    both.sort_by_key(Attachment::id);
    let mut expected = vec![photo, pdf];
    expected.sort_by_key(Attachment::id);
    assert_eq!(both, expected);
}

pub async fn attachments_travel_with_their_messages_in_order<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let (first, second) =
        (stored(&store, &a, AttachmentKind::Image).await, stored(&store, &a, AttachmentKind::Image).await);
    store.append(&text(chat.id, &a, "plain text", None)).await.unwrap();
    let sent = store.append(&carrying(chat.id, &a, &[&second, &first], "")).await.unwrap();
    let expected = vec![second.info.clone(), first.info.clone()];
    assert_eq!(sent.message.attachments, expected, "the append returns them in order");
    assert_eq!(sent.message.content, "", "no caption");
    assert_eq!(MessageRepo::get(&store, sent.message.id).await.unwrap().unwrap().attachments, expected);
    let history = store.list(chat.id, Page::new(None, None).unwrap()).await.unwrap();
    assert_eq!(history[0].attachments, expected);
    assert!(history[1].attachments.is_empty(), "text carries none");
    let events = store.events_after(chat.id, 0, 10).await.unwrap();
    let replayed = events.iter().find_map(|e| match &e.kind {
        chitchat_domain::event::EventKind::Message(m) if m.id == sent.message.id => Some(m.attachments.clone()),
        _ => None,
    });
    assert_eq!(replayed, Some(expected.clone()), "replays carry them too");
    assert_eq!(store.last_messages(&[chat.id]).await.unwrap()[0].attachments, expected);
}

pub async fn attachments_are_readable_by_the_uploader_and_the_members_of_chats_where_sent<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let photo = stored(&store, &a, AttachmentKind::Image).await;
    assert!(!store.can_read_attachment(photo.id(), b.id).await.unwrap(), "not before it is sent");
    store.append(&carrying(ab.id, &a, &[&photo], "look")).await.unwrap();
    assert!(store.can_read_attachment(photo.id(), b.id).await.unwrap());
    assert!(store.can_read_attachment(photo.id(), a.id).await.unwrap());
    assert!(!store.can_read_attachment(photo.id(), c.id).await.unwrap(), "a stranger");
    assert!(!store.can_read_attachment(AttachmentId::new(), b.id).await.unwrap());
}

pub async fn attachments_a_former_member_reads_only_what_was_sent_before_leaving<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (chat, _) = group(&store, &a, &[&b, &c]).await;
    let before = stored(&store, &a, AttachmentKind::Document).await;
    let after = stored(&store, &a, AttachmentKind::Document).await;
    store.append(&carrying(chat.id, &a, &[&before], "")).await.unwrap();
    let removal = step(chat.id, &a, SystemAction::MemberRemoved, vec![GroupEffect::Leave(c.id)], &[&c]);
    let expected_version = version(&store, chat.id).await;
    store.change_group(&GroupChange { chat_id: chat.id, expected_version, steps: vec![removal] }).await.unwrap();
    store.append(&carrying(chat.id, &a, &[&after], "")).await.unwrap();
    assert!(store.can_read_attachment(before.id(), c.id).await.unwrap(), "sent while a member");
    assert!(!store.can_read_attachment(after.id(), c.id).await.unwrap(), "sent after the removal");
    assert!(store.can_read_attachment(after.id(), b.id).await.unwrap());
}

pub async fn attachments_still_carried_are_not_removed<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let (bc, _) = direct(&store, &b, &c).await;
    let photo = stored(&store, &a, AttachmentKind::Image).await;
    let original = store.append(&carrying(ab.id, &a, &[&photo], "")).await.unwrap().message;
    // Bilal forwards it: his copy carries the same file.
    let copy = NewMessage { forwarded: true, ..carrying(bc.id, &b, &[&photo], "") };
    let copy = store.append(&copy).await.unwrap().message;
    assert!(store.can_read_attachment(photo.id(), c.id).await.unwrap(), "Chen got it forwarded");

    store.delete_for_everyone(&original, a.id, now()).await.unwrap().expect("deleted");
    let deleted = MessageRepo::get(&store, original.id).await.unwrap().unwrap();
    assert!(deleted.attachments.is_empty(), "a deleted message carries nothing");
    assert!(store.remove_unreferenced(&[photo.id()]).await.unwrap().is_empty(), "the copy still carries it");
    assert!(store.get_attachment(photo.id()).await.unwrap().is_some());

    store.delete_for_everyone(&copy, b.id, now()).await.unwrap().expect("deleted");
    assert!(!store.can_read_attachment(photo.id(), c.id).await.unwrap());
    let removed = store.remove_unreferenced(&[photo.id()]).await.unwrap();
    assert_eq!(removed, vec![photo.clone()]);
    assert_eq!(store.get_attachment(photo.id()).await.unwrap(), None);
}

pub async fn attachments_orphans_are_removed_once_old<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let long_ago = now() - Duration::hours(30);
    let (old_unsent, old_sent) =
        (upload(&a, AttachmentKind::Video, long_ago), upload(&a, AttachmentKind::Video, long_ago));
    let fresh = stored(&store, &a, AttachmentKind::Video).await;
    store.insert_attachment(&old_unsent).await.unwrap();
    store.insert_attachment(&old_sent).await.unwrap();
    store.append(&carrying(ab.id, &a, &[&old_sent], "")).await.unwrap();

    let cutoff = now() - Duration::hours(24);
    let removed = store.remove_orphans(cutoff, 100).await.unwrap();
    assert_eq!(removed, vec![old_unsent.clone()], "only the old upload nobody sent");
    assert!(store.remove_orphans(cutoff, 100).await.unwrap().is_empty());
    assert!(store.get_attachment(fresh.id()).await.unwrap().is_some());
    assert!(store.get_attachment(old_sent.id()).await.unwrap().is_some());
}

pub async fn attachments_an_append_naming_a_missing_attachment_stores_nothing<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let ghost = upload(&a, AttachmentKind::Image, now());
    let err = store.append(&carrying(ab.id, &a, &[&ghost], "")).await.unwrap_err();
    assert_eq!(err.code(), "attachment_not_found");
    assert!(store.list(ab.id, Page::new(None, None).unwrap()).await.unwrap().is_empty());
    let next = store.append(&text(ab.id, &a, "still counting from 1", None)).await.unwrap();
    assert_eq!(next.message.seq, 1, "the failed append left no gap");
}
