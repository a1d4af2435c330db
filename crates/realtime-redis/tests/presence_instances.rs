//! Presence shared by several instances on one Redis: devices on different
//! instances, instances racing on one user, an instance that crashes, and an
//! outage of Redis itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chitchat_domain::ports::PresenceTracker;
use chitchat_domain::{DomainResult, SessionId, UserId};
use chitchat_realtime_redis::{RedisPresence, RedisPresenceConfig, RedisRelayConfig};
use chitchat_testkit::redis::OwnedRedis;
use chitchat_testkit::services::{skip_or_fail, test_redis_url};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant};

/// Short, so that a crashed instance is noticed quickly.
const TTL: Duration = Duration::from_secs(1);
/// Generous: how long a lapse, a sweep or a heal may take before the test fails.
const WITHIN: Duration = Duration::from_secs(15);

/// The settings of a deployment of its own (a fresh key prefix) on `url`.
fn deployment(url: String) -> RedisPresenceConfig {
    RedisPresenceConfig {
        prefix: format!("chitchat:test:{}", uuid::Uuid::new_v4().simple()),
        ..RedisPresenceConfig::new(RedisRelayConfig::new(url), TTL)
    }
}

/// `n` instances of one fresh deployment on the shared test Redis, or None (after
/// SKIPPED) when it is unreachable and not required.
async fn instances(n: usize) -> Option<Vec<RedisPresence>> {
    let config = deployment(test_redis_url());
    let mut all = Vec::new();
    for _ in 0..n {
        match RedisPresence::connect(config.clone()).await {
            Ok(presence) => all.push(presence),
            Err(error) => return skip_or_fail("Redis (TEST_REDIS_URL)", error),
        }
    }
    Some(all)
}

async fn online(p: &RedisPresence, users: &[UserId]) -> Vec<UserId> {
    let mut online = p.online(users).await.unwrap();
    online.sort();
    online
}

fn sorted<T: Ord>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort();
    ids
}

/// Calls `check` every 100 ms until it holds; fails after `WITHIN`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WITHIN;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {WITHIN:?}: {what}");
        sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `op` on both instances at once, each on a task of its own.
