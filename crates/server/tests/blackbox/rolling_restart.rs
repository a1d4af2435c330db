//! Black-box: a rolling restart of two instances on PostgreSQL + Redis while
//! people on both keep sending and receiving over WebSockets. Each instance in
//! turn gets SIGTERM and is started again: its devices are told to reconnect
//! (close code 1012), move to the other instance, resend what was not
//! acknowledged and resume. Afterwards every acknowledged message is stored
//! exactly once, and every member's device holds every message of its chats
//! exactly once, in order.

use crate::support;
use chitchat_testkit::{SocketEnd, TestServer};
use std::time::{Duration, Instant};
use support::roaming::{wait_for_progress, Device, FourRoaming};

/// "Service restart": reconnect (to another instance) and resume.
const CLOSE_RESTART: u16 = 1012;
/// Messages each device gets acknowledged between two steps of the restart, so
/// that every step happens under traffic from every device.
const ACKS_PER_STEP: usize = 15;

/// SIGTERM to `server` while the devices run; returns how long it took to exit.
async fn terminate(server: &mut TestServer) -> Duration {
    let started = Instant::now();
    let status = server.terminate(Duration::from_secs(15)).await;
    assert!(status.expect("exits within the shutdown timeout").success(), "a clean exit");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_loses_nothing_acknowledged_and_repeats_nothing() {
    let Some(mut servers) = TestServer::start_cluster(support::BINARY, 2, &[]).await else { return };
    let started = Instant::now();
    let mut people = FourRoaming::start(&servers, "Rollout").await;
    let progress = people.progress.clone();
    wait_for_progress(&progress, ACKS_PER_STEP).await;

    // A stops: its devices move to B. B stops: everyone moves to A.
    let mut shutdowns = Vec::new();
    for stopping in [0, 1] {
        shutdowns.push(terminate(&mut servers[stopping]).await);
        wait_for_progress(&progress, ACKS_PER_STEP).await;
        servers[stopping].start_again().await;
        people.directory.lock().unwrap()[stopping] = servers[stopping].client();
        wait_for_progress(&progress, ACKS_PER_STEP).await;
    }
    let mut devices = people.stop().await;

    // Each device was told to reconnect once per stop of the instance it was on:
    // Asha and Meena by A and then by B, Ravi and Kiran by B.
    let restart = SocketEnd::Closed(Some(CLOSE_RESTART));
    for device in &devices {
        let ends: Vec<SocketEnd> = device.ends.iter().map(|(end, _)| *end).collect();
        let expected = if ["asha", "meena"].contains(&device.name) { vec![restart; 2] } else { vec![restart] };
        assert_eq!(ends, expected, "{}: how its connections ended", device.name);
    }

    // What everyone sent has reached every device, after a last resume.
    let acknowledged = people.check(&mut devices).await;

    let longest_gap = devices.iter().map(Device::longest_gap).max().unwrap();
    let resent: usize = devices.iter().map(|d| d.resent).sum();
    println!(
        "rolling restart: {acknowledged} messages acknowledged by 4 devices in {:.1} s ({resent} resent after \
         their connection closed); SIGTERM to exit {:?} and {:?}; longest time from a 1012 close to the next \
         acknowledgement {:?}",
        started.elapsed().as_secs_f64(),
        shutdowns[0],
        shutdowns[1],
        longest_gap,
    );
}
