use super::store::{now, phone, user, Store};
use chitchat_domain::auth::{OtpChallenge, Session};
use chitchat_domain::user::{LastSeenVisibility, User, UserName};
use chitchat_domain::{SessionId, UserId};
use chrono::Duration;
use std::sync::Arc;

pub async fn users_insert_or_get_is_idempotent_by_phone<S: Store>(store: S) {
    let first = user(&store, 1, "Asha").await;
    let again = User::new(phone(1), UserName::parse("Someone Else").unwrap(), now());
    let stored = store.insert_or_get_by_phone(&again).await.unwrap();
    assert_eq!(stored, first, "the first user with a phone stays the user");
    assert_eq!(UserRepo::get(&store, first.id).await.unwrap(), Some(first));
}

pub async fn users_get_and_get_many<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    assert_eq!(UserRepo::get(&store, UserId::new()).await.unwrap(), None);
    let mut many = store.get_many(&[a.id, b.id, UserId::new()]).await.unwrap();
    many.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(many, vec![a, b]);
    assert!(store.get_many(&[]).await.unwrap().is_empty());
}

use chitchat_domain::ports::{OtpRepo, SessionRepo, UserRepo};

pub async fn users_search_by_name_excludes_caller<S: Store>(store: S) {
    let me = user(&store, 1, "Ravi Kumar").await;
    let ravi = user(&store, 2, "RAVINDRA").await;
    let asha = user(&store, 3, "Asha").await;
    // Collation differs between backends, so compare names as sorted lists.
    let names = |users: Vec<User>| {
        let mut names = users.into_iter().map(|u| u.name).collect::<Vec<_>>();
        names.sort();
        names
    };
    assert_eq!(names(UserRepo::search(&store, "ravi", me.id, 20).await.unwrap()), vec![ravi.name.clone()]);
    assert_eq!(names(UserRepo::search(&store, "ravi", asha.id, 20).await.unwrap()), {
        let mut both = vec![ravi.name.clone(), me.name.clone()];
        both.sort();
        both
    });
    // Numbers are not searched here: +919876540003 is Asha's. (The domain searches
    // numbers only among the people who know the caller.)
    assert!(UserRepo::search(&store, "540003", me.id, 20).await.unwrap().is_empty());
    assert_eq!(UserRepo::search(&store, "ravi", asha.id, 1).await.unwrap().len(), 1, "limit is honoured");
}

pub async fn users_search_treats_wildcards_literally<S: Store>(store: S) {
    let me = user(&store, 1, "Me").await;
    user(&store, 2, "Anna").await;
    user(&store, 3, "100% Real").await;
    let found = UserRepo::search(&store, "%", me.id, 20).await.unwrap();
    assert_eq!(found.into_iter().map(|u| u.name).collect::<Vec<_>>(), vec!["100% Real".to_owned()]);
    assert!(UserRepo::search(&store, "_", me.id, 20).await.unwrap().is_empty());
}

fn challenge(n: u32, hash: &str) -> OtpChallenge {
    let at = now();
    OtpChallenge {
        phone: phone(n),
        code_hash: hash.into(),
        expires_at: at + Duration::minutes(5),
        attempts: 0,
        created_at: at,
    }
}

pub async fn otps_put_unless_recent_replaces_only_after_the_cutoff<S: Store>(store: S) {
    let first = challenge(1, "h1");
    assert!(store.put_unless_recent(&first, first.created_at - Duration::seconds(30)).await.unwrap());
    assert_eq!(store.reserve_attempt(&phone(1), 5).await.unwrap().unwrap().attempts, 1);
    let mut too_soon = challenge(1, "h2");
    too_soon.created_at = first.created_at + Duration::seconds(10);
    let cutoff = too_soon.created_at - Duration::seconds(30);
    assert!(!store.put_unless_recent(&too_soon, cutoff).await.unwrap(), "the pending code is newer than the cutoff");
    let mut stored = first.clone();
    stored.attempts = 1;
    assert_eq!(OtpRepo::get(&store, &phone(1)).await.unwrap(), Some(stored), "nothing was written");
    let mut later = challenge(1, "h3");
    later.created_at = first.created_at + Duration::seconds(30);
    let cutoff = later.created_at - Duration::seconds(30);
    assert!(store.put_unless_recent(&later, cutoff).await.unwrap(), "a cutoff at the pending code's time replaces it");
    assert_eq!(OtpRepo::get(&store, &phone(1)).await.unwrap(), Some(later), "replaced, and its tries reset");
    assert_eq!(OtpRepo::get(&store, &phone(2)).await.unwrap(), None);
}

/// Thirty requests for one phone at once, as a flood of `POST /api/auth/otp` would
/// make them: exactly one challenge is stored, so exactly one code is sent.
pub async fn otps_concurrent_puts_store_one_challenge<S: Store>(store: S) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let candidate = challenge(1, &format!("h{i}"));
                let cutoff = candidate.created_at - Duration::seconds(30);
                store.put_unless_recent(&candidate, cutoff).await.unwrap().then_some(candidate.code_hash)
            })
        })
        .collect();
    let mut stored = Vec::new();
    for task in tasks {
        stored.extend(task.await.unwrap());
    }
    assert_eq!(stored.len(), 1, "one challenge per cooldown: {stored:?}");
    assert_eq!(OtpRepo::get(store.as_ref(), &phone(1)).await.unwrap().unwrap().code_hash, stored[0]);
}

