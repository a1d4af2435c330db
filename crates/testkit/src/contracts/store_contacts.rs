use super::store::{now, phone, user, Store};
use chitchat_domain::contact::{ContactEntry, PendingContact};
use chitchat_domain::ports::ContactRepo;
use chitchat_domain::UserId;
use chrono::Duration;

pub async fn contacts_are_saved_renamed_listed_and_removed<S: Store>(store: S) {
    let me = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let at = now();
    let entry = |contact: UserId, alias: Option<&str>, secs: i64| ContactEntry {
        owner: me.id,
        contact,
        alias: alias.map(str::to_owned),
        added_at: at + Duration::seconds(secs),
    };
    assert!(store.put_contact(&entry(b.id, None, 1)).await.unwrap(), "new");
    assert!(store.put_contact(&entry(c.id, Some("C"), 2)).await.unwrap());
    assert!(!store.put_contact(&entry(b.id, Some("Bil"), 3)).await.unwrap(), "an update, not new");
    let listed = store.contacts(me.id).await.unwrap();
    assert_eq!(
        listed,
        vec![entry(b.id, Some("Bil"), 1), entry(c.id, Some("C"), 2)],
        "alias updated, first added time kept"
    );
    assert!(store.contacts(b.id).await.unwrap().is_empty(), "contacts are one-way");
    assert!(store.remove_contact(me.id, b.id).await.unwrap());
    assert!(!store.remove_contact(me.id, b.id).await.unwrap());
    assert_eq!(store.contacts(me.id).await.unwrap().len(), 1);
}

pub async fn contacts_saved_by_lists_who_saved_a_user<S: Store>(store: S) {
    let (a, b, c) = (user(&store, 1, "Asha").await, user(&store, 2, "Bilal").await, user(&store, 3, "Chen").await);
    let save = |owner: UserId, contact: UserId| ContactEntry { owner, contact, alias: None, added_at: now() };
    store.put_contact(&save(a.id, c.id)).await.unwrap();
    store.put_contact(&save(b.id, c.id)).await.unwrap();
    store.put_contact(&save(c.id, a.id)).await.unwrap();
    let mut savers = store.saved_by(c.id).await.unwrap();
    savers.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(savers, expected);
    assert_eq!(store.saved_by(b.id).await.unwrap(), Vec::<UserId>::new());
    store.remove_contact(a.id, c.id).await.unwrap();
    assert_eq!(store.saved_by(c.id).await.unwrap(), vec![b.id]);
}

pub async fn contacts_pending_numbers_are_saved_renamed_listed_and_removed<S: Store>(store: S) {
    let me = user(&store, 1, "Asha").await;
    let other = user(&store, 2, "Bilal").await;
    let at = now();
    let entry = |n: u32, alias: Option<&str>, secs: i64| PendingContact {
        owner: me.id,
        phone: phone(n),
        alias: alias.map(str::to_owned),
        added_at: at + Duration::seconds(secs),
    };
    assert!(store.put_pending(&entry(10, None, 1)).await.unwrap(), "new");
    assert!(store.put_pending(&entry(11, Some("Eleven"), 2)).await.unwrap());
    assert!(!store.put_pending(&entry(10, Some("Ten"), 3)).await.unwrap(), "an update, not new");
    assert_eq!(
        store.pending(me.id).await.unwrap(),
        vec![entry(10, Some("Ten"), 1), entry(11, Some("Eleven"), 2)],
        "alias updated, first added time kept"
    );
    assert!(store.pending(other.id).await.unwrap().is_empty(), "saved numbers are the owner's own");
    assert!(store.remove_pending(me.id, &phone(10)).await.unwrap());
    assert!(!store.remove_pending(me.id, &phone(10)).await.unwrap());
    assert_eq!(store.pending(me.id).await.unwrap(), vec![entry(11, Some("Eleven"), 2)]);
}

