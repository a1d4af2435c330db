//! The peer servers ChitChat is compared with, installed outside the workspace by
//! `crates/bench/peers/install.sh`: Synapse (Matrix) and ejabberd (XMPP). Each is
//! started here with a configuration of its own on a free loopback port, in a
//! scratch folder removed when it stops, and is talked to through the same two
//! halves as ChitChat: for each of the two people, an `Outbox` that sends their
//! messages to the other and an `Inbox` that hands over what the other sent them.

pub mod ejabberd;
pub mod synapse;

use anyhow::{Context, Result};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// What `install.sh` installs into: `CHITCHAT_BENCH_CACHE`, or `~/.cache/chitchat-bench`.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CHITCHAT_BENCH_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache/chitchat-bench"))
}

/// A scratch folder of its own for a peer server's files.
pub fn scratch_dir(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("chitchat-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A loopback port nobody listens on now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Sends one person's messages; several sends may be on their way at once.
pub trait Outbox: Send + Sync + 'static {
    fn send(&self, content: String) -> impl Future<Output = Result<()>> + Send;
}

/// The other person's side: waits for messages and hands over their contents.
pub trait Inbox: Send + 'static {
    fn next(&mut self) -> impl Future<Output = Result<Vec<String>>> + Send;
}

/// One of the two people: what they send and what they receive.
pub struct Person<O, I> {
    pub outbox: O,
    pub inbox: I,
}

/// Frames message `number` with its content for the wire.
type Framing = Box<dyn Fn(u64, &str) -> String + Send + Sync>;

/// An outbox that queues frames for a writer task of one connection (a WebSocket),
/// each message framed by `frame` with a number of its own.
pub struct Queued {
    frames: mpsc::UnboundedSender<String>,
    next: AtomicU64,
    frame: Framing,
}

impl Queued {
    pub fn new(
        frames: mpsc::UnboundedSender<String>,
        frame: impl Fn(u64, &str) -> String + Send + Sync + 'static,
    ) -> Self {
        Self { frames, next: AtomicU64::new(0), frame: Box::new(frame) }
    }
}

impl Outbox for Queued {
    async fn send(&self, content: String) -> Result<()> {
        let number = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.frames
            .send((self.frame)(number, &content))
            .map_err(|_| anyhow::anyhow!("the connection's writer has stopped"))
    }
}
