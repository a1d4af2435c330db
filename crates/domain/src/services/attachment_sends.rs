//! The rules about messages that carry files, as `MessageService` applies them:
//! who may send which upload, how, and what becomes of the files when messages
//! are forwarded or deleted.

use super::messages::MessageService;
use super::test_support::{caller, chat, member, ports, stored, text_message, MockSet};
use crate::attachment::{Attachment, AttachmentInfo, AttachmentKind, MAX_ATTACHMENTS_PER_MESSAGE};
use crate::auth::Caller;
use crate::chat::ChatKind;
use crate::error::{DomainError, DomainResult};
use crate::event::{ChatEvent, EventKind, MessageUpdate};
use crate::ids::{AttachmentId, ChatId, UserId};
use crate::message::{
    Appended, ContentType, DeleteScope, Message, MessagePolicy, SendOutcome, SendRequest, UpdateAction,
};
use crate::ErrorCode;
use chrono::Utc;

fn service(m: MockSet) -> MessageService {
    MessageService::new(&ports(m), MessagePolicy::default())
}

fn upload(uploader: UserId, kind: AttachmentKind) -> Attachment {
    Attachment {
        info: AttachmentInfo {
            id: AttachmentId::new(),
            kind,
            mime_type: "image/jpeg".into(),
            name: "photo.jpg".into(),
            size: 1234,
            width: Some(40),
            height: Some(30),
            has_thumbnail: true,
        },
        uploader_id: uploader,
        thumbnail: None,
        created_at: Utc::now(),
    }
}

fn media(content_type: &str, content: &str, ids: &[AttachmentId]) -> SendRequest {
    SendRequest {
        content: Some(content.into()),
        content_type: content_type.into(),
        client_msg_id: None,
        reply_to_id: None,
        attachment_ids: ids.iter().map(ToString::to_string).collect(),
    }
}

/// Sends to a fresh chat as the REST and WebSocket adapters do: the request
/// checked first, then handed to the service.
async fn send(service: &MessageService, caller: Caller, request: SendRequest) -> DomainResult<Appended> {
    let command = request
        .into_command(ChatId::new())
        .map_err(|refused| refused.into_error(ErrorCode::InvalidBody, "invalid request body"))?;
    service.send(caller, command).await
}

/// Every chat is a group the caller is an active member of, and the repository
/// has `uploads`.
fn member_with_uploads(m: &mut MockSet, uploads: Vec<Attachment>) {
    m.chats.expect_member().returning(|c, u| Ok(Some(member(c, u))));
    m.chats.expect_get().returning(|id| Ok(Some(chat(id, ChatKind::Group))));
    m.chats.expect_members().returning(|c| Ok(vec![member(c, UserId::new())]));
    m.attachments
        .expect_get_attachments()
        .returning(move |ids| Ok(uploads.iter().filter(|a| ids.contains(&a.id())).cloned().collect()));
    m.bus.expect_publish().returning(|_, _| Ok(()));
}

#[tokio::test]
async fn a_photo_carries_the_senders_uploads_in_order_and_needs_no_caption() {
    let me = caller();
    let (first, second) = (upload(me.user_id, AttachmentKind::Image), upload(me.user_id, AttachmentKind::Image));
    let wanted = vec![second.id(), first.id()];
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, vec![first.clone(), second.clone()]);
    let expected = wanted.clone();
    m.messages
        .expect_send()
        .withf(move |new| {
            new.attachments == expected && new.content.as_str().is_empty() && new.content_type == ContentType::Image
        })
        .times(1)
        .returning(|new| Ok(SendOutcome::Stored { message: stored(new, 1), event_seq: 1, recipients: Vec::new() }));
    let sent = send(&service(m), me, media("image", "  ", &wanted)).await.unwrap();
    assert!(sent.created);
}

#[tokio::test]
async fn someone_elses_upload_cannot_be_sent_and_is_not_revealed() {
    let theirs = upload(UserId::new(), AttachmentKind::Image);
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, vec![theirs.clone()]);
    m.messages.expect_send().never();
    let err = send(&service(m), caller(), media("image", "", &[theirs.id()])).await.unwrap_err();
    assert_eq!(err.code(), "attachment_not_found");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, Vec::new());
    m.messages.expect_send().never();
    let service = service(m);
    let err = send(&service, caller(), media("video", "", &[AttachmentId::new()])).await.unwrap_err();
    assert_eq!(err.code(), "attachment_not_found");
    let mut malformed = media("video", "", &[]);
    malformed.attachment_ids = vec!["../etc/passwd".into()];
    assert_eq!(send(&service, caller(), malformed).await.unwrap_err().code(), "attachment_not_found");
}

#[tokio::test]
async fn the_content_type_must_be_the_kind_of_every_file() {
    let me = caller();
    let pdf = upload(me.user_id, AttachmentKind::Document);
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, vec![pdf.clone()]);
    m.messages.expect_send().never();
    let err = send(&service(m), me, media("image", "", &[pdf.id()])).await.unwrap_err();
    assert_eq!(err.code(), "attachment_kind_mismatch");
}

#[tokio::test]
async fn text_needs_words_and_carries_no_files_while_files_need_ids() {
    let me = caller();
    let photo = upload(me.user_id, AttachmentKind::Image);
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, vec![photo.clone()]);
    m.messages.expect_send().never();
    let service = service(m);
    let with_file = media("text", "look", &[photo.id()]);
    assert_eq!(send(&service, me, with_file).await.unwrap_err().code(), "attachments_not_allowed");
    let blank = media("text", " ", &[]);
    assert_eq!(send(&service, me, blank).await.unwrap_err().code(), "empty_content");
    let no_file = media("audio", "voice note", &[]);
    assert_eq!(send(&service, me, no_file).await.unwrap_err().code(), "attachments_required");
}

