//! Store contract: disabled and deleted accounts, reports, the audit log and the
//! figures counted over the whole store.

use super::store::{direct, now, phone, user, Store};
use super::store_messages::text;
use chitchat_domain::attachment::{Attachment, AttachmentInfo, AttachmentKind, ThumbnailFacts};
use chitchat_domain::auth::Session;
use chitchat_domain::contact::{ContactEntry, PendingContact};
use chitchat_domain::moderation::{Actor, AuditEntry, Report, ReportStatus, ReportedMessage};
use chitchat_domain::ports::{MessageRepo, UserRepo};
use chitchat_domain::{AttachmentId, ReportId, SessionId, UserId};
use chrono::Duration;

async fn device<S: Store>(store: &S, owner: UserId, expires_in: Duration) -> SessionId {
    let at = now();
    let session = Session {
        id: SessionId::new(),
        user_id: owner,
        device: "Firefox".into(),
        created_at: at,
        expires_at: at + expires_in,
        revoked_at: None,
    };
    store.create(&session).await.unwrap();
    session.id
}

pub async fn moderation_disabling_is_kept_seen_with_sessions_and_undone<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let session = device(&store, a.id, Duration::days(1)).await;
    let (_, disabled) = store.session_with_owner_state(session).await.unwrap().unwrap();
    assert!(!disabled);
    assert_eq!(store.session_with_owner_state(SessionId::new()).await.unwrap(), None);

    let first = now();
    let user = store.set_disabled(a.id, Some(first)).await.unwrap().unwrap();
    assert_eq!(user.disabled_at, Some(first));
    let again = store.set_disabled(a.id, Some(first + Duration::minutes(1))).await.unwrap().unwrap();
    assert_eq!(again.disabled_at, Some(first), "disabling twice keeps the first time");
    assert_eq!(UserRepo::get(&store, a.id).await.unwrap().unwrap().disabled_at, Some(first));
    let (found, disabled) = store.session_with_owner_state(session).await.unwrap().unwrap();
    assert_eq!((found.id, disabled), (session, true));

    let enabled = store.set_disabled(a.id, None).await.unwrap().unwrap();
    assert_eq!(enabled.disabled_at, None);
    assert!(!store.session_with_owner_state(session).await.unwrap().unwrap().1);
    assert_eq!(store.set_disabled(UserId::new(), Some(now())).await.unwrap(), None);
}

pub async fn moderation_users_are_listed_by_name_or_phone<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal_%").await;
    let all = store.list_users(None, 10).await.unwrap();
    assert_eq!(all.iter().map(|u| u.id).collect::<Vec<_>>(), vec![a.id, b.id]);
    let by_name = store.list_users(Some("asH".into()), 10).await.unwrap();
    assert_eq!(by_name.iter().map(|u| u.id).collect::<Vec<_>>(), vec![a.id]);
    let by_phone = store.list_users(Some("0002".into()), 10).await.unwrap();
    assert_eq!(by_phone.iter().map(|u| u.id).collect::<Vec<_>>(), vec![b.id]);
    assert_eq!(store.list_users(Some("%".into()), 10).await.unwrap().len(), 1, "wildcards are literal");
    assert_eq!(store.list_users(None, 1).await.unwrap().len(), 1);
}

pub async fn moderation_erasing_frees_the_phone_and_removes_contacts_both_ways<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let message = store.append(&text(chat.id, &a, "hello", None)).await.unwrap().message;
    store.put_contact(&ContactEntry { owner: a.id, contact: b.id, alias: None, added_at: now() }).await.unwrap();
    store.put_contact(&ContactEntry { owner: b.id, contact: a.id, alias: None, added_at: now() }).await.unwrap();
    store.put_pending(&PendingContact { owner: a.id, phone: phone(9), alias: None, added_at: now() }).await.unwrap();

    let at = now();
    let placeholder = format!("deleted:{}", a.id);
    let erased = store.erase_user(a.id, "Deleted account".into(), placeholder.clone(), at).await.unwrap().unwrap();
    assert_eq!(
        (erased.name.as_str(), erased.status.as_str(), erased.phone.as_str()),
        ("Deleted account", "", placeholder.as_str())
    );
    assert_eq!(erased.disabled_at, Some(at));
    assert_eq!(store.get_by_phone(&phone(1)).await.unwrap(), None, "the number is free");
    assert!(store.contacts(a.id).await.unwrap().is_empty());
    assert!(store.contacts(b.id).await.unwrap().is_empty(), "others' entries of the account are gone too");
    assert!(store.pending(a.id).await.unwrap().is_empty());
    assert_eq!(
        MessageRepo::get(&store, message.id).await.unwrap().unwrap().content,
        "hello",
        "their messages stay for others"
    );
    // The number makes a new account.
    let again = user(&store, 1, "Asha again").await;
    assert_ne!(again.id, a.id);
    assert_eq!(store.erase_user(UserId::new(), "x".into(), "deleted:x".into(), now()).await.unwrap(), None);
}

