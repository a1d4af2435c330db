use super::store::{now, phone, user, Store};
use chitchat_domain::auth::link::{ClaimSecret, DeviceLink, LinkConfirmation, PairingCode};
use chitchat_domain::auth::Session;
use chitchat_domain::ports::{DeviceLinkRepo, SessionRepo};
use chitchat_domain::{LinkId, SessionId, UserId};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

fn link(n: u32, code: &str, created: DateTime<Utc>) -> DeviceLink {
    DeviceLink {
        id: LinkId::new(),
        phone: phone(n),
        code_hash: PairingCode::parse(code).unwrap().hash("pepper"),
        claim_hash: ClaimSecret::from_client("secret").hash(),
        device: "Firefox on Linux".into(),
        created_at: created,
        expires_at: created + Duration::minutes(2),
        confirmed: None,
        claimed_at: None,
    }
}

fn session_of(user_id: UserId, at: DateTime<Utc>) -> Session {
    Session {
        id: SessionId::new(),
        user_id,
        device: "Firefox on Linux".into(),
        created_at: at,
        expires_at: at + Duration::days(7),
        revoked_at: None,
    }
}

pub async fn device_links_are_found_by_id_and_code_and_a_code_is_held_once<S: Store>(store: S) {
    let at = now();
    let first = link(1, "ABCD2345", at);
    assert!(store.insert(&first).await.unwrap());
    assert_eq!(DeviceLinkRepo::get(&store, first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(store.find_by_code(&first.code_hash).await.unwrap(), Some(first.clone()));
    let same_code = link(2, "ABCD2345", at);
    assert!(!store.insert(&same_code).await.unwrap(), "a code another link holds is refused");
    assert_eq!(DeviceLinkRepo::get(&store, same_code.id).await.unwrap(), None, "and nothing was stored");
    assert_eq!(store.find_by_code(&first.code_hash).await.unwrap().unwrap().id, first.id);
    assert_eq!(store.find_by_code("no such hash").await.unwrap(), None);
    assert_eq!(DeviceLinkRepo::get(&store, LinkId::new()).await.unwrap(), None);
}

pub async fn device_links_confirm_once_opening_the_session_with_it<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    let at = now();
    let waiting = link(1, "ABCD2345", at);
    store.insert(&waiting).await.unwrap();
    let winner = session_of(asha.id, at);
    assert!(store.confirm(waiting.id, &winner, at + Duration::seconds(5)).await.unwrap());
    assert_eq!(SessionRepo::get(&store, winner.id).await.unwrap(), Some(winner.clone()), "the session was opened");
    let stored = DeviceLinkRepo::get(&store, waiting.id).await.unwrap().unwrap();
    assert_eq!(
        stored.confirmed,
        Some(LinkConfirmation { user_id: asha.id, session_id: winner.id, at: at + Duration::seconds(5) })
    );
    let loser = session_of(asha.id, at);
    assert!(!store.confirm(waiting.id, &loser, at + Duration::seconds(6)).await.unwrap(), "confirmed once");
    assert_eq!(SessionRepo::get(&store, loser.id).await.unwrap(), None, "a refused confirmation opens no session");

    let late = link(1, "EFGH6789", at);
    store.insert(&late).await.unwrap();
    let too_late = session_of(asha.id, at);
    assert!(!store.confirm(late.id, &too_late, late.expires_at).await.unwrap(), "expired at its expiry");
    assert_eq!(SessionRepo::get(&store, too_late.id).await.unwrap(), None);
    assert!(!store.confirm(LinkId::new(), &too_late, at).await.unwrap(), "no such link");
}

/// Twenty devices confirming one code at once, as two instances behind a load
/// balancer might see them: one wins, and only its session exists.
pub async fn device_links_concurrent_confirmations_let_exactly_one_through<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    let at = now();
    let waiting = link(1, "ABCD2345", at);
    store.insert(&waiting).await.unwrap();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let session = session_of(asha.id, at);
            tokio::spawn(async move { (store.confirm(waiting.id, &session, at).await.unwrap(), session.id) })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for task in tasks {
        let (won, session) = task.await.unwrap();
        if won {
            winners.push(session);
        } else {
            losers.push(session);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one confirmation wins");
    for lost in losers {
        assert_eq!(SessionRepo::get(store.as_ref(), lost).await.unwrap(), None);
    }
    let stored = DeviceLinkRepo::get(store.as_ref(), waiting.id).await.unwrap().unwrap();
    assert_eq!(stored.confirmed.map(|c| c.session_id), Some(winners[0]));
}

pub async fn device_links_are_claimed_once_and_only_when_confirmed<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    let at = now();
    let waiting = link(1, "ABCD2345", at);
    store.insert(&waiting).await.unwrap();
    assert!(!store.claim(waiting.id, at).await.unwrap(), "nothing to claim before a confirmation");
    store.confirm(waiting.id, &session_of(asha.id, at), at).await.unwrap();
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim(waiting.id, at + Duration::seconds(1)).await.unwrap() })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        claimed += usize::from(task.await.unwrap());
    }
    assert_eq!(claimed, 1, "of claims at once, one hands the session out");
    let stored = DeviceLinkRepo::get(store.as_ref(), waiting.id).await.unwrap().unwrap();
    assert_eq!(stored.claimed_at, Some(at + Duration::seconds(1)));
    assert!(!store.claim(waiting.id, at + Duration::seconds(2)).await.unwrap());
}

pub async fn device_links_expired_before_a_time_are_removed<S: Store>(store: S) {
    let at = now();
    let old = link(1, "ABCD2345", at - Duration::hours(2));
    let recent = link(2, "EFGH6789", at);
    store.insert(&old).await.unwrap();
    store.insert(&recent).await.unwrap();
    assert_eq!(store.remove_expired(at - Duration::hours(1)).await.unwrap(), 1);
    assert_eq!(DeviceLinkRepo::get(&store, old.id).await.unwrap(), None);
    assert!(DeviceLinkRepo::get(&store, recent.id).await.unwrap().is_some());
    assert!(store.insert(&link(3, "ABCD2345", at)).await.unwrap(), "a removed link's code can be drawn again");
}
