//! The presence tracker contract: every implementation (in-process, Redis) must pass these.

use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::UserId;

pub async fn presence_first_device_brings_a_user_online_and_the_last_takes_them_off<P: PresenceTracker>(p: P) {
    let user = UserId::new();
    assert!(p.connected(user).await.unwrap(), "first device: now online");
    assert!(!p.connected(user).await.unwrap(), "second device: already online");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert!(!p.disconnected(user).await.unwrap(), "one device still connected");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert!(p.disconnected(user).await.unwrap(), "last device: now offline");
    assert!(p.online(&[user]).await.unwrap().is_empty());
}

pub async fn presence_is_per_user<P: PresenceTracker>(p: P) {
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    p.connected(a).await.unwrap();
    p.connected(c).await.unwrap();
    let mut online = p.online(&[a, b, c]).await.unwrap();
    online.sort();
    let mut expected = vec![a, c];
    expected.sort();
    assert_eq!(online, expected);
    assert!(p.online(&[]).await.unwrap().is_empty());
}

pub async fn presence_ignores_a_disconnect_without_a_connect<P: PresenceTracker>(p: P) {
    let user = UserId::new();
    assert!(!p.disconnected(user).await.unwrap(), "nothing to take offline");
    assert!(p.connected(user).await.unwrap(), "the count did not go negative");
}
