use super::store::{now, phone, user, Store};
use chitchat_domain::user::{EmailAddress, UserEmail};
use chitchat_domain::UserId;
use chrono::Duration;

fn pending(user_id: UserId, address: &str, hash: &str) -> UserEmail {
    let at = now();
    UserEmail {
        user_id,
        address: EmailAddress::parse(address).unwrap(),
        verified_at: None,
        code_hash: Some(hash.to_owned()),
        code_expires_at: Some(at + Duration::minutes(15)),
        attempts: 0,
        created_at: at,
    }
}

pub async fn emails_are_given_replaced_and_forgotten<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    assert_eq!(store.email_of(asha.id).await.unwrap(), None);
    let first = pending(asha.id, "asha@example.org", "h1");
    store.put_email(&first).await.unwrap();
    assert_eq!(store.email_of(asha.id).await.unwrap(), Some(first.clone()));
    // A new address replaces the old one, its tries included.
    store.reserve_email_attempt(asha.id, 5).await.unwrap().unwrap();
    let second = pending(asha.id, "asha@example.net", "h2");
    store.put_email(&second).await.unwrap();
    assert_eq!(store.email_of(asha.id).await.unwrap(), Some(second));
    assert!(store.delete_email(asha.id).await.unwrap());
    assert!(!store.delete_email(asha.id).await.unwrap());
    assert_eq!(store.email_of(asha.id).await.unwrap(), None);
}

pub async fn emails_are_verified_once_by_the_pending_code_within_the_tries<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    store.put_email(&pending(asha.id, "asha@example.org", "right")).await.unwrap();
    for tries in 1..=3 {
        let reserved = store.reserve_email_attempt(asha.id, 3).await.unwrap().unwrap();
        assert_eq!(reserved.attempts, tries);
    }
    assert_eq!(store.reserve_email_attempt(asha.id, 3).await.unwrap(), None, "no try is left");
    assert!(!store.confirm_email(asha.id, "wrong", 3, now()).await.unwrap());
    assert!(!store.confirm_email(asha.id, "right", 2, now()).await.unwrap(), "more tries counted than allowed");
    let at = now();
    assert!(store.confirm_email(asha.id, "right", 3, at).await.unwrap());
    assert!(!store.confirm_email(asha.id, "right", 3, at).await.unwrap(), "a code verifies once");
    let verified = store.email_of(asha.id).await.unwrap().unwrap();
    assert_eq!((verified.verified_at, verified.code_hash, verified.attempts), (Some(at), None, 0));
    assert_eq!(store.reserve_email_attempt(asha.id, 3).await.unwrap(), None, "nothing is pending");
}

pub async fn emails_only_verified_ones_are_found_by_phone<S: Store>(store: S) {
    let asha = user(&store, 1, "Asha").await;
    let ravi = user(&store, 2, "Ravi").await;
    store.put_email(&pending(asha.id, "asha@example.org", "a")).await.unwrap();
    store.put_email(&pending(ravi.id, "ravi@example.org", "r")).await.unwrap();
    assert!(store.confirm_email(ravi.id, "r", 5, now()).await.unwrap());
    assert_eq!(store.verified_email_of_phone(&phone(1)).await.unwrap(), None, "unverified");
    assert_eq!(store.verified_email_of_phone(&phone(3)).await.unwrap(), None, "no such user");
    assert_eq!(
        store.verified_email_of_phone(&phone(2)).await.unwrap().map(|a| a.as_str().to_owned()).as_deref(),
        Some("ravi@example.org")
    );
}
