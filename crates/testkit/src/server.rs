//! Starts the real `chitchat` binary as a child process on port 0 with a fresh
//! database, and stops it when dropped.

use crate::services::{fresh_postgres_database, reachable_redis};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// The one-time code every test server accepts.
pub const TEST_OTP_CODE: &str = "123456";
const LISTENING: &str = "chitchat listening on http://";
// Every request writes an access line: enough for a test's whole run.
const KEPT_LOG_LINES: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A running server. Its data directory (and SQLite file) lives as long as it does.
pub struct TestServer {
    pub base_url: String,
    pub database_url: String,
    child: Option<Child>,
    data_dir: Arc<tempfile::TempDir>,
    binary: PathBuf,
    log: Arc<Mutex<VecDeque<String>>>,
    extra_env: Vec<(String, String)>,
}

impl TestServer {
    /// Starts the binary on a fresh database of `backend`; None when that backend's
    /// service is unavailable and not required (SKIPPED was printed).
    pub async fn start(binary: impl AsRef<Path>, backend: TestBackend) -> Option<Self> {
        Self::start_with_env(binary, backend, &[]).await
    }

    pub async fn start_with_env(binary: impl AsRef<Path>, backend: TestBackend, env: &[(&str, &str)]) -> Option<Self> {
        let data_dir = Arc::new(tempfile::tempdir().expect("temporary data directory"));
        let database_url = match backend {
            TestBackend::Sqlite => format!("sqlite://{}", data_dir.path().join("chitchat.db").display()),
            TestBackend::Postgres => fresh_postgres_database().await?,
        };
        Some(Self::launch_new(binary.as_ref(), data_dir, database_url, env).await)
    }

    /// Starts the binary on the database at `database_url` (a server of the test's
    /// own, say), which it migrates like any other.
    pub async fn start_on_database(binary: impl AsRef<Path>, database_url: String, env: &[(&str, &str)]) -> Self {
        let data_dir = Arc::new(tempfile::tempdir().expect("temporary data directory"));
        Self::launch_new(binary.as_ref(), data_dir, database_url, env).await
    }

    /// Starts `instances` servers as one deployment: one fresh PostgreSQL database,
    /// one Redis channel of their own, one signing secret. None when PostgreSQL or
    /// Redis is unavailable and not required (SKIPPED was printed).
    pub async fn start_cluster(binary: impl AsRef<Path>, instances: usize, env: &[(&str, &str)]) -> Option<Vec<Self>> {
        let redis_url = reachable_redis().await?;
        Self::start_cluster_on(binary, instances, &redis_url, env).await
    }

    /// Like `start_cluster`, on the Redis at `redis_url`.
    pub async fn start_cluster_on(
        binary: impl AsRef<Path>,
        instances: usize,
        redis_url: &str,
        extra_env: &[(&str, &str)],
    ) -> Option<Vec<Self>> {
        let database_url = fresh_postgres_database().await?;
        let channel = format!("chitchat:test:{}", uuid::Uuid::new_v4().simple());
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        // Instances share their secrets, as an operator's do.
        let vapid = crate::push_service::new_vapid_private_key();
        let mut env = vec![
            ("REDIS_URL", redis_url),
            ("REDIS_CHANNEL", channel.as_str()),
            ("JWT_SECRET", secret.as_str()),
            ("VAPID_PRIVATE_KEY", vapid.as_str()),
            ("VAPID_SUBJECT", "mailto:ops@chitchat.test"),
        ];
        env.extend_from_slice(extra_env);
        let mut servers = Vec::with_capacity(instances);
        for _ in 0..instances {
            let data_dir = Arc::new(tempfile::tempdir().expect("temporary data directory"));
            servers.push(Self::launch_new(binary.as_ref(), data_dir, database_url.clone(), &env).await);
        }
        Some(servers)
    }

    async fn launch_new(
        binary: &Path,
        data_dir: Arc<tempfile::TempDir>,
        database_url: String,
        env: &[(&str, &str)],
    ) -> Self {
        let mut server = Self {
            base_url: String::new(),
            database_url,
            child: None,
            data_dir,
            binary: binary.to_owned(),
            log: Arc::default(),
            extra_env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        let mut command = Command::new(&self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("ENV", "development")
            .env("OTP_FIXED_CODE", TEST_OTP_CODE)
            .env("DATABASE_URL", &self.database_url)
            .env("DATA_DIR", self.data_dir.path())
            .env("RUST_LOG", "info")
            // Tests send in bursts; the limit itself has a test of its own.
            .env("RATE_LIMIT_REQUESTS_PER_MINUTE", "1000000")
            .env("RATE_LIMIT_BURST", "1000000")
            .env("OTP_RESEND_COOLDOWN", "0s")
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.data_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        drain(child.stdout.take().expect("stdout piped"), self.log.clone(), Some(tx));
        drain(child.stderr.take().expect("stderr piped"), self.log.clone(), None);
        let started = tokio::time::timeout(Duration::from_secs(60), rx).await;
        match started {
            Ok(Ok(url)) => self.base_url = url,
            _ => panic!("chitchat did not start; its output:\n{}", self.log_text()),
        }
        self.child = Some(child);
    }

    /// Stops the process (SIGKILL) and starts it again on the same data.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// Asks the process to stop (SIGTERM) and waits up to `wait` for it to exit;
    /// returns its exit status, or None when it did not exit in time (then it is killed).
    pub async fn terminate(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let pid = child.id()?.to_string();
        let signalled = Command::new("kill").args(["-TERM", &pid]).status().await.is_ok_and(|s| s.success());
        assert!(signalled, "kill -TERM {pid}");
        match tokio::time::timeout(wait, child.wait()).await {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = child.kill().await;
                None
            }
        }
    }

    /// Starts the process again on the same data after `terminate` or `stop`.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "still running");
        self.launch().await;
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// The process id of the running server (for reading its memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The server's `DATA_DIR` (its SQLite file, its attachments directory).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// `ws://host:port` of this server.
    pub fn ws_url(&self) -> String {
        self.base_url.replacen("http://", "ws://", 1)
    }

    /// What the server printed recently, for failure messages.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n")).unwrap_or_default()
    }

    /// The variables an operator's command (`chitchat admin ...`) needs to act on
    /// this server's deployment: its database, data directory, Redis and secrets.
    pub fn command_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("ENV".to_owned(), "development".to_owned()),
            ("DATABASE_URL".to_owned(), self.database_url.clone()),
            ("DATA_DIR".to_owned(), self.data_dir.path().display().to_string()),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    pub fn client(&self) -> crate::ApiClient {
        crate::ApiClient::new(&self.base_url, &self.ws_url())
    }
}

fn drain<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    log: Arc<Mutex<VecDeque<String>>>,
    mut listening: Option<tokio::sync::oneshot::Sender<String>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix(LISTENING) {
                if let Some(tx) = listening.take() {
                    let _ = tx.send(format!("http://{}", rest.trim()));
                }
            }
            if let Ok(mut log) = log.lock() {
                if log.len() == KEPT_LOG_LINES {
                    log.pop_front();
                }
                log.push_back(line);
            }
        }
    });
}