pub async fn otps_reserve_attempt_counts_tries_up_to_the_limit<S: Store>(store: S) {
    assert_eq!(store.reserve_attempt(&phone(1), 5).await.unwrap(), None, "no challenge, nothing to try");
    store.put_unless_recent(&challenge(1, "h"), now()).await.unwrap();
    for attempt in 1..=5 {
        let reserved = store.reserve_attempt(&phone(1), 5).await.unwrap().expect("a try is left");
        assert_eq!((reserved.attempts, reserved.code_hash.as_str()), (attempt, "h"));
    }
    assert_eq!(store.reserve_attempt(&phone(1), 5).await.unwrap(), None, "the sixth try is refused");
    assert_eq!(OtpRepo::get(&store, &phone(1)).await.unwrap().unwrap().attempts, 5, "and not counted");
}

/// Sixty tries at once against one code, as a burst of `POST /api/auth/register`
/// would make them: only five are ever let through to compare a code.
pub async fn otps_concurrent_tries_never_pass_the_limit<S: Store>(store: S) {
    let store = Arc::new(store);
    store.put_unless_recent(&challenge(1, "h"), now()).await.unwrap();
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.reserve_attempt(&phone(1), 5).await.unwrap().map(|c| c.attempts) })
        })
        .collect();
    let mut reserved = Vec::new();
    for task in tasks {
        reserved.extend(task.await.unwrap());
    }
    reserved.sort_unstable();
    assert_eq!(reserved, vec![1, 2, 3, 4, 5], "each try counted once, five in all");
}

pub async fn otps_consume_is_single_use_needs_the_hash_and_honours_the_limit<S: Store>(store: S) {
    let mut locked = challenge(1, "right");
    locked.attempts = 6;
    store.put_unless_recent(&locked, now()).await.unwrap();
    assert!(!store.consume(&phone(1), "right", 5).await.unwrap(), "a code past the limit is not consumed");
    store.put_unless_recent(&challenge(1, "right"), now()).await.unwrap();
    assert!(!store.consume(&phone(1), "wrong", 5).await.unwrap());
    assert!(store.consume(&phone(1), "right", 5).await.unwrap());
    assert!(!store.consume(&phone(1), "right", 5).await.unwrap(), "a code works once");
    assert_eq!(OtpRepo::get(&store, &phone(1)).await.unwrap(), None);
}

pub async fn sessions_create_get_and_revoke_once<S: Store>(store: S) {
    let owner = user(&store, 1, "Asha").await;
    let at = now();
    let session = Session {
        id: SessionId::new(),
        user_id: owner.id,
        device: "Firefox on Linux".into(),
        created_at: at,
        expires_at: at + Duration::days(7),
        revoked_at: None,
    };
    store.create(&session).await.unwrap();
    assert_eq!(SessionRepo::get(&store, session.id).await.unwrap(), Some(session.clone()));
    let revoked_at = at + Duration::minutes(1);
    store.revoke(session.id, revoked_at).await.unwrap();
    store.revoke(session.id, revoked_at + Duration::minutes(1)).await.unwrap();
    let stored = SessionRepo::get(&store, session.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(revoked_at), "the first revocation time is kept");
    assert_eq!(SessionRepo::get(&store, SessionId::new()).await.unwrap(), None);
}

pub async fn sessions_list_active_omits_revoked_expired_and_others<S: Store>(store: S) {
    let owner = user(&store, 1, "Asha").await;
    let other = user(&store, 2, "Bilal").await;
    let at = now();
    let make = |user_id: UserId, created: i64, expires_in: Duration| Session {
        id: SessionId::new(),
        user_id,
        device: format!("device {created}"),
        created_at: at + Duration::seconds(created),
        expires_at: at + expires_in,
        revoked_at: None,
    };
    let older = make(owner.id, 1, Duration::days(1));
    let newer = make(owner.id, 2, Duration::days(1));
    let revoked = make(owner.id, 3, Duration::days(1));
    let expired = make(owner.id, 4, Duration::seconds(-1));
    let someone_elses = make(other.id, 5, Duration::days(1));
    for s in [&older, &newer, &revoked, &expired, &someone_elses] {
        store.create(s).await.unwrap();
    }
    store.revoke(revoked.id, at).await.unwrap();
    let active = store.list_active(owner.id, at).await.unwrap();
    assert_eq!(active, vec![newer, older], "active sessions, newest first");
}

pub async fn users_last_seen_is_recorded<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    let later = now() + Duration::minutes(3);
    store.touch_last_seen(asha.id, later).await.unwrap();
    assert_eq!(UserRepo::get(&store, asha.id).await.unwrap().unwrap().last_seen, Some(later));
}

pub async fn users_last_seen_visibility_is_kept<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    assert_eq!(asha.last_seen_visibility, LastSeenVisibility::Everyone, "everyone by default");
    for visibility in [LastSeenVisibility::Contacts, LastSeenVisibility::Nobody, LastSeenVisibility::Everyone] {
        let changed = store.set_last_seen_visibility(asha.id, visibility).await.unwrap().unwrap();
        assert_eq!(changed.last_seen_visibility, visibility);
        assert_eq!(UserRepo::get(&store, asha.id).await.unwrap().unwrap().last_seen_visibility, visibility);
    }
    store.set_last_seen_visibility(asha.id, LastSeenVisibility::Nobody).await.unwrap();
    let many = store.get_many(&[asha.id]).await.unwrap();
    assert_eq!(many[0].last_seen_visibility, LastSeenVisibility::Nobody);
    assert!(many[0].last_seen.is_some(), "the store keeps the time; services decide who sees it");
    assert_eq!(store.set_last_seen_visibility(UserId::new(), LastSeenVisibility::Nobody).await.unwrap(), None);
}
