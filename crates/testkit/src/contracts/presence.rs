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

/// Many devices of one user connecting at once bring them online once, and
/// leaving at once take them offline once.
pub async fn presence_concurrent_devices_announce_once<P: PresenceTracker>(p: P) {
    const DEVICES: usize = 16;
    let user = UserId::new();
    let connects = futures_util::future::join_all((0..DEVICES).map(|_| p.connected(user))).await;
    let online: Vec<bool> = connects.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(online.iter().filter(|b| **b).count(), 1, "exactly one device brought the user online: {online:?}");
    let leaves = futures_util::future::join_all((0..DEVICES).map(|_| p.disconnected(user))).await;
    let offline: Vec<bool> = leaves.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(offline.iter().filter(|b| **b).count(), 1, "exactly one device took the user offline: {offline:?}");
    assert!(p.online(&[user]).await.unwrap().is_empty());
}

/// On a healthy tracker, expiring dead instances takes nobody offline.
pub async fn presence_expiry_spares_the_living<P: PresenceTracker>(p: P) {
    let user = UserId::new();
    p.connected(user).await.unwrap();
    assert!(p.expire_dead_instances().await.unwrap().is_empty(), "no instance died");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert!(p.disconnected(user).await.unwrap(), "still counted once");
}