async fn at_once<F, Fut>(a: &Arc<RedisPresence>, b: &Arc<RedisPresence>, op: F) -> (bool, bool)
where
    F: Fn(Arc<RedisPresence>) -> Fut,
    Fut: std::future::Future<Output = DomainResult<bool>> + Send + 'static,
{
    let first = tokio::spawn(op(a.clone()));
    let second = tokio::spawn(op(b.clone()));
    (first.await.unwrap().unwrap(), second.await.unwrap().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_a_device_on_each_instance_is_online_until_both_leave() {
    let Some(instances) = instances(2).await else { return };
    let [a, b] = <[RedisPresence; 2]>::try_from(instances).ok().unwrap();
    let (user, on_a, on_b) = (UserId::new(), SessionId::new(), SessionId::new());

    assert!(a.connected(user, on_a).await.unwrap(), "first device anywhere: now online");
    assert!(!b.connected(user, on_b).await.unwrap(), "already online through the other instance");
    assert_eq!(online(&a, &[user]).await, vec![user]);
    assert_eq!(online(&b, &[user]).await, vec![user]);

    assert!(!a.disconnected(user, on_a).await.unwrap(), "the device on b is still there");
    assert_eq!(online(&a, &[user]).await, vec![user], "seen from the instance it left");
    assert!(!a.disconnected(user, on_a).await.unwrap(), "a has no device of the user left to remove");
    assert!(b.disconnected(user, on_b).await.unwrap(), "the last device anywhere");
    assert!(online(&a, &[user]).await.is_empty());
    assert!(online(&b, &[user]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_racing_on_one_user_announce_once() {
    let Some(instances) = instances(2).await else { return };
    let [a, b] = <[RedisPresence; 2]>::try_from(instances).ok().unwrap().map(Arc::new);
    for round in 0..100 {
        let (user, session) = (UserId::new(), SessionId::new());
        let (on_a, on_b) = at_once(&a, &b, move |p| async move { p.connected(user, session).await }).await;
        assert!(on_a ^ on_b, "round {round}: exactly one instance saw the user come online ({on_a}, {on_b})");
        let (off_a, off_b) = at_once(&a, &b, move |p| async move { p.disconnected(user, session).await }).await;
        assert!(off_a ^ off_b, "round {round}: exactly one instance saw the user go offline ({off_a}, {off_b})");
    }
}

/// Both survivors sweep at once; what they return, together.
async fn sweep(b: &RedisPresence, c: &RedisPresence) -> Vec<UserId> {
    let (from_b, from_c) = tokio::join!(b.expire_dead_instances(), c.expire_dead_instances());
    let mut returned = from_b.unwrap();
    returned.extend(from_c.unwrap());
    returned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_instances_users_go_offline_once_and_others_stay() {
    let Some(instances) = instances(4).await else { return };
    let [crashing, also_crashing, b, c] = <[RedisPresence; 4]>::try_from(instances).ok().unwrap();
    let [only_crashed, twice_crashed, on_both_crashed, also_live, only_live] = [(); 5].map(|()| UserId::new());
    for user in [only_crashed, twice_crashed, twice_crashed, on_both_crashed, also_live] {
        crashing.connected(user, SessionId::new()).await.unwrap();
    }
    also_crashing.connected(on_both_crashed, SessionId::new()).await.unwrap();
    let also_live_here = SessionId::new();
    b.connected(also_live, also_live_here).await.unwrap();
    c.connected(only_live, SessionId::new()).await.unwrap();
    let everyone = [only_crashed, twice_crashed, on_both_crashed, also_live, only_live];
    assert_eq!(online(&b, &everyone).await, sorted(everyone.to_vec()));
    assert!(sweep(&b, &c).await.is_empty(), "nobody has died yet");

    // A crash: the instances stop refreshing without letting any device go.
    drop(crashing);
    drop(also_crashing);

    // The survivors sweep at the same time, again and again, until the TTLs have
    // lapsed and the dead instances have been claimed; then some more, to catch repeats.
    let gone = sorted(vec![only_crashed, twice_crashed, on_both_crashed]);
    let mut returned = Vec::new();
    let deadline = Instant::now() + WITHIN;
    while sorted(returned.clone()) != gone {
        assert!(Instant::now() < deadline, "not expired within {WITHIN:?}; returned so far: {returned:?}");
        returned.extend(sweep(&b, &c).await);
        sleep(Duration::from_millis(50)).await;
    }
    sleep(TTL).await;
    for _ in 0..5 {
        returned.extend(sweep(&b, &c).await);
    }
    assert_eq!(sorted(returned), gone, "each user of the dead instances, once");
    assert_eq!(online(&b, &everyone).await, sorted(vec![also_live, only_live]));
    assert_eq!(online(&c, &everyone).await, sorted(vec![also_live, only_live]));

    // What the dead instances held is gone: the users come back as new.
    assert!(b.connected(only_crashed, SessionId::new()).await.unwrap(), "offline until a device comes back");
    assert!(b.disconnected(also_live, also_live_here).await.unwrap(), "the dead instance's device no longer counts");
}

/// Through a Redis outage (the server killed and started again, empty): updates
/// fail within a bounded time, and once Redis is back each instance rewrites its
/// devices from memory, so the counts are right again without any device reconnecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_heal_after_redis_loses_everything() {
    let Some(mut server) = OwnedRedis::start().await else { return };
    let config = deployment(server.url());
    let a = RedisPresence::connect(config.clone()).await.unwrap();
    let b = RedisPresence::connect(config).await.unwrap();
    let (stays, leaves_during, joins_during) = (UserId::new(), UserId::new(), UserId::new());
    let [stays_in, leaves_from, joins_in] = [(); 3].map(|()| SessionId::new());
    a.connected(stays, stays_in).await.unwrap();
    a.connected(leaves_during, leaves_from).await.unwrap();

    server.stop().await;
    let joined = timeout(WITHIN, a.connected(joins_during, joins_in)).await.expect("gives up instead of hanging");
    assert!(joined.is_err(), "connected reports the outage: {joined:?}");
    let left = timeout(WITHIN, a.disconnected(leaves_during, leaves_from)).await.expect("gives up instead of hanging");
    assert!(left.is_err(), "disconnected reports the outage: {left:?}");
    assert!(timeout(WITHIN, b.online(&[stays])).await.expect("gives up instead of hanging").is_err());

    server.restart().await;
    let everyone = [stays, leaves_during, joins_during];
    eventually("b sees a's devices as they are now", || async {
        b.online(&everyone).await.is_ok_and(|online| sorted(online) == sorted(vec![stays, joins_during]))
    })
    .await;
    let sessions = [stays_in, leaves_from, joins_in];
    assert_eq!(
        sorted(b.connected_sessions(&sessions).await.unwrap()),
        sorted(vec![stays_in, joins_in]),
        "the sessions rewritten too"
    );
    assert!(a.disconnected(joins_during, joins_in).await.unwrap(), "counted once, though announced during the outage");
    assert!(a.disconnected(stays, stays_in).await.unwrap());
    assert!(b.online(&everyone).await.unwrap().is_empty());
    assert!(b.connected_sessions(&sessions).await.unwrap().is_empty(), "each session counted once");
}

/// A Redis that freezes (a command sent before the freeze may still run after it):
/// the update that timed out is neither lost nor counted twice once it thaws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_update_does_not_leave_a_count_behind() {
    let Some(server) = OwnedRedis::start().await else { return };
    let a = RedisPresence::connect(deployment(server.url())).await.unwrap();
    let (user, session) = (UserId::new(), SessionId::new());
    let pid = server.child().id().expect("the server is running").to_string();
    let signal = |name: &'static str| {
        let pid = pid.clone();
        async move {
            let status = tokio::process::Command::new("kill").args([name, &pid]).status().await.unwrap();
            assert!(status.success(), "kill {name} {pid}");
        }
    };

    signal("-STOP").await;
    let joined = timeout(WITHIN, a.connected(user, session)).await.expect("gives up instead of hanging");
    assert!(joined.is_err(), "a frozen Redis is an outage: {joined:?}");
    signal("-CONT").await;

    eventually("the device reaches Redis", || async { a.online(&[user]).await.is_ok_and(|o| o == vec![user]) }).await;
    // Past the next refresh, which rewrites the count whatever ran late.
    sleep(TTL).await;
    assert!(a.disconnected(user, session).await.unwrap(), "one device, counted once");
    assert!(a.online(&[user]).await.unwrap().is_empty());
}