pub async fn contacts_pending_numbers_become_contacts_when_claimed<S: Store>(store: S) {
    let (a, b, c) = (user(&store, 1, "Asha").await, user(&store, 2, "Bilal").await, user(&store, 3, "Chen").await);
    let at = now();
    let pending = |owner: UserId, alias: &str| PendingContact {
        owner,
        phone: phone(20),
        alias: Some(alias.to_owned()),
        added_at: at,
    };
    store.put_pending(&pending(a.id, "Dee")).await.unwrap();
    store.put_pending(&pending(b.id, "D")).await.unwrap();
    // Chen saved the number after it was registered, but the claim had not run yet.
    store.put_pending(&pending(c.id, "Pending alias")).await.unwrap();
    let dee = user(&store, 20, "Deepa").await;
    store
        .put_contact(&ContactEntry { owner: c.id, contact: dee.id, alias: Some("Kept".into()), added_at: at })
        .await
        .unwrap();
    store.claim_pending(&phone(20), dee.id).await.unwrap();
    store.claim_pending(&phone(20), dee.id).await.unwrap();
    let alias_of = |entries: Vec<ContactEntry>| entries.into_iter().find(|e| e.contact == dee.id).and_then(|e| e.alias);
    assert_eq!(alias_of(store.contacts(a.id).await.unwrap()), Some("Dee".into()));
    assert_eq!(alias_of(store.contacts(b.id).await.unwrap()), Some("D".into()));
    assert_eq!(alias_of(store.contacts(c.id).await.unwrap()), Some("Kept".into()), "an existing contact is kept");
    for owner in [a.id, b.id, c.id] {
        assert!(store.pending(owner).await.unwrap().is_empty(), "claimed numbers are no longer pending");
    }
    let mut savers = ContactRepo::saved_by(&store, dee.id).await.unwrap();
    savers.sort();
    let mut expected = vec![a.id, b.id, c.id];
    expected.sort();
    assert_eq!(savers, expected);
}

pub async fn blocks_are_one_way_and_idempotent<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    store.block(a.id, b.id, now()).await.unwrap();
    store.block(a.id, b.id, now()).await.unwrap();
    assert!(store.is_blocked(a.id, b.id).await.unwrap());
    assert!(!store.is_blocked(b.id, a.id).await.unwrap());
    store.unblock(a.id, b.id).await.unwrap();
    assert!(!store.is_blocked(a.id, b.id).await.unwrap());
}

pub async fn blockers_among_names_only_those_who_block_that_person<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let d = user(&store, 4, "Dara").await;
    store.block(b.id, a.id, now()).await.unwrap();
    store.block(d.id, a.id, now()).await.unwrap();
    store.block(a.id, c.id, now()).await.unwrap();
    store.block(c.id, b.id, now()).await.unwrap();
    let mut found = store.blockers_among(a.id, &[b.id, c.id, d.id]).await.unwrap();
    found.sort();
    let mut expected = vec![b.id, d.id];
    expected.sort();
    assert_eq!(found, expected, "not Chen, whom Asha blocks, nor Chen's block of someone else");
    assert_eq!(store.blockers_among(a.id, &[c.id]).await.unwrap(), Vec::<UserId>::new());
    assert_eq!(store.blockers_among(a.id, &[]).await.unwrap(), Vec::<UserId>::new());
    store.unblock(b.id, a.id).await.unwrap();
    assert_eq!(store.blockers_among(a.id, &[b.id, d.id]).await.unwrap(), vec![d.id]);
}

pub async fn users_profiles_change_and_are_found_by_phone<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let changed = store.update_profile(a.id, Some("Asha K".into()), Some("At work".into())).await.unwrap().unwrap();
    assert_eq!((changed.name.as_str(), changed.status.as_str()), ("Asha K", "At work"));
    let only_status = store.update_profile(a.id, None, Some(String::new())).await.unwrap().unwrap();
    assert_eq!((only_status.name.as_str(), only_status.status.as_str()), ("Asha K", ""));
    assert_eq!(store.get_by_phone(&phone(1)).await.unwrap().map(|u| u.id), Some(a.id));
    assert_eq!(store.get_by_phone(&phone(9)).await.unwrap(), None);
    assert_eq!(store.update_profile(UserId::new(), Some("x".into()), None).await.unwrap(), None);
}
