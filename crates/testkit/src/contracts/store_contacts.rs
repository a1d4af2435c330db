use super::store::{now, phone, user, Store};
use chitchat_domain::contact::ContactEntry;
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
