//! A PostgreSQL server of a test's own (its own data directory and port), that the
//! test may restart to play out a database outage without touching the shared one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::{sleep, Instant};

/// A private PostgreSQL on 127.0.0.1, stopped (immediately) when dropped.
pub struct OwnedPostgres {
    pub port: u16,
    bin: PathBuf,
    data: tempfile::TempDir,
}

/// The newest installed server's programs (`initdb`, `pg_ctl`).
fn server_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    found.pop()
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// PostgreSQL refuses to run as root: then its programs run as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address").port()
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

impl OwnedPostgres {
    /// Creates and starts one; None (after SKIPPED) when PostgreSQL's server programs
    /// are not installed and not required.
    pub async fn start() -> Option<Self> {
        match Self::create() {
            Ok(server) => match server.start_server().await {
                Ok(()) => Some(server),
                Err(error) => crate::services::skip_or_fail("a PostgreSQL of the test's own", error),
            },
            Err(error) => crate::services::skip_or_fail("PostgreSQL server programs (initdb, pg_ctl)", error),
        }
    }

    fn create() -> Result<Self, String> {
        let bin = server_bin_dir().ok_or("no initdb under /usr/lib/postgresql")?;
        let data = tempfile::Builder::new().prefix("chitchat-pg-").tempdir().map_err(|e| e.to_string())?;
        if running_as_root() {
            run(
                {
                    let mut chown = Command::new("chown");
                    chown.args(["-R", "postgres:postgres"]).arg(data.path());
                    chown
                },
                "chown",
            )?;
        }
        let mut initdb = as_server_user(&bin.join("initdb"));
        initdb.args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"]).arg(data.path().join("db"));
        run(initdb, "initdb")?;
        Ok(Self { port: free_port(), bin, data })
    }

    /// `postgres://` URL of the `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_server_user(&self.bin.join("pg_ctl"));
        command.arg("-D").arg(self.data.path().join("db")).args(args);
        command
    }

    async fn start_server(&self) -> Result<(), String> {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.data.path().display());
        let log = self.data.path().join("server.log");
        let mut start = self.pg_ctl(&["-w", "-t", "30", "-o", &options, "-l"]);
        start.arg(&log).arg("start");
        run(start, "pg_ctl start")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!("PostgreSQL did not listen on port {}", self.port));
            }
            sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Stops the server as an operator's restart does (`-m fast`: connections are
    /// cut, nothing committed is lost).
    pub async fn stop(&self) {
        run(self.pg_ctl(&["-w", "-m", "fast", "stop"]), "pg_ctl stop").expect("PostgreSQL stops");
    }

    /// Starts it again on the same port, with the same data.
    pub async fn restart(&self) {
        self.start_server().await.expect("PostgreSQL starts again");
    }
}

impl Drop for OwnedPostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}
