//! Store contract: Web Push subscriptions and the outbox.

use super::store::{now, user, Store};
use chitchat_domain::auth::Session;
use chitchat_domain::ports::UserRepo;
use chitchat_domain::push::{OutboxEntry, PushSubscription, Urgency};
use chitchat_domain::user::User;
use chitchat_domain::SessionId;
use chrono::{DateTime, Duration, Utc};

async fn device<S: Store>(store: &S, owner: &User) -> SessionId {
    let at = now();
    let session = Session {
        id: SessionId::new(),
        user_id: owner.id,
        device: "Chrome on Android".into(),
        created_at: at,
        expires_at: at + Duration::days(7),
        revoked_at: None,
    };
    store.create(&session).await.unwrap();
    session.id
}

fn subscription(owner: &User, session: SessionId, endpoint: &str) -> PushSubscription {
    PushSubscription {
        endpoint: endpoint.into(),
        p256dh: "p256dh-of-".to_owned() + endpoint,
        auth: "auth".into(),
        user_id: owner.id,
        session_id: session,
    }
}

fn entry(endpoint: &str, payload: &str, at: DateTime<Utc>) -> OutboxEntry {
    OutboxEntry {
        endpoint: endpoint.into(),
        payload: payload.into(),
        urgency: Urgency::High,
        topic: Some("chat".into()),
        created_at: at,
        expires_at: at + Duration::hours(24),
    }
}

pub async fn push_subscriptions_belong_to_logged_in_devices<S: Store>(store: S) {
    let (asha, ravi) = (user(&store, 1, "Asha").await, user(&store, 2, "Ravi").await);
    let (phone, laptop) = (device(&store, &ravi).await, device(&store, &ravi).await);
    let ashas = device(&store, &asha).await;
    store.put_subscription(&subscription(&ravi, phone, "https://p/phone"), now()).await.unwrap();
    store.put_subscription(&subscription(&ravi, laptop, "https://p/laptop"), now()).await.unwrap();
    store.put_subscription(&subscription(&asha, ashas, "https://p/asha"), now()).await.unwrap();
    let mut found: Vec<String> =
        store.subscriptions_of(&[ravi.id], now()).await.unwrap().into_iter().map(|s| s.endpoint).collect();
    found.sort();
    assert_eq!(found, ["https://p/laptop", "https://p/phone"], "Ravi's devices only");
    let mut both: Vec<String> = store
        .subscriptions_of(&[asha.id, ravi.id, asha.id], now())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.endpoint)
        .collect();
    both.sort();
    assert_eq!(both, ["https://p/asha", "https://p/laptop", "https://p/phone"], "each once, a user named twice or not");
    assert!(
        store.subscriptions_of(&[ravi.id], now() + Duration::days(8)).await.unwrap().is_empty(),
        "an expired session is not pushed"
    );

    // The same endpoint subscribed again (another account on that browser) is replaced.
    store.put_subscription(&subscription(&asha, ashas, "https://p/laptop"), now()).await.unwrap();
    let ravis = store.subscriptions_of(&[ravi.id], now()).await.unwrap();
    assert_eq!(ravis.iter().map(|s| s.endpoint.as_str()).collect::<Vec<_>>(), ["https://p/phone"]);

    store.revoke(phone, now()).await.unwrap();
    assert!(store.subscriptions_of(&[ravi.id], now()).await.unwrap().is_empty(), "a revoked session is not pushed");
    assert_eq!(store.delete_subscriptions(ashas, Some("https://p/asha".into())).await.unwrap(), 1);
    assert_eq!(store.delete_subscriptions(ashas, None).await.unwrap(), 1, "the rest of the device's");
    assert!(store.subscriptions_of(&[asha.id], now()).await.unwrap().is_empty());
}

pub async fn push_outbox_claims_each_push_once_until_its_lease_ends<S: Store>(store: S) {
    let ravi = user(&store, 2, "Ravi").await;
    let phone = device(&store, &ravi).await;
    store.put_subscription(&subscription(&ravi, phone, "https://p/phone"), now()).await.unwrap();
    let at = now();
    store.enqueue(&[entry("https://p/phone", "one", at), entry("https://p/phone", "two", at)]).await.unwrap();

    let lease = std::time::Duration::from_secs(60);
    let claimed = store.claim_due(at, lease, 10).await.unwrap();
    let payloads: Vec<&str> = claimed.iter().map(|p| p.payload.as_str()).collect();
    assert_eq!(payloads, ["one", "two"], "in the order they were queued");
    assert_eq!(claimed[0].subscription.p256dh, "p256dh-of-https://p/phone");
    assert_eq!(
        (claimed[0].urgency, claimed[0].topic.as_deref(), claimed[0].attempts),
        (Urgency::High, Some("chat"), 0)
    );
    assert_eq!(claimed[0].expires_at, at + Duration::hours(24));
    assert!(store.claim_due(at, lease, 10).await.unwrap().is_empty(), "held by the first claim");
    let later = at + Duration::seconds(61);
    assert_eq!(
        store.claim_due(later, lease, 1).await.unwrap().len(),
        1,
        "due again after the lease, `limit` at a time"
    );

    store.complete(claimed[0].id).await.unwrap();
    store.retry_at(claimed[1].id, later + Duration::seconds(300), 1).await.unwrap();
    let much_later = later + Duration::seconds(301);
    let retried = store.claim_due(much_later, lease, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].payload.as_str(), retried[0].attempts), ("two", 1));

    store.delete_endpoint("https://p/phone").await.unwrap();
    let gone = much_later + Duration::seconds(120);
    assert!(
        store.claim_due(gone, lease, 10).await.unwrap().is_empty(),
        "a deleted subscription takes its pushes along"
    );
}

pub async fn push_claims_from_many_tasks_at_once_take_each_push_once<S: Store>(store: S) {
    let ravi = user(&store, 2, "Ravi").await;
    let phone = device(&store, &ravi).await;
    store.put_subscription(&subscription(&ravi, phone, "https://p/phone"), now()).await.unwrap();
    let at = now();
    let entries: Vec<OutboxEntry> = (0..40).map(|i| entry("https://p/phone", &i.to_string(), at)).collect();
    store.enqueue(&entries).await.unwrap();
    let store = std::sync::Arc::new(store);
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_due(at, std::time::Duration::from_secs(60), 7).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for claim in claims {
        taken.extend(claim.await.unwrap().into_iter().map(|p| p.id));
    }
    let count = taken.len();
    taken.sort_unstable();
    taken.dedup();
    assert_eq!(taken.len(), count, "no push was claimed twice");
    assert_eq!(count, 40, "and none was left behind");
}

pub async fn notification_previews_are_kept<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    assert!(asha.notification_previews, "on by default");
    let changed = store.set_notification_previews(asha.id, false).await.unwrap().unwrap();
    assert!(!changed.notification_previews);
    assert!(!UserRepo::get(&store, asha.id).await.unwrap().unwrap().notification_previews);
    assert!(!store.get_many(&[asha.id]).await.unwrap()[0].notification_previews);
    assert_eq!(store.set_notification_previews(chitchat_domain::UserId::new(), false).await.unwrap(), None);
}
