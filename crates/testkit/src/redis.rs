//! A `redis-server` of a test's own, on a free port, that the test may stop and
//! start again to play out an outage.

use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};

/// A private Redis on 127.0.0.1; killed when dropped.
pub struct OwnedRedis {
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address").port()
}

impl OwnedRedis {
    /// Starts one; None (after SKIPPED) when `redis-server` is not installed and not required.
    pub async fn start() -> Option<Self> {
        let mut redis = Self { port: free_port(), child: None };
        match redis.spawn().await {
            Ok(()) => Some(redis),
            Err(error) => crate::services::skip_or_fail("redis-server (installed, on PATH)", error),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process, for signals (STOP/CONT) that freeze it without closing connections.
    pub fn child(&self) -> &Child {
        self.child.as_ref().expect("redis-server is running")
    }

    /// Kills the server (an outage).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.spawn().await.expect("redis-server starts again");
    }

    async fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start listening on port {}", self.port);
            sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}