#[tokio::test]
async fn a_message_carries_at_most_ten_files() {
    let me = caller();
    let uploads: Vec<_> =
        (0..=MAX_ATTACHMENTS_PER_MESSAGE).map(|_| upload(me.user_id, AttachmentKind::Image)).collect();
    let ids: Vec<_> = uploads.iter().map(Attachment::id).collect();
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, uploads);
    m.messages
        .expect_send()
        .returning(|new| Ok(SendOutcome::Stored { message: stored(new, 1), event_seq: 1, recipients: Vec::new() }));
    let service = service(m);
    let err = send(&service, me, media("image", "", &ids)).await.unwrap_err();
    assert_eq!(err.code(), "too_many_attachments");
    assert!(send(&service, me, media("image", "", &ids[..MAX_ATTACHMENTS_PER_MESSAGE])).await.is_ok());
}

#[tokio::test]
async fn a_stranger_to_the_chat_cannot_send_even_their_own_upload() {
    let me = caller();
    let photo = upload(me.user_id, AttachmentKind::Image);
    let mut m = MockSet::new(Utc::now());
    m.chats.expect_member().returning(|_, _| Ok(None));
    m.messages.expect_send().never();
    m.attachments.expect_get_attachments().never();
    let err = send(&service(m), me, media("image", "", &[photo.id()])).await.unwrap_err();
    assert_eq!(err.code(), "chat_not_found");
}

/// A stored message of `sender` carrying `files`.
fn carrying(sender: UserId, files: &[Attachment]) -> Message {
    Message {
        content: String::new(),
        content_type: ContentType::Image,
        attachments: files.iter().map(|a| a.info.clone()).collect(),
        ..text_message(ChatId::new(), sender, 3)
    }
}

/// `message` is stored and nobody hid it.
fn visible(m: &mut MockSet, message: &Message) {
    let found = message.clone();
    m.messages.expect_get().returning(move |_| Ok(Some(found.clone())));
    m.messages.expect_is_hidden().returning(|_, _| Ok(false));
}

#[tokio::test]
async fn forwarding_reuses_the_stored_files() {
    let me = caller();
    let photo = upload(UserId::new(), AttachmentKind::Image);
    let source = carrying(UserId::new(), std::slice::from_ref(&photo));
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, Vec::new());
    visible(&mut m, &source);
    let id = photo.id();
    m.messages
        .expect_append()
        .withf(move |new| new.attachments == [id] && new.forwarded && new.content_type == ContentType::Image)
        .times(2)
        .returning(|new| Ok(Appended { message: stored(new, 1), created: true, event_seq: Some(1) }));
    m.blobs.expect_put().never();
    let copies = service(m).forward(me, source.id, &[ChatId::new(), ChatId::new()]).await.unwrap();
    assert_eq!(copies.len(), 2);
}

#[tokio::test]
async fn deleting_for_everyone_removes_only_the_files_nothing_else_carries() {
    let me = caller();
    let (kept, dropped) = (upload(me.user_id, AttachmentKind::Image), upload(me.user_id, AttachmentKind::Image));
    let mine = carrying(me.user_id, &[kept.clone(), dropped.clone()]);
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, Vec::new());
    visible(&mut m, &mine);
    let placeholder = Message { attachments: Vec::new(), deleted_at: Some(Utc::now()), ..mine.clone() };
    let event = ChatEvent {
        room_id: mine.chat_id,
        event_seq: 9,
        actor: me.user_id,
        kind: EventKind::MessageUpdate(MessageUpdate {
            action: UpdateAction::Deleted,
            message: placeholder,
            reaction: None,
        }),
    };
    m.messages.expect_delete_for_everyone().returning(move |_, _, _| Ok(Some(event.clone())));
    let both = vec![kept.id(), dropped.id()];
    // A forwarded copy still carries `kept`: the repository removes only `dropped`.
    let gone = dropped.clone();
    m.attachments
        .expect_remove_unreferenced()
        .withf(move |ids| ids == both.as_slice())
        .times(1)
        .returning(move |_| Ok(vec![gone.clone()]));
    let dropped_id = dropped.id().to_string();
    m.blobs.expect_delete().withf(move |key| key.as_str().ends_with(&dropped_id)).times(2).returning(|_| Ok(()));
    service(m).delete(me, mine.id, DeleteScope::Everyone).await.unwrap();
}

#[tokio::test]
async fn a_failed_cleanup_does_not_fail_the_deletion() {
    let me = caller();
    let photo = upload(me.user_id, AttachmentKind::Image);
    let mine = carrying(me.user_id, std::slice::from_ref(&photo));
    let mut m = MockSet::new(Utc::now());
    member_with_uploads(&mut m, Vec::new());
    visible(&mut m, &mine);
    let event = ChatEvent {
        room_id: mine.chat_id,
        event_seq: 9,
        actor: me.user_id,
        kind: EventKind::MessageUpdate(MessageUpdate {
            action: UpdateAction::Deleted,
            message: mine.clone(),
            reaction: None,
        }),
    };
    m.messages.expect_delete_for_everyone().returning(move |_, _, _| Ok(Some(event.clone())));
    m.attachments.expect_remove_unreferenced().returning(|_| Err(DomainError::unavailable("db down")));
    m.blobs.expect_delete().never();
    assert!(service(m).delete(me, mine.id, DeleteScope::Everyone).await.is_ok());
}
