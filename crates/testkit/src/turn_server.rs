//! A real TURN server for black-box and browser tests: coturn (`turnserver`,
//! Debian's `coturn`) on a free port of 127.0.0.1, set up as an operator sets it
//! up for ChitChat (`use-auth-secret` with a `static-auth-secret`), from a
//! configuration file of its own and nothing from /etc. `relay` proves a login
//! with coturn's own client, `turnutils_uclient`. Without coturn a test prints
//! SKIPPED, or fails when `CHITCHAT_REQUIRE_SERVICES=1`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const WHAT: &str = "a TURN server (coturn's turnserver)";

/// The TURN server; it stops when dropped.
pub struct TurnServer {
    port: u16,
    secret: String,
    dir: tempfile::TempDir,
    child: Child,
}

/// What `turnutils_uclient` made of a login.
#[derive(Debug)]
pub struct RelayAttempt {
    /// The login allocated relays and packets came back through them.
    pub relayed: bool,
    /// The client's output, for failure messages.
    pub output: String,
}

/// A port free for both UDP and TCP on 127.0.0.1 (TURN listens on both).
fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("a free UDP port on 127.0.0.1");
        let port = udp.local_addr().expect("bound port").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl TurnServer {
    /// The realm the server names in its challenges.
    pub const REALM: &'static str = "chitchat.test";

    /// Starts coturn; None (after printing SKIPPED) when it is missing and
    /// services are not required.
    pub async fn start() -> Option<TurnServer> {
        let dir = tempfile::tempdir().expect("temporary directory for coturn");
        let port = free_port();
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let config = dir.path().join("turnserver.conf");
        let log = dir.path().join("turn.log");
        let lines = [
            format!("listening-port={port}"),
            "listening-ip=127.0.0.1".to_owned(),
            "relay-ip=127.0.0.1".to_owned(),
            // The peers of the tests are on this machine too.
            "allow-loopback-peers".to_owned(),
            "use-auth-secret".to_owned(),
            format!("static-auth-secret={secret}"),
            format!("realm={}", Self::REALM),
            "fingerprint".to_owned(),
            "no-tls".to_owned(),
            "no-dtls".to_owned(),
            "no-cli".to_owned(),
            format!("userdb={}", dir.path().join("turndb").display()),
            format!("pidfile={}", dir.path().join("turnserver.pid").display()),
            format!("log-file={}", log.display()),
            "simple-log".to_owned(),
            "no-stdout-log".to_owned(),
        ];
        std::fs::write(&config, lines.join("\n") + "\n").expect("coturn configuration written");
        let child = match launch(&config, port, &log).await {
            Ok(child) => child,
            Err(why) => return crate::services::skip_or_fail(WHAT, why),
        };
        Some(TurnServer { port, secret, dir, child })
    }

    /// Kills coturn and starts it again on the same port and secret, as a
    /// supervisor restarts a crashed daemon: every allocation it held is gone.
    pub async fn restart(&mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        let (config, log) = (self.dir.path().join("turnserver.conf"), self.log_file());
        self.child =
            launch(&config, self.port, &log).await.unwrap_or_else(|why| panic!("coturn did not restart: {why}"));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its `static-auth-secret`: `TURN_SECRET` for a ChitChat that hands out its logins.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Its URL over UDP, for `TURN_URLS`.
    pub fn udp_url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }

    /// coturn's log (refused logins are named there).
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("turn.log")
    }

    /// Logs in with `username` and `credential` through `turnutils_uclient -y`:
    /// two clients each allocate a relay and send to each other through them.
    pub async fn relay(&self, username: &str, credential: &str) -> RelayAttempt {
        let port = self.port.to_string();
        let run = Command::new("turnutils_uclient")
            .args(["-y", "-n", "2", "-m", "1", "-p", &port, "-u", username, "-w", credential, "127.0.0.1"])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = match tokio::time::timeout(Duration::from_secs(30), run).await {
            Ok(Ok(output)) => output,
            Ok(Err(error)) => panic!("turnutils_uclient (from coturn) does not run: {error}"),
            Err(_) => return RelayAttempt { relayed: false, output: "turnutils_uclient ran for 30 s".to_owned() },
        };
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let relayed = output.status.success() && received(&printed) > 0;
        RelayAttempt { relayed, output: printed }
    }
}

/// The packets that came back through the relays, from the client's summary
/// (`start_mclient: tot_send_msgs=4, tot_recv_msgs=4`).
fn received(output: &str) -> u64 {
    output
        .lines()
        .filter_map(|line| line.split("tot_recv_msgs=").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Starts `turnserver` from `config` and waits until it listens on `port`.
async fn launch(config: &std::path::Path, port: u16, log: &std::path::Path) -> Result<Child, String> {
    let mut child = Command::new("turnserver")
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| error.to_string())?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("it exited ({status}): {}", log.trim()));
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill().await;
            return Err("it did not listen in 20 s".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_received_packets_are_read_from_the_summary() {
        let output = "0: : Total connect time is 1\n\
                      3: : start_mclient: msz=4, tot_send_msgs=2, tot_recv_msgs=2, tot_send_bytes ~ 200\n\
                      4: : start_mclient: tot_send_msgs=4, tot_recv_msgs=4\n";
        assert_eq!(received(output), 4);
        assert_eq!(received("0: : ERROR: Cannot complete Allocation\n"), 0);
    }
}
