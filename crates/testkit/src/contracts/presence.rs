//! The presence tracker contract: every implementation (in-process, Redis) must pass these;
//! trackers shared by several instances also pass the cases on `Instances`.

use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::{SessionId, UserId};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// How long a dead instance may take to be noticed and expired before a case fails.
const EXPIRY_WITHIN: Duration = Duration::from_secs(15);

pub async fn presence_first_device_brings_a_user_online_and_the_last_takes_them_off<P: PresenceTracker>(p: P) {
    let (user, phone, laptop) = (UserId::new(), SessionId::new(), SessionId::new());
    assert!(p.connected(user, phone).await.unwrap(), "first device: now online");
    assert!(!p.connected(user, laptop).await.unwrap(), "second device: already online");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert!(!p.disconnected(user, phone).await.unwrap(), "one device still connected");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert!(p.disconnected(user, laptop).await.unwrap(), "last device: now offline");
    assert!(p.online(&[user]).await.unwrap().is_empty());
}

pub async fn presence_is_per_user<P: PresenceTracker>(p: P) {
    let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
    p.connected(a, SessionId::new()).await.unwrap();
    p.connected(c, SessionId::new()).await.unwrap();
    let mut online = p.online(&[a, b, c]).await.unwrap();
    online.sort();
    let mut expected = vec![a, c];
    expected.sort();
    assert_eq!(online, expected);
    assert!(p.online(&[]).await.unwrap().is_empty());
}

pub async fn presence_ignores_a_disconnect_without_a_connect<P: PresenceTracker>(p: P) {
    let (user, session) = (UserId::new(), SessionId::new());
    assert!(!p.disconnected(user, session).await.unwrap(), "nothing to take offline");
    assert!(p.connected_sessions(&[session]).await.unwrap().is_empty());
    assert!(p.connected(user, session).await.unwrap(), "the count did not go negative");
    assert_eq!(p.connected_sessions(&[session]).await.unwrap(), vec![session]);
}

/// Many devices of one user connecting at once bring them online once, and
/// leaving at once take them offline once.
pub async fn presence_concurrent_devices_announce_once<P: PresenceTracker>(p: P) {
    const DEVICES: usize = 16;
    let user = UserId::new();
    let sessions: Vec<SessionId> = (0..DEVICES).map(|_| SessionId::new()).collect();
    let connects = futures_util::future::join_all(sessions.iter().map(|s| p.connected(user, *s))).await;
    let online: Vec<bool> = connects.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(online.iter().filter(|b| **b).count(), 1, "exactly one device brought the user online: {online:?}");
    let leaves = futures_util::future::join_all(sessions.iter().map(|s| p.disconnected(user, *s))).await;
    let offline: Vec<bool> = leaves.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(offline.iter().filter(|b| **b).count(), 1, "exactly one device took the user offline: {offline:?}");
    assert!(p.online(&[user]).await.unwrap().is_empty());
    assert!(p.connected_sessions(&sessions).await.unwrap().is_empty());
}

/// On a healthy tracker, expiring dead instances takes nobody offline.
pub async fn presence_expiry_spares_the_living<P: PresenceTracker>(p: P) {
    let (user, session) = (UserId::new(), SessionId::new());
    p.connected(user, session).await.unwrap();
    assert!(p.expire_dead_instances().await.unwrap().is_empty(), "no instance died");
    assert_eq!(p.online(&[user]).await.unwrap(), vec![user]);
    assert_eq!(p.connected_sessions(&[session]).await.unwrap(), vec![session]);
    assert!(p.disconnected(user, session).await.unwrap(), "still counted once");
}

/// A session with a socket open is connected; the user's other sessions, and
/// sessions never seen, are not.
pub async fn presence_a_session_with_an_open_socket_is_connected<P: PresenceTracker>(p: P) {
    let user = UserId::new();
    let (open, other_device, unknown) = (SessionId::new(), SessionId::new(), SessionId::new());
    p.connected(user, open).await.unwrap();
    p.connected(user, other_device).await.unwrap();
    p.disconnected(user, other_device).await.unwrap();
    assert_eq!(p.connected_sessions(&[unknown, open, other_device]).await.unwrap(), vec![open]);
    assert!(p.connected_sessions(&[]).await.unwrap().is_empty());
}

/// Two tabs of one browser share a session: it stays connected until both close.
pub async fn presence_a_session_stays_connected_until_its_last_socket_closes<P: PresenceTracker>(p: P) {
    let (user, browser) = (UserId::new(), SessionId::new());
    assert!(p.connected(user, browser).await.unwrap(), "first tab: the user comes online");
    assert!(!p.connected(user, browser).await.unwrap(), "second tab: already online");
    assert!(!p.disconnected(user, browser).await.unwrap(), "one tab still open");
    assert_eq!(p.connected_sessions(&[browser]).await.unwrap(), vec![browser], "one tab still open");
    assert!(p.disconnected(user, browser).await.unwrap(), "last tab: the user goes offline");
    assert!(p.connected_sessions(&[browser]).await.unwrap().is_empty(), "both tabs closed");
}

/// Two instances of one deployment of a shared tracker. Dropping `there` must stop
/// it as a crash would: its sockets are never let go, only expired.
pub struct Instances<P> {
    pub here: P,
    pub there: P,
}

/// A session with a socket on another instance is connected while that instance
/// lives, and no longer once the instance died and was expired; sessions on the
/// surviving instance stay connected.
pub async fn presence_a_session_counts_while_its_instance_lives<P: PresenceTracker>(instances: Instances<P>) {
    let Instances { here, there } = instances;
    let (user, on_there, on_here) = (UserId::new(), SessionId::new(), SessionId::new());
    there.connected(user, on_there).await.unwrap();
    here.connected(UserId::new(), on_here).await.unwrap();
    assert_eq!(here.connected_sessions(&[on_there]).await.unwrap(), vec![on_there], "seen from the other instance");
    assert_eq!(there.connected_sessions(&[on_there]).await.unwrap(), vec![on_there]);

    drop(there);
    let deadline = Instant::now() + EXPIRY_WITHIN;
    while !here.expire_dead_instances().await.unwrap().contains(&user) {
        assert!(Instant::now() < deadline, "the dead instance was not expired within {EXPIRY_WITHIN:?}");
        sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        here.connected_sessions(&[on_there, on_here]).await.unwrap(),
        vec![on_here],
        "only the session on the living instance"
    );
}