pub async fn moderation_reports_keep_their_copy_and_close_once<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let message = store.append(&text(chat.id, &b, "rude words", None)).await.unwrap().message;
    let report = Report {
        id: ReportId::new(),
        reporter_id: a.id,
        subject_id: b.id,
        message: Some(ReportedMessage::copy_of(&message)),
        reason: "abuse".into(),
        created_at: now(),
        status: ReportStatus::Open,
        resolved_at: None,
        resolved_by: None,
    };
    store.insert_report(&report).await.unwrap();
    let about_b =
        Report { id: ReportId::new(), message: None, created_at: now() + Duration::seconds(1), ..report.clone() };
    store.insert_report(&about_b).await.unwrap();
    store.delete_for_everyone(&message, b.id, now()).await.unwrap();
    assert_eq!(store.get_report(report.id).await.unwrap(), Some(report.clone()), "the copy outlives the message");
    assert_eq!(store.open_reports(10).await.unwrap(), vec![report.clone(), about_b.clone()]);

    let at = now();
    assert!(store.close_report(report.id, ReportStatus::Dismissed, "cli".into(), at).await.unwrap());
    assert!(!store.close_report(report.id, ReportStatus::SenderDisabled, "cli".into(), at).await.unwrap());
    let closed = store.get_report(report.id).await.unwrap().unwrap();
    assert_eq!(
        (closed.status, closed.resolved_at, closed.resolved_by.as_deref()),
        (ReportStatus::Dismissed, Some(at), Some("cli"))
    );
    assert_eq!(store.open_reports(10).await.unwrap(), vec![about_b]);
    assert_eq!(store.get_report(ReportId::new()).await.unwrap(), None);
}

pub async fn moderation_audit_is_newest_first_and_paged<S: Store>(store: S) {
    for n in 0..3 {
        let entry = AuditEntry::new(Actor::Cli, "user_disabled", format!("u{n}"), format!("n={n}"), now());
        store.append_audit(&entry).await.unwrap();
    }
    let all = store.audit(None, 10).await.unwrap();
    assert_eq!(all.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["u2", "u1", "u0"]);
    assert!(all[0].id > all[1].id && all[1].id > all[2].id);
    assert_eq!(
        (all[0].actor.as_str(), all[0].action.as_str(), all[0].details.as_str()),
        ("cli", "user_disabled", "n=2")
    );
    let older = store.audit(Some(all[0].id), 1).await.unwrap();
    assert_eq!(older.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["u1"]);
}

pub async fn moderation_figures_count_users_messages_files_and_live_sessions<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    store.set_disabled(b.id, Some(now())).await.unwrap();
    let (chat, _) = direct(&store, &a, &b).await;
    for n in 0..3 {
        store.append(&text(chat.id, &a, &format!("m{n}"), None)).await.unwrap();
    }
    let live = device(&store, a.id, Duration::days(1)).await;
    let ended = device(&store, b.id, Duration::days(1)).await;
    store.revoke(ended, now()).await.unwrap();
    device(&store, b.id, Duration::microseconds(1)).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let today = now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let days = vec![(today - Duration::days(1), today), (today, today + Duration::days(1))];
    let figures = store.figures(days).await.unwrap();
    assert_eq!((figures.users, figures.disabled_users), (2, 1));
    assert_eq!(figures.messages_per_day, vec![0, 3]);
    assert_eq!((figures.attachments, figures.attachment_bytes), (0, 0));
    assert_eq!(store.active_session_ids(now()).await.unwrap(), vec![live]);
    assert!(store.uploads_of(a.id).await.unwrap().is_empty());

    let photo = Attachment {
        info: AttachmentInfo {
            id: AttachmentId::new(),
            kind: AttachmentKind::Image,
            mime_type: "image/png".into(),
            name: "cat.png".into(),
            size: 100,
            width: Some(2),
            height: Some(2),
            has_thumbnail: true,
        },
        uploader_id: a.id,
        thumbnail: Some(ThumbnailFacts { mime_type: "image/jpeg".into(), size: 10 }),
        created_at: now(),
    };
    store.insert_attachment(&photo).await.unwrap();
    let figures = store.figures(Vec::new()).await.unwrap();
    assert_eq!((figures.attachments, figures.attachment_bytes), (1, 110));
    assert_eq!(store.uploads_of(a.id).await.unwrap(), vec![photo]);
    assert!(store.uploads_of(b.id).await.unwrap().is_empty());
}

pub async fn messages_a_moderator_deletes_for_everyone_without_being_a_member<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let admin = user(&store, 3, "Admin").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let message = store.append(&text(chat.id, &a, "spam", None)).await.unwrap().message;
    let refused = store.delete_for_everyone(&message, admin.id, now()).await.unwrap_err();
    assert_eq!(refused.code(), "chat_not_found", "a member's deletion still needs a member");
    let event = store.delete_by_moderator(&message, admin.id, now()).await.unwrap().expect("logged");
    assert_eq!(event.actor, admin.id);
    let placeholder = MessageRepo::get(&store, message.id).await.unwrap().unwrap();
    assert!(placeholder.deleted_at.is_some() && placeholder.content.is_empty());
    assert_eq!(store.delete_by_moderator(&message, admin.id, now()).await.unwrap(), None, "once");
}
